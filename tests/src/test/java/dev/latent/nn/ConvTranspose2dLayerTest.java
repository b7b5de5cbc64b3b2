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
 * {@link ConvTranspose2d} against {@link ConvReference#convTranspose2d}: x (B, C, H, W), W (C, OC*k*k),
 * y (B, OC, OH, OW), OH = (H - 1) s - 2 p + k + op. Tolerances ({@link Tolerance#sum}): forward
 * k = C + k^2 + 1 (GEMM over C, col2im adds up to k^2 columns, bias); dx k = OC k^2 (a GEMM over the
 * gathered OC k^2 columns); dW k = H W + B; db k = OH OW + B.
 */
class ConvTranspose2dLayerTest implements LayerContract<ConvTranspose2dLayerTest.Shape> {

    record Shape(int batch, int c, int oc, int k, int s, int p, int op, int h, int w, boolean bias)
            implements Shrinkable<Shape> {
        boolean valid() {
            return ConvReference.convTransposeOut(h, k, s, p, op) >= 1 && ConvReference.convTransposeOut(w, k, s, p, op) >= 1;
        }

        @Override
        public List<Shape> smaller() {
            List<Shape> out = new ArrayList<>();
            List<Shape> all = List.of(new Shape(Math.max(1, batch / 2), c, oc, k, s, p, op, h, w, bias),
                    new Shape(batch, c, oc, k, s, p, op, Math.max(1, h / 2), w, bias),
                    new Shape(batch, c, oc, k, s, p, op, h, Math.max(1, w / 2), bias),
                    new Shape(batch, Math.max(1, c / 2), oc, k, s, p, op, h, w, bias),
                    new Shape(batch, c, Math.max(1, oc / 2), k, s, p, op, h, w, bias));
            for (Shape t : all) {
                if (!t.equals(this) && t.valid()) {
                    out.add(t);
                }
            }
            return out;
        }

        @Override
        public String toString() {
            return "convTranspose2d " + Tensor.format(batch, c, h, w) + " -> " + oc + " k" + k + " s" + s + " p" + p
                    + " op" + op + (bias ? " +b" : "");
        }
    }

    @Override
    public String family() {
        return "convTranspose2d";
    }

    @Override
    public List<Shape> edges() {
        return List.of(new Shape(1, 1, 1, 1, 1, 0, 0, 1, 1, true), new Shape(2, 8, 4, 4, 2, 1, 0, 4, 4, false),
                new Shape(1, 3, 2, 3, 3, 2, 2, 5, 2, true), new Shape(3, 2, 1, 5, 1, 4, 0, 7, 6, true));
    }

    @Override
    public Shape randomShape(SplittableRandom r) {
        int k = 1 + r.nextInt(5);
        int s = 1 + r.nextInt(3);
        int p = r.nextInt(k);
        int op = r.nextInt(s);
        int h = 1 + r.nextInt(7);
        int w = 1 + r.nextInt(7);
        while (ConvReference.convTransposeOut(h, k, s, p, op) < 1) {
            h++;
        }
        while (ConvReference.convTransposeOut(w, k, s, p, op) < 1) {
            w++;
        }
        return new Shape(LayerData.batch(r, 5), 1 + r.nextInt(5), 1 + r.nextInt(4), k, s, p, op, h, w, r.nextInt(4) != 0);
    }

    @Override
    public LayerSubject setUp(Shape s, Kernels kernels, Workspace ws, SplittableRandom r) {
        int b = s.batch();
        int c = s.c();
        int oc = s.oc();
        int k = s.k();
        int h = s.h();
        int w = s.w();
        ConvTranspose2d layer = new ConvTranspose2d("deconv", c, oc, k, s.s(), s.p(), s.op(), s.bias());
        int[] in = {c, h, w};
        LayerData.build(layer, in, b, kernels, ws);
        assertArrayEquals(new int[] {c, oc * k * k}, layer.weight().value().shape(), s + ": weight layout (C, OC*k*k)");
        for (Param prm : layer.params()) {
            prm.value().copyFrom(random(r, (int) prm.size()));
        }
        int oh = ConvReference.convTransposeOut(h, k, s.s(), s.p(), s.op());
        int ow = ConvReference.convTransposeOut(w, k, s.s(), s.p(), s.op());
        LayerSubject sub = LayerSubject.of(s.toString(), layer, in, b, random(r, b * c * h * w))
                .output(oc, oh, ow)
                .twin(() -> new Twin(
                        (x, p) -> ConvReference.convTranspose2d(x, p[0], s.bias() ? p[1] : null, b, c, h, w, oc, k, s.s(), s.p(), s.op()),
                        (x, p, dy) -> {
                            double[][] g = ConvReference.convTranspose2dBackward(x, p[0], dy, b, c, h, w, oc, k, s.s(), s.p(), s.op());
                            return s.bias() ? g : new double[][] {g[0], g[1]};
                        }))
                .tolerances(Tolerance.sum(c + k * k + 1), Tolerance.sum(oc * k * k), Tolerance.sum(h * w + b),
                        Tolerance.sum(oh * ow + b))
                .refuses(c + 1, h, w)
                .refuses(c, h);
        if (ConvReference.convTransposeOut(1, k, s.s(), s.p(), s.op()) < 1) {
            sub.refuses(c, 1, 1);
        }
        return sub;
    }
}
