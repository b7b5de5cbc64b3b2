package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.prop.Shrinkable;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@link AvgPool2d} against {@link ConvReference#avgPool}: the mean of each k x k window at stride s.
 * Tolerances ({@link Tolerance#sum}): k = k^2 + 1 both ways (a float window sum of k^2 terms, one
 * division; backward spreads dy / k^2 and overlapping windows add at most k^2 of them).
 */
class AvgPool2dLayerTest implements LayerContract<AvgPool2dLayerTest.Shape> {

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
            return "avgPool " + Tensor.format(batch, c, h, w) + " k" + k + " s" + s;
        }
    }

    @Override
    public String family() {
        return "avgPool";
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
        AvgPool2d avg = new AvgPool2d("avgpool", k, s.s());
        int[] in = {c, h, w};
        LayerData.build(avg, in, b, kernels, ws);
        LayerSubject sub = LayerSubject.of(s.toString(), avg, in, b, LayerData.random(r, b * c * h * w))
                .output(c, (h - k) / s.s() + 1, (w - k) / s.s() + 1)
                .twin(() -> new Twin((v, p) -> ConvReference.avgPool(v, b, c, h, w, k, s.s()),
                        (v, p, dy) -> new double[][] {ConvReference.avgPoolBackward(dy, b, c, h, w, k, s.s())}))
                .tolerances(Tolerance.sum(k * k + 1), Tolerance.sum(k * k + 1))
                .refuses(c, h);
        if (k > 1) {
            sub.refuses(c, k - 1, w);
        }
        return sub;
    }
}
