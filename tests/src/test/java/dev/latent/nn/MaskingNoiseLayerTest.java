package dev.latent.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.KernelCase;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.prop.Prop;
import dev.latent.prop.Shrinkable;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link MaskingNoise}: training zeroes round(fraction n) units of each sample, y = x * mask with a
 * 0/1 mask (exact both ways: products by 0 and 1); inference is the identity (exact). Also: the mask
 * holds only 0 and 1, with exactly round(fraction n) zeros per sample.
 */
class MaskingNoiseLayerTest implements LayerContract<MaskingNoiseLayerTest.Shape> {

    record Shape(int batch, int n, double fraction, boolean training) implements Shrinkable<Shape> {
        @Override
        public List<Shape> smaller() {
            List<Shape> out = new ArrayList<>();
            if (batch > 1) {
                out.add(new Shape(batch / 2, n, fraction, training));
            }
            if (n > 1) {
                out.add(new Shape(batch, n / 2, fraction, training));
            }
            return out;
        }

        @Override
        public String toString() {
            return "masking noise fraction=" + fraction + " " + Tensor.format(batch, n) + (training ? " training" : " inference");
        }
    }

    @Override
    public String family() {
        return "maskingNoise";
    }

    @Override
    public List<Shape> edges() {
        return List.of(new Shape(1, 1, 0.3, true), new Shape(2, 10, 0, true), new Shape(2, 10, 1, true),
                new Shape(1, 4097, 0.5, true), new Shape(3, 7, 0.3, false));
    }

    @Override
    public Shape randomShape(SplittableRandom r) {
        return new Shape(LayerData.batch(r, 6), 1 + r.nextInt(60), new double[] {0, 0.1, 0.3, 0.5, 1}[r.nextInt(5)],
                r.nextInt(4) != 0);
    }

    @Override
    public LayerSubject setUp(Shape s, Kernels k, Workspace ws, SplittableRandom r) {
        MaskingNoise masking = new MaskingNoise("masking", s.fraction(), r.nextLong());
        LayerData.build(masking, new int[] {s.n()}, s.batch(), k, ws);
        int size = s.batch() * s.n();
        LayerSubject sub = LayerSubject.of(s.toString(), masking, new int[] {s.n()}, s.batch(), LayerData.random(r, size))
                .output(s.n())
                .tolerances(Tolerance.exact(), Tolerance.exact());
        if (!s.training()) {
            return sub.inference().twin(() -> new Twin((x, p) -> x.clone(), (x, p, dy) -> new double[][] {dy.clone()}));
        }
        return sub.twin(() -> {
            double[] mask = LayerData.dbl(Arrays.copyOf(masking.mask().toArray(), size));
            return new Twin((x, p) -> ConvReference.maskMul(x, mask), (x, p, dy) -> new double[][] {ConvReference.maskMul(dy, mask)});
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void masksExactlyTheFractionOfEachSample(KernelCase<Shape> c) {
        c.check(s -> {
            try (Workspace ws = new Workspace("masking count")) {
                LayerSubject sub = setUp(s, KernelRegistry.load(c.provider()), ws, Prop.data(c.seed()));
                MaskingNoise masking = (MaskingNoise) sub.layer;
                masking.forward(ws.of(sub.x, sub.batched()), ws.allocate(sub.batched()), true);
                float[] mask = masking.mask().toArray();
                for (int b = 0; b < s.batch(); b++) {
                    int zeros = 0;
                    for (int i = 0; i < s.n(); i++) {
                        float m = mask[b * s.n() + i];
                        assertTrue(m == 0f || m == 1f, c + ": mask value " + m);
                        zeros += m == 0f ? 1 : 0;
                    }
                    assertEquals(Math.round(s.fraction() * s.n()), zeros, c + ": sample " + b + " has the wrong number of masked units");
                }
            }
        });
    }
}
