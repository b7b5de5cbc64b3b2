package dev.latent.nn;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.latent.kernel.Kernels;
import dev.latent.prop.Shrinkable;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Slice}: columns [from, to) of each sample, y[b, j] = x[b, from + j]; backward writes dy into
 * the window of dx and zeros elsewhere. It only moves values: forward and backward must be exact.
 */
class SliceLayerTest implements LayerContract<SliceLayerTest.Shape> {

    record Shape(int batch, int d, int from, int to) implements Shrinkable<Shape> {
        @Override
        public List<Shape> smaller() {
            List<Shape> s = new ArrayList<>();
            if (batch > 1) {
                s.add(new Shape(batch / 2, d, from, to));
            }
            if (d > 1 && to - from > 1) {
                int nd = (d + 1) / 2;
                int nf = Math.min(from, nd - 1);
                s.add(new Shape(batch, nd, nf, Math.max(nf + 1, Math.min(to, nd))));
            }
            return s;
        }

        @Override
        public String toString() {
            return "slice B=" + batch + " d=" + d + " [" + from + ", " + to + ")";
        }
    }

    @Override
    public String family() {
        return "slice";
    }

    @Override
    public List<Shape> edges() {
        return List.of(new Shape(1, 1, 0, 1), new Shape(2, 9, 0, 4), new Shape(3, 9, 5, 9), new Shape(1, 40, 0, 40));
    }

    @Override
    public Shape randomShape(SplittableRandom r) {
        int d = 1 + r.nextInt(40);
        int from = r.nextInt(3) == 0 ? 0 : r.nextInt(d);
        int to = r.nextInt(5) == 0 ? d : from + 1 + r.nextInt(d - from);
        return new Shape(1 + r.nextInt(5), d, from, to);
    }

    @Override
    public LayerSubject setUp(Shape s, Kernels k, Workspace ws, SplittableRandom r) {
        Slice slice = new Slice("slice", s.from(), s.to());
        LayerData.build(slice, new int[] {s.d()}, s.batch(), k, ws);
        int b = s.batch();
        int d = s.d();
        int w = s.to() - s.from();
        return LayerSubject.of(s.toString(), slice, new int[] {d}, b, LayerData.random(r, b * d))
                .output(w)
                .twin(() -> new Twin((x, p) -> {
                    double[] y = new double[b * w];
                    for (int i = 0; i < b; i++) {
                        System.arraycopy(x, i * d + s.from(), y, i * w, w);
                    }
                    return y;
                }, (x, p, dy) -> {
                    double[] dx = new double[b * d];
                    for (int i = 0; i < b; i++) {
                        System.arraycopy(dy, i * w, dx, i * d + s.from(), w);
                    }
                    return new double[][] {dx};
                }))
                .tolerances(Tolerance.exact(), Tolerance.exact())
                .refuses(d, 1);
    }

    @Test
    void badWindowsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Slice("s", 3, 3));
        assertThrows(IllegalArgumentException.class, () -> new Slice("s", -1, 2));
        assertThrows(IllegalArgumentException.class, () -> new Slice("s", 0, 9).outputShape(new int[] {8}));
    }
}
