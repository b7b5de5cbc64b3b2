package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.prop.Shrinkable;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@link Upsample2d} (nearest, factor s) against {@link ConvReference#upsample}: forward copies
 * values, exact; backward sums the s^2 copies of each input pixel: {@link Tolerance#sum} with k = s^2.
 */
class Upsample2dLayerTest implements LayerContract<Upsample2dLayerTest.Shape> {

    record Shape(int batch, int c, int h, int w, int scale) implements Shrinkable<Shape> {
        @Override
        public List<Shape> smaller() {
            List<Shape> out = new ArrayList<>();
            if (batch > 1) {
                out.add(new Shape(batch / 2, c, h, w, scale));
            }
            if (c > 1) {
                out.add(new Shape(batch, c / 2, h, w, scale));
            }
            if (h > 1) {
                out.add(new Shape(batch, c, h / 2, w, scale));
            }
            if (w > 1) {
                out.add(new Shape(batch, c, h, w / 2, scale));
            }
            return out;
        }

        @Override
        public String toString() {
            return "upsample " + Tensor.format(batch, c, h, w) + " x" + scale;
        }
    }

    @Override
    public String family() {
        return "upsample";
    }

    @Override
    public List<Shape> edges() {
        return List.of(new Shape(1, 1, 1, 1, 1), new Shape(2, 3, 4, 4, 2), new Shape(1, 2, 3, 7, 3));
    }

    @Override
    public Shape randomShape(SplittableRandom r) {
        return new Shape(LayerData.batch(r, 5), 1 + r.nextInt(4), 1 + r.nextInt(9), 1 + r.nextInt(9), 1 + r.nextInt(3));
    }

    @Override
    public LayerSubject setUp(Shape s, Kernels kernels, Workspace ws, SplittableRandom r) {
        int b = s.batch();
        int c = s.c();
        int h = s.h();
        int w = s.w();
        int f = s.scale();
        Upsample2d up = new Upsample2d("upsample", f);
        int[] in = {c, h, w};
        LayerData.build(up, in, b, kernels, ws);
        return LayerSubject.of(s.toString(), up, in, b, LayerData.random(r, b * c * h * w))
                .output(c, h * f, w * f)
                .twin(() -> new Twin((v, p) -> ConvReference.upsample(v, b, c, h, w, f),
                        (v, p, dy) -> new double[][] {ConvReference.upsampleBackward(dy, b, c, h, w, f)}))
                .tolerances(Tolerance.exact(), Tolerance.sum(f * f))
                .refuses(c, h);
    }
}
