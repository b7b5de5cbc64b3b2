package dev.latent.nn;

import static dev.latent.nn.LayerData.random;

import dev.latent.kernel.Activation;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.prop.Shrinkable;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Residual}: y = x + f(x), with f one shape-preserving convolution (k odd, padding k / 2,
 * stride 1), against {@link ConvReference#residualConv}, or f = conv, tanh, conv composed by hand from
 * the twins. One convolution: {@link Tolerance#sum} with forward k = C k^2 + 2 (the convolution's, plus
 * the skip add); dx k = C + k^2 + 1 (the convolution's dx, plus the skip add); dW and db k = H W + B.
 * conv-tanh-conv: norm-wise relative 1e-4 everywhere, as for the composed autoencoder step (the tanh
 * kernels are only within ~1e-5 relative, and their errors pass through a second convolution).
 */
class ResidualLayerTest implements LayerContract<ResidualLayerTest.Shape> {

    record Shape(int batch, int c, int k, int h, int w, boolean deep) implements Shrinkable<Shape> {
        @Override
        public List<Shape> smaller() {
            List<Shape> out = new ArrayList<>();
            if (batch > 1) {
                out.add(new Shape(batch / 2, c, k, h, w, deep));
            }
            if (c > 1) {
                out.add(new Shape(batch, c / 2, k, h, w, deep));
            }
            if (h > 1) {
                out.add(new Shape(batch, c, k, h / 2, w, deep));
            }
            if (w > 1) {
                out.add(new Shape(batch, c, k, h, w / 2, deep));
            }
            return out;
        }

        @Override
        public String toString() {
            return "residual " + (deep ? "conv-tanh-conv " : "conv ") + Tensor.format(batch, c, h, w) + " k" + k;
        }
    }

    @Override
    public String family() {
        return "residual";
    }

    @Override
    public List<Shape> edges() {
        return List.of(new Shape(1, 1, 1, 1, 1, false), new Shape(2, 3, 3, 5, 4, false), new Shape(1, 2, 3, 4, 4, true),
                new Shape(3, 1, 5, 6, 2, true));
    }

    @Override
    public Shape randomShape(SplittableRandom r) {
        return new Shape(LayerData.batch(r, 4), 1 + r.nextInt(4), 1 + 2 * r.nextInt(3), 1 + r.nextInt(7), 1 + r.nextInt(7),
                r.nextBoolean());
    }

    @Override
    public LayerSubject setUp(Shape s, Kernels kernels, Workspace ws, SplittableRandom r) {
        int b = s.batch();
        int c = s.c();
        int k = s.k();
        int p = k / 2;
        int h = s.h();
        int w = s.w();
        int[] in = {c, h, w};
        Residual block = s.deep()
                ? new Residual("res", List.of(new Conv2d("inner1", c, c, k, 1, p, true), new ActivationLayer("tanh", Activation.TANH),
                        new Conv2d("inner2", c, c, k, 1, p, true)))
                : new Residual("res", List.of(new Conv2d("inner", c, c, k, 1, p, true)));
        LayerData.build(block, in, b, kernels, ws);
        for (Param prm : block.params()) {
            prm.value().copyFrom(random(r, (int) prm.size()));
        }
        LayerSubject sub = LayerSubject.of(s.toString(), block, in, b, random(r, b * c * h * w))
                .output(in)
                .refuses(c + 1, h, w)
                .refuses(c, h);
        if (!s.deep()) {
            return sub.twin(() -> new Twin((x, q) -> ConvReference.residualConv(x, q[0], q[1], b, c, h, w, k, p),
                            (x, q, dy) -> ConvReference.residualConvBackward(x, q[0], dy, b, c, h, w, k, p)))
                    .tolerances(Tolerance.sum(c * k * k + 2), Tolerance.sum(c + k * k + 1), Tolerance.sum(h * w + b),
                            Tolerance.sum(h * w + b));
        }
        return sub.twin(() -> new Twin((x, q) -> {
            double[] a1 = Reference.map(Activation.TANH, ConvReference.conv2d(x, q[0], q[1], b, c, h, w, c, k, 1, p));
            return ConvReference.add(x, ConvReference.conv2d(a1, q[2], q[3], b, c, h, w, c, k, 1, p));
        }, (x, q, dy) -> {
            double[] z1 = ConvReference.conv2d(x, q[0], q[1], b, c, h, w, c, k, 1, p);
            double[] a1 = Reference.map(Activation.TANH, z1);
            double[][] g2 = ConvReference.conv2dBackward(a1, q[2], dy, b, c, h, w, c, k, 1, p);
            double[][] g1 = ConvReference.conv2dBackward(x, q[0], Reference.mapBackward(Activation.TANH, z1, g2[0]), b, c, h, w, c, k, 1, p);
            return new double[][] {ConvReference.add(g1[0], dy), g1[1], g1[2], g2[1], g2[2]};
        })).tolerances(Tolerance.norm(1e-4), Tolerance.norm(1e-4));
    }

    /** Inner layers that do not preserve the shape (a k3 convolution without padding) are refused, naming the block. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#providers")
    void innerLayersMustPreserveTheShape(String provider) {
        KernelRegistry.load(provider);
        Residual block = new Residual("residual-b", List.of(new Conv2d("residual-b.conv", 3, 3, 3, 1, 0, true)));
        LayerContract.assertRejects("residual-b", Tensor.format(3, 8, 8), () -> block.outputShape(new int[] {3, 8, 8}));
    }
}
