package dev.latent.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The loss and penalty twins' gradients ({@link Reference}) equal central finite differences (the
 * layers' twins are checked by {@link LayerContract}), with PyTorch gradcheck's
 * settings: h = 1e-6, |analytic - numeric| <= 1e-5 + 1e-3 |numeric|. In double the central
 * difference has truncation error O(h^2 f''') ~ 1e-12 and rounding error ~ eps |f| / h ~ 1e-10 for
 * |f| ~ 1, so the tolerance leaves four orders of magnitude of margin while a wrong formula (a
 * missing factor, a transposed index) is off by O(1). Inputs of ReLU-like kinks are kept at least
 * 1e-3 away from 0 so the difference never straddles a kink. Replay one seed with -Dprop.seed=N.
 */
class ReferenceGradientTest {

    static final double H = 1e-6;

    static LongStream seeds() {
        String one = System.getProperty("prop.seed");
        return one != null ? LongStream.of(Long.parseLong(one)) : LongStream.rangeClosed(1, 6);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void lossGradients(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int batch = 1 + r.nextInt(4);
        int n = 1 + r.nextInt(6);
        double[] y = random(r, batch * n);
        double[] t = random(r, batch * n);
        check("mse half-sum", seed, y, Reference.mseHalfSumGrad(y, t, batch), v -> Reference.mseHalfSum(v, t, batch));
        check("mse mean", seed, y, Reference.mseMeanGrad(y, t), v -> Reference.mseMean(v, t));
        double[] p = uniform(r, batch * n, 0.05, 0.95);
        double[] t01 = uniform(r, batch * n, 0, 1);
        check("bce", seed, p, Reference.bceGrad(p, t01), v -> Reference.bce(v, t01));
        check("bce logits", seed, y, Reference.bceLogitsGrad(y, t01), v -> Reference.bceLogits(v, t01));
        double[] onehot = new double[batch * n];
        for (int b = 0; b < batch; b++) {
            onehot[b * n + r.nextInt(n)] = 1;
        }
        check("softmax ce", seed, y, Reference.softmaxCeGrad(y, onehot, batch, n), v -> Reference.softmaxCe(v, onehot, batch, n));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void penaltyGradients(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int batch = 1 + r.nextInt(4);
        int units = 1 + r.nextInt(6);
        double[] a = uniform(r, batch * units, 0.05, 0.95);
        check("kl sparsity", seed, a, Reference.klGrad(a, batch, units, 0.1, 3), v -> Reference.kl(v, batch, units, 0.1, 3));
        double[] s = awayFromZero(random(r, batch * units));
        check("l1 activity", seed, s, Reference.l1Grad(s, batch, 0.7), v -> Reference.l1(v, batch, 0.7));
        double[] w = random(r, 9);
        double[] dw = new double[9];
        for (int i = 0; i < 9; i++) {
            dw[i] = 0.3 * w[i];
        }
        check("weight decay", seed, w, dw, v -> Reference.weightDecay(v, 0.3));
    }

    /** Central differences of f at every coordinate of x, against the analytic gradient. */
    static void check(String what, long seed, double[] x, double[] analytic, Function<double[], Double> f) {
        for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            x[i] = keep + H;
            double up = f.apply(x);
            x[i] = keep - H;
            double down = f.apply(x);
            x[i] = keep;
            double numeric = (up - down) / (2 * H);
            double err = Math.abs(analytic[i] - numeric);
            int at = i;
            assertTrue(err <= 1e-5 + 1e-3 * Math.abs(numeric), () -> what + " (seed " + seed + "): d/dx[" + at
                    + "] analytic " + analytic[at] + " vs numeric " + numeric + " (replay with -Dprop.seed=" + seed + ")");
        }
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    static double[] random(SplittableRandom r, int n) {
        return uniform(r, n, -1, 1);
    }

    static double[] uniform(SplittableRandom r, int n, double lo, double hi) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = lo + (hi - lo) * r.nextDouble();
        }
        return v;
    }

    static double[] awayFromZero(double[] v) {
        for (int i = 0; i < v.length; i++) {
            if (Math.abs(v[i]) < 1e-3) {
                v[i] = v[i] < 0 ? -1e-3 : 1e-3;
            }
        }
        return v;
    }
}
