package dev.latent.nn;

import static dev.latent.nn.LayerData.build;
import static dev.latent.nn.LayerData.random;

import dev.latent.kernel.Kernels;
import dev.latent.prop.Shrinkable;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@link Dense} against {@link Reference#denseForward}: y = x W^T + b, x (B, in), W (out, in).
 * Tolerances ({@link Tolerance#sum}): forward k = in + 1 (a GEMM sum over in, then the bias add);
 * dx k = out (GEMM over out); dW and db k = B (sums over the batch).
 */
class DenseLayerTest implements LayerContract<DenseLayerTest.Shape> {

    record Shape(int batch, int in, int out, boolean bias) implements Shrinkable<Shape> {
        @Override
        public List<Shape> smaller() {
            List<Shape> s = new ArrayList<>();
            if (batch > 1) {
                s.add(new Shape(batch / 2, in, out, bias));
            }
            if (in > 1) {
                s.add(new Shape(batch, in / 2, out, bias));
            }
            if (out > 1) {
                s.add(new Shape(batch, in, out / 2, bias));
            }
            return s;
        }

        @Override
        public String toString() {
            return "dense B=" + batch + " " + in + " -> " + out + (bias ? " +b" : "");
        }
    }

    @Override
    public String family() {
        return "dense";
    }

    @Override
    public List<Shape> edges() {
        return List.of(new Shape(1, 1, 1, true), new Shape(1, 7, 3, false), new Shape(3, 65, 17, true),
                new Shape(2, 1, 40, false));
    }

    @Override
    public Shape randomShape(SplittableRandom r) {
        return new Shape(LayerData.batch(r, 9), 1 + r.nextInt(70), 1 + r.nextInt(40), r.nextBoolean());
    }

    @Override
    public LayerSubject setUp(Shape s, Kernels k, Workspace ws, SplittableRandom r) {
        Dense d = new Dense("dense", s.in(), s.out(), s.bias());
        build(d, new int[] {s.in()}, s.batch(), k, ws);
        for (Param p : d.params()) {
            p.value().copyFrom(random(r, (int) p.size()));
        }
        int b = s.batch();
        return LayerSubject.of(s.toString(), d, new int[] {s.in()}, b, random(r, b * s.in()))
                .output(s.out())
                .twin(() -> new Twin((x, p) -> Reference.denseForward(x, p[0], s.bias() ? p[1] : null, b, s.in(), s.out()),
                        (x, p, dy) -> {
                            double[][] g = Reference.denseBackward(x, p[0], dy, b, s.in(), s.out());
                            return s.bias() ? g : new double[][] {g[0], g[1]};
                        }))
                .tolerances(Tolerance.sum(s.in() + 1), Tolerance.sum(s.out()), Tolerance.sum(b), Tolerance.sum(b))
                .refuses(s.in() + 1)
                .refuses(s.in(), 1);
    }
}
