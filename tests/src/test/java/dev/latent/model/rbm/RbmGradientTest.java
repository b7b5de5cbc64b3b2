package dev.latent.model.rbm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The RBM's CD update against the double twin ({@link RbmTwin}) on an 8-visible x 4-hidden model with
 * weights of standard deviation 1 (large enough that CD-1 and the log-likelihood gradient differ):
 * <ul>
 *   <li>the statistics of two given sets of rows ({@link Rbm#gradient}): deterministic, compared
 *       within float rounding;
 *   <li>CD-k and PCD as estimators: their exact expectation is computed by enumeration (the Gibbs
 *       transition matrix T over the 256 visible states: v_k of a chain started at v_0 has the law of
 *       row v_0 of T^k), and so is the exact variance of each chain's statistic. The float model's
 *       average over N = 20,000 chains must lie within 5 standard errors sqrt(var / N) (+ 1e-5 for
 *       float rounding) of the exact expectation in every one of the 44 components. A correct sampler
 *       fails a component with probability about 6e-7, so a failure is a bug, not bad luck; the seed
 *       is fixed anyway.
 *   <li>with k = 50 the exact expected CD update equals the exact log-likelihood gradient
 *       (data term minus the model expectation, by enumeration), to 1e-6, while CD-1's differs by more
 *       than 10 standard errors: the tolerance above could tell CD-1 from the likelihood gradient.
 * </ul>
 */
class RbmGradientTest {

    static final int V = 8;
    static final int H = 4;
    static final int R = 2_500;

    static Rbm small(Rbm.Units units, int k, boolean persistent, long seed) {
        Rbm m = new Rbm(new Rbm.Config(units, H, 0.7, k, persistent, 0.05, 0.5, 0, 1.0), new int[] {V}, seed, Kernels.current());
        SplittableRandom r = new SplittableRandom(seed + 1);
        for (int i = 0; i < V; i++) {
            m.visibleBias().set(i, (float) r.nextGaussian());
        }
        for (int j = 0; j < H; j++) {
            m.hiddenBias().set(j, (float) r.nextGaussian());
        }
        return m;
    }

    static double[] flat(Rbm.Gradient g) {
        int n = (int) (g.weight().size() + g.visibleBias().size() + g.hiddenBias().size());
        double[] out = new double[n];
        int at = 0;
        for (Tensor t : new Tensor[] {g.weight(), g.visibleBias(), g.hiddenBias()}) {
            for (long i = 0; i < t.size(); i++) {
                out[at++] = t.get(i);
            }
        }
        return out;
    }

    static double[][] randomRows(SplittableRandom r, int n, boolean binary) {
        double[][] x = new double[n][V];
        for (double[] row : x) {
            for (int i = 0; i < V; i++) {
                row[i] = binary ? r.nextInt(2) : (float) r.nextDouble();
            }
        }
        return x;
    }

    static Tensor tensor(double[][] rows, int repeat, Workspace ws) {
        Tensor t = ws.allocate(rows.length * repeat, V);
        for (int rep = 0; rep < repeat; rep++) {
            for (int d = 0; d < rows.length; d++) {
                for (int i = 0; i < V; i++) {
                    t.set((long) (rep * rows.length + d) * V + i, (float) rows[d][i]);
                }
            }
        }
        return t;
    }

    @ParameterizedTest(name = "{0} units")
    @ValueSource(strings = {"bernoulli", "gaussian"})
    void statisticsOfGivenRowsMatchTheTwin(String units) {
        try (Rbm m = small(Rbm.Units.parse(units), 1, false, 11); Workspace ws = new Workspace("t")) {
            RbmTwin twin = new RbmTwin(m);
            SplittableRandom r = new SplittableRandom(12);
            double[][] pos = randomRows(r, 16, false);
            double[][] neg = randomRows(r, 24, false);
            Rbm.Gradient g = m.newGradient(ws);
            m.gradient(tensor(pos, 1, ws), tensor(neg, 1, ws), g);
            double[] got = flat(g);
            double[] a = twin.meanGradient(pos);
            double[] b = twin.meanGradient(neg);
            double worst = 0;
            for (int i = 0; i < got.length; i++) {
                double want = a[i] - b[i];
                worst = Math.max(worst, Math.abs(got[i] - want));
                assertEquals(want, got[i], 2e-5 * (1 + Math.abs(want)), "component " + i);
            }
            System.out.printf("rbm %s: CD statistics vs the double twin, largest difference %.2e%n", units, worst);
        }
    }

    @ParameterizedTest(name = "{0} units")
    @ValueSource(strings = {"bernoulli", "gaussian"})
    void freeEnergyMatchesEnumerationOfTheHiddenStates(String units) {
        try (Rbm m = small(Rbm.Units.parse(units), 1, false, 21); Workspace ws = new Workspace("t")) {
            RbmTwin twin = new RbmTwin(m);
            double[][] rows = randomRows(new SplittableRandom(22), 10, false);
            for (double[] row : rows) {
                double want = twin.freeEnergyByEnumeration(row);
                double got = m.freeEnergy(tensor(new double[][] {row}, 1, ws));
                assertEquals(want, got, 1e-5 * (1 + Math.abs(want)), "F(v)");
            }
        }
    }

    @Test
    void logPartitionMatchesEnumerationOfEveryState() {
        try (Rbm m = small(Rbm.Units.BERNOULLI, 1, false, 31)) {
            double want = new RbmTwin(m).logPartitionByEnumeration();
            double got = m.logPartition();
            System.out.printf("rbm 8x4: log Z by hidden enumeration %.12f, by all 4096 states %.12f%n", got, want);
            assertEquals(want, got, 1e-9 * (1 + Math.abs(want)));
        }
    }

    /**
     * Gaussian units: log Z = log sum_h prod_i integral exp(-E) dv_i, each integral by the trapezoid rule
     * over b_i + sigma a_i +- 12 sigma (200,001 points: quadrature error far below 1e-9), against the
     * closed form the model uses.
     */
    @Test
    void gaussianLogPartitionMatchesQuadrature() {
        try (Rbm m = small(Rbm.Units.GAUSSIAN, 1, false, 41)) {
            RbmTwin t = new RbmTwin(m);
            double[] terms = new double[1 << H];
            for (int s = 0; s < terms.length; s++) {
                double[] hid = RbmTwin.bits(s, H);
                double log = 0;
                for (int j = 0; j < H; j++) {
                    log += t.c[j] * hid[j];
                }
                for (int i = 0; i < V; i++) {
                    double a = 0;
                    for (int j = 0; j < H; j++) {
                        a += t.w[j * V + i] * hid[j];
                    }
                    double centre = t.b[i] + t.sigma * a;
                    int n = 200_000;
                    double lo = centre - 12 * t.sigma;
                    double step = 24 * t.sigma / n;
                    double ai = a;
                    int bi = i;
                    // integrand scaled by exp(-peak) to stay in range: peak = max of the exponent
                    java.util.function.DoubleUnaryOperator f = x -> -(x - t.b[bi]) * (x - t.b[bi]) / (2 * t.sigma * t.sigma) + x * ai / t.sigma;
                    double peak = f.applyAsDouble(centre);
                    double sum = 0;
                    for (int q = 0; q <= n; q++) {
                        double wq = q == 0 || q == n ? 0.5 : 1;
                        sum += wq * Math.exp(f.applyAsDouble(lo + q * step) - peak);
                    }
                    log += peak + Math.log(sum * step);
                }
                terms[s] = log;
            }
            double want = RbmTwin.logSumExp(terms);
            double got = m.logPartition();
            System.out.printf("gaussian rbm 8x4: log Z closed form %.10f, quadrature %.10f%n", got, want);
            assertEquals(want, got, 1e-8 * (1 + Math.abs(want)));
        }
    }

    /** Exact E and Var of CD-k's negative statistic, averaged over the chains' starting rows. */
    static double[][] expectedNegative(RbmTwin twin, double[][] tr, double[][] data, int k) {
        int n = twin.h * twin.v + twin.v + twin.h;
        double[] mean = new double[n];
        double[] var = new double[n];
        for (double[] d : data) {
            double[][] mv = twin.moments(twin.chainDistribution(tr, RbmTwin.state(d), k));
            for (int i = 0; i < n; i++) {
                mean[i] += mv[0][i] / data.length;
                var[i] += mv[1][i] / data.length;
            }
        }
        return new double[][] {mean, var};
    }

    /** Asserts |got - (pos - neg)| <= 5 sqrt(var / N) + 1e-5 in every component; returns the largest z-score. */
    static double assertWithinStandardErrors(double[] got, double[] pos, double[][] neg, int chains, String what) {
        double worstZ = 0;
        for (int i = 0; i < got.length; i++) {
            double want = pos[i] - neg[0][i];
            double se = Math.sqrt(neg[1][i] / chains);
            double tol = 5 * se + 1e-5;
            double diff = Math.abs(got[i] - want);
            worstZ = Math.max(worstZ, diff / Math.max(se, 1e-12));
            int comp = i;
            assertTrue(diff <= tol, () -> String.format("%s: component %d: got %.6f, exact expectation %.6f, standard error %.2e",
                    what, comp, got[comp], want, se));
        }
        return worstZ;
    }

    @ParameterizedTest(name = "CD-{0}")
    @ValueSource(ints = {1, 3, 50})
    void cdKAveragedOverChainsMatchesItsExactExpectation(int k) {
        try (Rbm m = small(Rbm.Units.BERNOULLI, k, false, 51); Workspace ws = new Workspace("t")) {
            RbmTwin twin = new RbmTwin(m);
            double[][] data = randomRows(new SplittableRandom(52), 8, true);
            double[][] tr = twin.transition();
            double[] pos = twin.meanGradient(data);
            double[][] neg = expectedNegative(twin, tr, data, k);
            Rbm.Gradient g = m.newGradient(ws);
            m.cdGradient(tensor(data, R, ws), new SplittableRandom(53), g);
            double z = assertWithinStandardErrors(flat(g), pos, neg, data.length * R, "CD-" + k);
            // the exact log-likelihood gradient, and how far this k's expectation is from it
            double[][] model = twin.moments(twin.modelDistribution());
            double far = 0;
            double gap = 0;
            for (int i = 0; i < pos.length; i++) {
                double d = Math.abs(neg[0][i] - model[0][i]);
                gap = Math.max(gap, d);
                far = Math.max(far, d / Math.sqrt(neg[1][i] / (data.length * R)));
            }
            System.out.printf("CD-%d on 8x4: largest z-score of the float estimate %.2f; exact E[CD-%d] - ML gradient: max %.2e (%.1f standard errors)%n",
                    k, z, k, gap, far);
            if (k == 1) {
                assertTrue(far > 10, "CD-1's expectation should be distinguishable from the ML gradient, is " + far + " standard errors away");
            }
            if (k == 50) {
                assertTrue(gap < 1e-6, "CD-50 in expectation should be the log-likelihood gradient, differs by " + gap);
            }
        }
    }

    /**
     * PCD with no parameter change is a Gibbs chain per fantasy particle: after t calls, chains started
     * at the data rows have the law of T^t. After 30 burn-in calls, one more call's estimate must match
     * the exact expectation under T^31 within 5 standard errors; T^31 is within 1e-6 of the model here,
     * so this is the log-likelihood gradient.
     */
    @Test
    void persistentChainsEstimateTheLikelihoodGradient() {
        try (Rbm m = small(Rbm.Units.BERNOULLI, 1, true, 61); Workspace ws = new Workspace("t")) {
            RbmTwin twin = new RbmTwin(m);
            double[][] data = randomRows(new SplittableRandom(62), 8, true);
            Tensor x = tensor(data, R, ws);
            Rbm.Gradient g = m.newGradient(ws);
            SplittableRandom r = new SplittableRandom(63);
            for (int t = 0; t < 30; t++) {
                m.cdGradient(x, r, g);
            }
            m.cdGradient(x, r, g);
            double[][] tr = twin.transition();
            double[][] neg = expectedNegative(twin, tr, data, 31);
            double[][] model = twin.moments(twin.modelDistribution());
            for (int i = 0; i < model[0].length; i++) {
                assertEquals(model[0][i], neg[0][i], 1e-6, "T^31 has mixed");
            }
            double z = assertWithinStandardErrors(flat(g), twin.meanGradient(data), neg, data.length * R, "PCD-1");
            System.out.printf("PCD-1 on 8x4 after 30 burn-in updates: largest z-score vs the exact ML gradient %.2f%n", z);
        }
    }
}
