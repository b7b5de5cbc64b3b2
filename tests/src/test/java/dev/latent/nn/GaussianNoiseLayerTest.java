package dev.latent.nn;

import static dev.latent.nn.LayerData.abs;

import dev.latent.kernel.Kernels;
import dev.latent.prop.Shrinkable;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@link GaussianNoise}: training y = x + n with n_i = (float) (sigma g_i), g the N(0, 1) stream of a
 * SplittableRandom of the layer's seed (replayed here), one float rounding: {@link Tolerance#sum} with
 * k = 1 on |x| + |n|; backward is the identity (exact). Inference: the identity, exact.
 */
class GaussianNoiseLayerTest implements LayerContract<GaussianNoiseLayerTest.Shape> {

    record Shape(int batch, int n, double sigma, boolean training) implements Shrinkable<Shape> {
        @Override
        public List<Shape> smaller() {
            List<Shape> out = new ArrayList<>();
            if (batch > 1) {
                out.add(new Shape(batch / 2, n, sigma, training));
            }
            if (n > 1) {
                out.add(new Shape(batch, n / 2, sigma, training));
            }
            return out;
        }

        @Override
        public String toString() {
            return "gaussian noise sigma=" + (float) sigma + " " + Tensor.format(batch, n) + (training ? " training" : " inference");
        }
    }

    @Override
    public String family() {
        return "gaussianNoise";
    }

    @Override
    public List<Shape> edges() {
        return List.of(new Shape(1, 1, 0.1, true), new Shape(2, 4097, 0.5, true), new Shape(3, 7, 1, false));
    }

    @Override
    public Shape randomShape(SplittableRandom r) {
        return new Shape(LayerData.batch(r, 6), 1 + r.nextInt(60), 0.05 + r.nextDouble(), r.nextInt(4) != 0);
    }

    @Override
    public LayerSubject setUp(Shape s, Kernels k, Workspace ws, SplittableRandom r) {
        long seed = r.nextLong();
        GaussianNoise gauss = new GaussianNoise("gauss", s.sigma(), seed);
        LayerData.build(gauss, new int[] {s.n()}, s.batch(), k, ws);
        int size = s.batch() * s.n();
        LayerSubject sub = LayerSubject.of(s.toString(), gauss, new int[] {s.n()}, s.batch(), LayerData.random(r, size))
                .output(s.n());
        if (!s.training()) {
            return sub.inference()
                    .twin(() -> new Twin((x, p) -> x.clone(), (x, p, dy) -> new double[][] {dy.clone()}))
                    .tolerances(Tolerance.exact(), Tolerance.exact());
        }
        SplittableRandom replay = new SplittableRandom(seed);
        double[] noise = new double[size];
        for (int i = 0; i < size; i++) {
            noise[i] = (float) (s.sigma() * replay.nextGaussian());
        }
        Twin identityGradient = new Twin((x, p) -> ConvReference.add(x, noise), (x, p, dy) -> new double[][] {dy.clone()});
        return sub.twin(() -> identityGradient)
                .magnitudes(() -> new Twin((x, p) -> ConvReference.add(x, abs(noise)), identityGradient.backward()))
                .tolerances(Tolerance.sum(1), Tolerance.exact());
    }
}
