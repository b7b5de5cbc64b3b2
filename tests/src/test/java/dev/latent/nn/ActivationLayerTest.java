package dev.latent.nn;

import static dev.latent.nn.LayerData.random;

import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.prop.Shrinkable;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@link ActivationLayer} for every kind against {@link Reference#map} and {@link Reference#mapBackward}.
 * Inputs are 8 x U(-1, 1), which reaches the saturation of sigmoid and tanh; inputs within 1e-3 of a
 * kink (relu, leaky relu at 0) move out to +-1e-3 so the twin's finite differences never straddle it.
 * Tolerances: forward and backward 1e-5 max(1, |ref|): the vector kernels' exp/tanh/log1p are within
 * a few ulps and the composed formulas (1 / (1 + e^-z), a (1 - a)) add a few more; 1e-5 is about 80
 * ulps at 1 (relu, leaky relu and identity are exact in practice, a comparison and one multiply).
 */
class ActivationLayerTest implements LayerContract<ActivationLayerTest.Shape> {

    static final List<Activation> KINDS = List.of(Activation.SIGMOID, Activation.TANH, Activation.RELU,
            Activation.leakyRelu(0.2f), Activation.SOFTPLUS, Activation.IDENTITY);

    record Shape(Activation f, int batch, int n) implements Shrinkable<Shape> {
        @Override
        public List<Shape> smaller() {
            List<Shape> s = new ArrayList<>();
            if (batch > 1) {
                s.add(new Shape(f, batch / 2, n));
            }
            if (n > 1) {
                s.add(new Shape(f, batch, n / 2));
            }
            return s;
        }

        @Override
        public String toString() {
            return f + " B=" + batch + " n=" + n;
        }
    }

    @Override
    public String family() {
        return "activation";
    }

    /** Every kind at batch 1 x 1 and across the activation kernels' chunk (2048 floats) and the elementwise one (4096). */
    @Override
    public List<Shape> edges() {
        List<Shape> out = new ArrayList<>();
        for (Activation f : KINDS) {
            out.add(new Shape(f, 1, 1));
            out.add(new Shape(f, 3, 683));
            out.add(new Shape(f, 1, 4097));
        }
        return out;
    }

    @Override
    public Shape randomShape(SplittableRandom r) {
        return new Shape(KINDS.get(r.nextInt(KINDS.size())), LayerData.batch(r, 5), 1 + r.nextInt(100));
    }

    @Override
    public int randomCases() {
        return 16;
    }

    @Override
    public LayerSubject setUp(Shape s, Kernels k, Workspace ws, SplittableRandom r) {
        ActivationLayer a = new ActivationLayer("act", s.f());
        a.build(new int[] {s.n()}, s.batch(), k, new ParamSlab(ws, 0), ws);
        float[] z = random(r, s.batch() * s.n());
        for (int i = 0; i < z.length; i++) {
            z[i] *= 8;
            if (Math.abs(z[i]) < 1e-3f) {
                z[i] = z[i] < 0 ? -1e-3f : 1e-3f;
            }
        }
        Activation f = s.f();
        return LayerSubject.of(s.toString(), a, new int[] {s.n()}, s.batch(), z)
                .output(s.n())
                .twin(() -> new Twin((x, p) -> Reference.map(f, x), (x, p, dy) -> new double[][] {Reference.mapBackward(f, x, dy)}))
                .tolerances(Tolerance.relative(1e-5, 1), Tolerance.relative(1e-5, 1));
    }
}
