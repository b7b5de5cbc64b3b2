package dev.latent.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Slice} and {@link ZeroPad} against plain loops: both only move values, so forward and
 * backward must equal the reference bit for bit (no tolerance), for every provider, over random
 * widths and windows that touch either edge.
 */
class SliceZeroPadTest {

    static Stream<Arguments> cases() {
        return LayerVsReferenceTest.cases();
    }

    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("cases")
    void slicesAndPadsMoveValuesExactly(String provider, long seed) {
        Kernels k = KernelRegistry.load(provider);
        SplittableRandom r = new SplittableRandom(seed);
        int b = 1 + r.nextInt(5);
        int d = 1 + r.nextInt(40);
        int from = seed % 3 == 0 ? 0 : r.nextInt(d);
        int to = seed % 5 == 0 ? d : from + 1 + r.nextInt(d - from);
        int before = r.nextInt(7);
        int after = r.nextInt(7);
        String what = provider + " seed " + seed + ": B=" + b + " d=" + d + " slice [" + from + ", " + to + ") pad (" + before + ", " + after + ")";
        try (Workspace ws = new Workspace("slice-pad")) {
            float[] x = new float[b * d];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            Tensor xt = ws.of(x, b, d);
            int w = to - from;
            Slice slice = new Slice("slice", from, to);
            slice.build(new int[] {d}, b, k, null, ws);
            Tensor y = ws.allocate(b, w);
            slice.forward(xt, y, true);
            float[] want = new float[b * w];
            for (int s = 0; s < b; s++) {
                System.arraycopy(x, s * d + from, want, s * w, w);
            }
            assertArrayEquals(want, y.toArray(), what + ": slice forward");
            Tensor dx = ws.allocate(b, d);
            dx.fill(Float.NaN);
            slice.backward(xt, y, y, dx);
            float[] back = new float[b * d];
            for (int s = 0; s < b; s++) {
                System.arraycopy(want, s * w, back, s * d + from, w);
            }
            assertArrayEquals(back, dx.toArray(), what + ": slice backward (zeros outside the window, NaN overwritten)");

            ZeroPad pad = new ZeroPad("pad", before, after);
            pad.build(new int[] {d}, b, k, null, ws);
            int pw = before + d + after;
            Tensor p = ws.allocate(b, pw);
            p.fill(Float.NaN);
            pad.forward(xt, p, true);
            float[] padded = new float[b * pw];
            for (int s = 0; s < b; s++) {
                System.arraycopy(x, s * d, padded, s * pw + before, d);
            }
            assertArrayEquals(padded, p.toArray(), what + ": pad forward");
            Tensor dxp = ws.allocate(b, d);
            pad.backward(xt, p, p, dxp);
            assertArrayEquals(x, dxp.toArray(), what + ": pad backward");
        }
    }

    @Test
    void badWindowsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Slice("s", 3, 3));
        assertThrows(IllegalArgumentException.class, () -> new Slice("s", -1, 2));
        assertThrows(IllegalArgumentException.class, () -> new Slice("s", 0, 9).outputShape(new int[] {8}));
        assertThrows(IllegalArgumentException.class, () -> new ZeroPad("z", -1, 0));
        assertThrows(IllegalArgumentException.class, () -> new ZeroPad("z", 1, 1).outputShape(new int[] {2, 3}));
    }
}
