package dev.latent.model;

import dev.latent.eval.FrechetDistance;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The symmetric eigendecomposition and the Frechet distance against closed forms. */
class GanFrechetDistanceTest {

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void eigendecompositionReconstructsTheMatrix(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = 1 + r.nextInt(40);
        double[][] a = randomSpd(n, r);
        for (int i = 0; i < n; i++) {
            a[i][i] -= 1.5; // make some eigenvalues negative: Jacobi does not need definiteness
        }
        double[] flat = new double[n * n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a[i], 0, flat, i * n, n);
        }
        dev.latent.data.SymmetricEigen e = dev.latent.data.SymmetricEigen.of(flat, n);
        double[][] v = new double[n][];
        for (int i = 0; i < n; i++) {
            v[i] = java.util.Arrays.copyOfRange(e.vectors(), i * n, (i + 1) * n);
        }
        double scale = 0;
        for (double[] row : a) {
            for (double x : row) {
                scale = Math.max(scale, Math.abs(x));
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                double vtv = 0;
                for (int k = 0; k < n; k++) {
                    s += v[i][k] * e.values()[k] * v[j][k];
                    vtv += v[k][i] * v[k][j];
                }
                assertEquals(a[i][j], s, 1e-10 * scale, "seed " + seed + ": (V L V^T)[" + i + "][" + j + "]");
                assertEquals(i == j ? 1 : 0, vtv, 1e-10, "seed " + seed + ": V^T V not the identity");
            }
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {4, 5, 6})
    void distanceOfTwoGaussiansMatchesTheClosedForm(long seed) {
        // 2x2: tr sqrt(M) = sqrt(tr M + 2 sqrt(det M)) for M with non-negative eigenvalues, and
        // tr sqrt(C1^(1/2) C2 C1^(1/2)) = tr sqrt(C1 C2); C1 and C2 need not commute.
        SplittableRandom r = new SplittableRandom(seed);
        double[][] c1 = randomSpd(2, r);
        double[][] c2 = randomSpd(2, r);
        double[] mu1 = {r.nextGaussian(), r.nextGaussian()};
        double[] mu2 = {r.nextGaussian(), r.nextGaussian()};
        double[][] p = {{c1[0][0] * c2[0][0] + c1[0][1] * c2[1][0], c1[0][0] * c2[0][1] + c1[0][1] * c2[1][1]},
                {c1[1][0] * c2[0][0] + c1[1][1] * c2[1][0], c1[1][0] * c2[0][1] + c1[1][1] * c2[1][1]}};
        double trSqrt = Math.sqrt(p[0][0] + p[1][1] + 2 * Math.sqrt(p[0][0] * p[1][1] - p[0][1] * p[1][0]));
        double expected = sq(mu1[0] - mu2[0]) + sq(mu1[1] - mu2[1]) + c1[0][0] + c1[1][1] + c2[0][0] + c2[1][1] - 2 * trSqrt;
        assertEquals(expected, FrechetDistance.distance(mu1, c1, mu2, c2), 1e-10 * Math.max(1, expected), "seed " + seed);
        // Diagonal (commuting) covariances of any size: sum (sqrt a_i - sqrt b_i)^2.
        int d = 30;
        double[][] a = new double[d][d];
        double[][] b = new double[d][d];
        double diag = 0;
        for (int i = 0; i < d; i++) {
            a[i][i] = 0.1 + r.nextDouble() * 3;
            b[i][i] = 0.1 + r.nextDouble() * 3;
            diag += sq(Math.sqrt(a[i][i]) - Math.sqrt(b[i][i]));
        }
        assertEquals(diag, FrechetDistance.distance(new double[d], a, new double[d], b), 1e-9, "seed " + seed + " diagonal");
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {7, 8})
    void sampleEstimatesApproachTheClosedFormAndSelfDistanceIsZero(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int d = 6;
        int n = 40_000;
        double[][] l1 = lowerFactor(d, r);
        double[][] l2 = lowerFactor(d, r);
        double[] mu2 = new double[d];
        mu2[0] = 1.0;
        try (Workspace ws = new Workspace("fd-test")) {
            Tensor x1 = draw(ws, n, new double[d], l1, r);
            Tensor x2 = draw(ws, n, mu2, l2, r);
            FrechetDistance.Stats s1 = FrechetDistance.stats(x1);
            FrechetDistance.Stats s2 = FrechetDistance.stats(x2);
            assertEquals(0, FrechetDistance.distance(s1, s1), 1e-9, "seed " + seed + ": distance of a set to itself");
            double exact = FrechetDistance.distance(new double[d], times(l1), mu2, times(l2));
            double est = FrechetDistance.distance(s1, s2);
            assertTrue(Math.abs(est - exact) < 0.05 * exact + 0.05,
                    "seed " + seed + ": sample estimate " + est + " vs exact " + exact);
            assertTrue(est > 0.5, "two different Gaussians are apart: " + est);
        }
    }

    private static Tensor draw(Workspace ws, int n, double[] mu, double[][] l, SplittableRandom r) {
        int d = mu.length;
        Tensor x = ws.allocate(n, d);
        double[] g = new double[d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                g[j] = r.nextGaussian();
            }
            for (int j = 0; j < d; j++) {
                double s = mu[j];
                for (int k = 0; k <= j; k++) {
                    s += l[j][k] * g[k];
                }
                x.set((long) i * d + j, (float) s);
            }
        }
        return x;
    }

    private static double[][] lowerFactor(int d, SplittableRandom r) {
        double[][] l = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < i; j++) {
                l[i][j] = r.nextGaussian() * 0.5;
            }
            l[i][i] = 0.5 + r.nextDouble();
        }
        return l;
    }

    /** L L^T. */
    private static double[][] times(double[][] l) {
        int d = l.length;
        double[][] c = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                for (int k = 0; k < d; k++) {
                    c[i][j] += l[i][k] * l[j][k];
                }
            }
        }
        return c;
    }

    private static double[][] randomSpd(int n, SplittableRandom r) {
        double[][] b = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                b[i][j] = r.nextGaussian();
            }
        }
        double[][] c = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                for (int k = 0; k < n; k++) {
                    c[i][j] += b[i][k] * b[j][k];
                }
            }
            c[i][i] += 0.1;
        }
        return c;
    }

    private static double sq(double x) {
        return x * x;
    }
}
