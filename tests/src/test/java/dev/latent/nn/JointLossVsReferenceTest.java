package dev.latent.nn;

import static dev.latent.nn.LayerData.dbl;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.latent.kernel.Activation;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.loss.WeightDecay;
import dev.latent.model.Classifier;
import dev.latent.model.JointClassifier;
import dev.latent.prop.Compare;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The joint loss of {@link JointClassifier} (cross-entropy on the labelled rows + w x mean squared
 * reconstruction error over labelled and unlabeled rows + L2 weight decay) on a tiny network, d = 6,
 * hidden = 4, 3 classes, 3 labelled + 2 unlabeled rows, following the repository's two-step pattern
 * (STYLE.md, {@link SequentialVsReferenceTest}):
 * <ol>
 *   <li>a double twin composed from {@link Reference}'s layers and losses, whose analytic gradient of
 *       every parameter (all six tensors, 75 floats) equals central finite differences of its objective
 *       ({@link ReferenceGradientTest#check}: PyTorch gradcheck's h = 1e-6, 1e-5 + 1e-3 |numeric|, four
 *       orders of magnitude above the O(h^2) truncation and eps/h rounding errors in double);
 *   <li>the float model's objective and every parameter gradient equal the twin's: objective to
 *       1e-5 relative (a few float roundings of values of order 1), gradients norm-wise relative 1e-4
 *       (as for the sparse autoencoder step: chains of float GEMMs through approximated sigmoids, whose
 *       error is about 1e-6 relative; a wrong term, such as a missing w, a missing decoder path into the
 *       hidden layer or gradient from unlabeled logits, is off by O(1)).
 * </ol>
 * A finite difference of the float model itself is not used: in float, h small enough for truncation
 * is swamped by rounding (eps / h ~ 1e-3 relative at h = 1e-4). Sigmoid and tanh hidden units (no
 * kinks); every provider under test; seeds 1..4.
 */
class JointLossVsReferenceTest {

    static final int D = 6;
    static final int H = 4;
    static final int C = 3;
    static final int LABELLED = 3;
    static final int UNLABELED = 2;
    /** Exact in float, so the float model's w (stored as float) is the twin's. */
    static final double W = 0.75;
    static final double LAMBDA = 0.05;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String p : dev.latent.kernel.KernelCases.providers().toList()) {
            for (Activation f : new Activation[] {Activation.SIGMOID, Activation.TANH}) {
                for (long seed = 1; seed <= 4; seed++) {
                    out.add(Arguments.of(p, f, seed));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} seed {2}")
    @MethodSource("cases")
    void jointGradientOfEveryParameter(String provider, Activation f, long seed) {
        Kernels k = KernelRegistry.load(provider);
        String what = provider + " " + f + " seed=" + seed;
        SplittableRandom r = new SplittableRandom(seed);
        int b = LABELLED + UNLABELED;
        Classifier.Settings s = new Classifier.Settings(H, f, 1, b, 1e-3, LAMBDA);
        try (JointClassifier j = JointClassifier.initialized(D, C, s, W, b, seed, k); Workspace ws = new Workspace("joint-grad")) {
            List<Param> params = new ArrayList<>(j.network().params());
            params.addAll(j.decoder().params());
            List<String> names = params.stream().map(Param::name).toList();
            assertEquals(List.of("hidden.weight", "hidden.bias", "logits.weight", "logits.bias", "decoder.weight", "decoder.bias"), names);
            // Random values (biases too, so their gradients are not at a symmetric point), rounded to
            // float so that the twin reads exactly what the float model holds.
            double[][] p = new double[params.size()][];
            for (int i = 0; i < p.length; i++) {
                float[] v = LayerData.random(r, (int) params.get(i).size());
                params.get(i).value().copyFrom(v);
                p[i] = dbl(v);
            }
            float[] x = new float[b * D];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextDouble();
            }
            double[] t = new double[LABELLED * C];
            float[] tf = new float[t.length];
            for (int row = 0; row < LABELLED; row++) {
                int c = r.nextInt(C);
                t[row * C + c] = 1;
                tf[row * C + c] = 1;
            }
            double[] xd = dbl(x);

            double[][] analytic = twinGradient(xd, t, p, f);
            for (int i = 0; i < p.length; i++) {
                int pi = i;
                ReferenceGradientTest.check("twin d " + names.get(i) + " " + what, seed, p[i], analytic[i], v -> {
                    double[][] q = p.clone();
                    q[pi] = v;
                    return twinObjective(xd, t, q, f);
                });
            }

            double got = j.objective(ws.of(x, b, D), ws.of(tf, LABELLED, C), new WeightDecay(LAMBDA));
            double want = twinObjective(xd, t, p, f);
            assertEquals(want, got, 1e-5 * (1 + Math.abs(want)), what + ": objective");
            for (int i = 0; i < params.size(); i++) {
                Compare.normClose(what + ": d " + names.get(i), params.get(i).grad().toArray(), analytic[i], 1e-4, q -> "[" + q + "]");
            }
        }
    }

    /** J = CE(logits of the labelled rows) + W R(all rows) + (LAMBDA / 2) (|W1|^2 + |W2|^2 + |W3|^2). */
    static double twinObjective(double[] x, double[] t, double[][] p, Activation f) {
        int b = LABELLED + UNLABELED;
        double[] a = Reference.map(f, Reference.denseForward(x, p[0], p[1], b, D, H));
        double[] z = Reference.denseForward(a, p[2], p[3], b, H, C);
        double[] zl = java.util.Arrays.copyOf(z, LABELLED * C);
        double[] rec = Reference.map(Activation.SIGMOID, Reference.denseForward(a, p[4], p[5], b, H, D));
        return Reference.softmaxCe(zl, t, LABELLED, C) + W * Reference.mseMean(rec, x)
                + Reference.weightDecay(p[0], LAMBDA) + Reference.weightDecay(p[2], LAMBDA) + Reference.weightDecay(p[4], LAMBDA);
    }

    /** dJ/dp for every parameter tensor, composed from the twins' backward rules. */
    static double[][] twinGradient(double[] x, double[] t, double[][] p, Activation f) {
        int b = LABELLED + UNLABELED;
        double[] z1 = Reference.denseForward(x, p[0], p[1], b, D, H);
        double[] a = Reference.map(f, z1);
        double[] z2 = Reference.denseForward(a, p[2], p[3], b, H, C);
        double[] dz2 = new double[b * C];
        System.arraycopy(Reference.softmaxCeGrad(java.util.Arrays.copyOf(z2, LABELLED * C), t, LABELLED, C), 0, dz2, 0, LABELLED * C);
        double[][] g2 = Reference.denseBackward(a, p[2], dz2, b, H, C);
        double[] z3 = Reference.denseForward(a, p[4], p[5], b, H, D);
        double[] rec = Reference.map(Activation.SIGMOID, z3);
        double[] dr = Reference.mseMeanGrad(rec, x);
        for (int i = 0; i < dr.length; i++) {
            dr[i] *= W;
        }
        double[][] g3 = Reference.denseBackward(a, p[4], Reference.mapBackward(Activation.SIGMOID, z3, dr), b, H, D);
        double[] da = g2[0].clone();
        for (int i = 0; i < da.length; i++) {
            da[i] += g3[0][i];
        }
        double[][] g1 = Reference.denseBackward(x, p[0], Reference.mapBackward(f, z1, da), b, D, H);
        double[][] g = {g1[1], g1[2], g2[1], g2[2], g3[1], g3[2]};
        for (int w : new int[] {0, 2, 4}) {
            for (int i = 0; i < g[w].length; i++) {
                g[w][i] += LAMBDA * p[w][i];
            }
        }
        return g;
    }
}
