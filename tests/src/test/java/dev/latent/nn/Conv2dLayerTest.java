package dev.latent.nn;

import static dev.latent.nn.LayerData.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.latent.kernel.Kernels;
import dev.latent.prop.Shrinkable;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@link Conv2d} against {@link ConvReference#conv2d}: x (B, C, H, W), W (OC, C*k*k), y (B, OC, OH, OW).
 * Tolerances ({@link Tolerance#sum}, K = C k^2 taps, L = OH OW): forward k = K + 1 (GEMM over K, bias
 * add); dx k = OC + k^2 (GEMM over OC, then col2im adds at most k^2 columns); dW and db k = L + B (a
 * GEMM or row sum over L per sample, one accumulating rounding per sample).
 */
class Conv2dLayerTest implements LayerContract<Conv2dLayerTest.Shape> {

    record Shape(int batch, int c, int oc, int k, int s, int p, int h, int w, boolean bias) implements Shrinkable<Shape> {
        @Override
        public List<Shape> smaller() {
            List<Shape> out = new ArrayList<>();
            int min = Math.max(1, k - 2 * p);
            if (batch > 1) {
                out.add(new Shape(batch / 2, c, oc, k, s, p, h, w, bias));
            }
            if (h / 2 >= min) {
                out.add(new Shape(batch, c, oc, k, s, p, h / 2, w, bias));
            }
            if (w / 2 >= min) {
                out.add(new Shape(batch, c, oc, k, s, p, h, w / 2, bias));
            }
            if (c > 1) {
                out.add(new Shape(batch, c / 2, oc, k, s, p, h, w, bias));
            }
            if (oc > 1) {
                out.add(new Shape(batch, c, oc / 2, k, s, p, h, w, bias));
            }
            return out;
        }

        @Override
        public String toString() {
            return "conv2d " + Tensor.format(batch, c, h, w) + " -> " + oc + " k" + k + " s" + s + " p" + p + (bias ? " +b" : "");
        }
    }

    @Override
    public String family() {
        return "conv2d";
    }

    @Override
    public List<Shape> edges() {
        return List.of(new Shape(1, 1, 1, 1, 1, 0, 1, 1, true), new Shape(2, 3, 4, 3, 1, 1, 8, 8, true),
                new Shape(1, 2, 3, 5, 2, 2, 7, 9, false), new Shape(3, 1, 2, 4, 3, 0, 4, 11, true));
    }

    @Override
    public Shape randomShape(SplittableRandom r) {
        int k = 1 + r.nextInt(5);
        int p = r.nextInt(k);
        int min = Math.max(1, k - 2 * p);
        return new Shape(LayerData.batch(r, 5), 1 + r.nextInt(4), 1 + r.nextInt(6), k, 1 + r.nextInt(3), p,
                min + r.nextInt(10), min + r.nextInt(10), r.nextInt(4) != 0);
    }

    @Override
    public LayerSubject setUp(Shape s, Kernels kernels, Workspace ws, SplittableRandom r) {
        int b = s.batch();
        int c = s.c();
        int oc = s.oc();
        int k = s.k();
        int h = s.h();
        int w = s.w();
        Conv2d layer = new Conv2d("conv", c, oc, k, s.s(), s.p(), s.bias());
        int[] in = {c, h, w};
        LayerData.build(layer, in, b, kernels, ws);
        assertArrayEquals(new int[] {oc, c * k * k}, layer.weight().value().shape(), s + ": weight layout (OC, C*k*k)");
        for (Param prm : layer.params()) {
            prm.value().copyFrom(random(r, (int) prm.size()));
        }
        int oh = ConvReference.convOut(h, k, s.s(), s.p());
        int ow = ConvReference.convOut(w, k, s.s(), s.p());
        LayerSubject sub = LayerSubject.of(s.toString(), layer, in, b, random(r, b * c * h * w))
                .output(oc, oh, ow)
                .twin(() -> new Twin(
                        (x, p) -> ConvReference.conv2d(x, p[0], s.bias() ? p[1] : null, b, c, h, w, oc, k, s.s(), s.p()),
                        (x, p, dy) -> {
                            double[][] g = ConvReference.conv2dBackward(x, p[0], dy, b, c, h, w, oc, k, s.s(), s.p());
                            return s.bias() ? g : new double[][] {g[0], g[1]};
                        }))
                .tolerances(Tolerance.sum(c * k * k + 1), Tolerance.sum(oc + k * k), Tolerance.sum(oh * ow + b),
                        Tolerance.sum(oh * ow + b))
                .refuses(c + 1, h, w)
                .refuses(c, h);
        if (k - 2 * s.p() > 1) {
            sub.refuses(c, k - 2 * s.p() - 1, w);
        }
        return sub;
    }
}
