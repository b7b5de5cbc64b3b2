package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.prop.Shrinkable;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@link MaxPool2d} against {@link ConvReference#maxPool}: windows k x k at stride s over (B, C, H, W).
 * Inputs are a shuffled grid of distinct values, so no window has a tie and the twin's argmax is the
 * layer's by definition (and the twin's finite differences never cross a runner-up). Forward copies
 * values: exact. Backward routes dy to the argmax, and overlapping windows (s < k) add there in float:
 * {@link Tolerance#sum} with k = k^2, whose sum|terms| takes |dy| through the argmax of x itself.
 */
class MaxPool2dLayerTest implements LayerContract<MaxPool2dLayerTest.Shape> {

    record Shape(int batch, int c, int k, int s, int h, int w) implements Shrinkable<Shape> {
        @Override
        public List<Shape> smaller() {
            List<Shape> out = new ArrayList<>();
            if (batch > 1) {
                out.add(new Shape(batch / 2, c, k, s, h, w));
            }
            if (c > 1) {
                out.add(new Shape(batch, c / 2, k, s, h, w));
            }
            if (h / 2 >= k) {
                out.add(new Shape(batch, c, k, s, h / 2, w));
            }
            if (w / 2 >= k) {
                out.add(new Shape(batch, c, k, s, h, w / 2));
            }
            return out;
        }

        @Override
        public String toString() {
            return "maxPool " + Tensor.format(batch, c, h, w) + " k" + k + " s" + s;
        }
    }

    @Override
    public String family() {
        return "maxPool";
    }

    @Override
    public List<Shape> edges() {
        return List.of(new Shape(1, 1, 1, 1, 1, 1), new Shape(2, 3, 2, 2, 8, 8), new Shape(1, 2, 3, 1, 5, 7),
                new Shape(3, 1, 4, 3, 9, 4));
    }

    @Override
    public Shape randomShape(SplittableRandom r) {
        int k = 1 + r.nextInt(4);
        return new Shape(LayerData.batch(r, 5), 1 + r.nextInt(4), k, 1 + r.nextInt(3), k + r.nextInt(9), k + r.nextInt(9));
    }

    @Override
    public LayerSubject setUp(Shape s, Kernels kernels, Workspace ws, SplittableRandom r) {
        int b = s.batch();
        int c = s.c();
        int k = s.k();
        int h = s.h();
        int w = s.w();
        MaxPool2d max = new MaxPool2d("maxpool", k, s.s());
        int[] in = {c, h, w};
        LayerData.build(max, in, b, kernels, ws);
        float[] x = LayerData.distinct(r, b * c * h * w);
        double[] xd = LayerData.dbl(x);
        LayerSubject sub = LayerSubject.of(s.toString(), max, in, b, x)
                .output(c, (h - k) / s.s() + 1, (w - k) / s.s() + 1)
                .twin(() -> new Twin((v, p) -> ConvReference.maxPool(v, b, c, h, w, k, s.s()),
                        (v, p, dy) -> new double[][] {ConvReference.maxPoolBackward(v, dy, b, c, h, w, k, s.s())}))
                .magnitudes(() -> new Twin((v, p) -> ConvReference.maxPool(xd, b, c, h, w, k, s.s()),
                        (v, p, dy) -> new double[][] {ConvReference.maxPoolBackward(xd, dy, b, c, h, w, k, s.s())}))
                .tolerances(Tolerance.exact(), Tolerance.sum(k * k))
                .refuses(c, h);
        if (k > 1) {
            sub.refuses(c, k - 1, w);
        }
        return sub;
    }
}
