package dev.latent.eval;

import dev.latent.data.SymmetricEigen;

import dev.latent.tensor.Tensor;

/**
 * The Frechet distance between two Gaussians fitted to feature sets (the "FID" of Heusel et al. when
 * the features come from an image classifier), all in double:
 * <pre>
 * d^2 = ||mu1 - mu2||^2 + tr(C1) + tr(C2) - 2 tr sqrt(C1^(1/2) C2 C1^(1/2))
 * </pre>
 * tr sqrt(C1 C2) is computed as tr sqrt(S C2 S) with S = C1^(1/2) (same eigenvalues, but S C2 S is
 * symmetric positive semi-definite), both square roots by a symmetric eigendecomposition with negative
 * round-off eigenvalues clamped to 0. Covariances are the unbiased (N - 1) sample covariances.
 * The result is d^2 (as FID reports it), clamped at 0.
 */
public final class FrechetDistance {

    /** Mean (d) and covariance (d x d) of a feature set of N rows. */
    public record Stats(double[] mean, double[][] cov, int count) {
        public int dim() {
            return mean.length;
        }
    }

    private FrechetDistance() {
    }

    /** Mean and covariance of the rows of features (N, d), N &ge; 2, accumulated in double. */
    public static Stats stats(Tensor features) {
        int n = features.dim(0);
        int d = features.rowSize();
        if (n < 2) {
            throw new IllegalArgumentException("Frechet statistics need at least 2 rows, got " + n);
        }
        double[] mean = new double[d];
        double[] row = new double[d];
        for (int i = 0; i < n; i++) {
            long base = (long) i * d;
            for (int j = 0; j < d; j++) {
                mean[j] += features.get(base + j);
            }
        }
        for (int j = 0; j < d; j++) {
            mean[j] /= n;
        }
        double[][] cov = new double[d][d];
        for (int i = 0; i < n; i++) {
            long base = (long) i * d;
            for (int j = 0; j < d; j++) {
                row[j] = features.get(base + j) - mean[j];
            }
            for (int a = 0; a < d; a++) {
                double ra = row[a];
                if (ra == 0) {
                    continue;
                }
                double[] ca = cov[a];
                for (int b = a; b < d; b++) {
                    ca[b] += ra * row[b];
                }
            }
        }
        for (int a = 0; a < d; a++) {
            for (int b = a; b < d; b++) {
                cov[a][b] /= n - 1;
                cov[b][a] = cov[a][b];
            }
        }
        return new Stats(mean, cov, n);
    }

    /** d^2 between the Gaussians of two feature sets. */
    public static double distance(Stats s1, Stats s2) {
        return distance(s1.mean(), s1.cov(), s2.mean(), s2.cov());
    }

    /** d^2 between N(mu1, c1) and N(mu2, c2). */
    public static double distance(double[] mu1, double[][] c1, double[] mu2, double[][] c2) {
        int d = mu1.length;
        if (mu2.length != d || c1.length != d || c2.length != d) {
            throw new IllegalArgumentException("Frechet distance: dimensions differ (" + d + ", " + mu2.length + ", "
                    + c1.length + ", " + c2.length + ")");
        }
        double meanTerm = 0;
        for (int i = 0; i < d; i++) {
            double diff = mu1[i] - mu2[i];
            meanTerm += diff * diff;
        }
        double traces = 0;
        for (int i = 0; i < d; i++) {
            traces += c1[i][i] + c2[i][i];
        }
        double[][] s = sqrtPsd(c1);
        double[][] m = multiply(multiply(s, c2), s);
        symmetrize(m);
        double trSqrt = 0;
        for (double lambda : SymmetricEigen.of(flatten(m), d).values()) {
            trSqrt += Math.sqrt(Math.max(lambda, 0));
        }
        return Math.max(0, meanTerm + traces - 2 * trSqrt);
    }

    private static double[] flatten(double[][] a) {
        int d = a.length;
        double[] f = new double[d * d];
        for (int i = 0; i < d; i++) {
            System.arraycopy(a[i], 0, f, i * d, d);
        }
        return f;
    }

    /** The symmetric PSD square root V diag(sqrt(max(lambda, 0))) V^T. */
    static double[][] sqrtPsd(double[][] c) {
        int d = c.length;
        SymmetricEigen e = SymmetricEigen.of(flatten(c), d);
        double[] flat = e.vectors();
        double[][] v = new double[d][];
        for (int i = 0; i < d; i++) {
            v[i] = java.util.Arrays.copyOfRange(flat, i * d, (i + 1) * d);
        }
        double[] r = new double[d];
        for (int k = 0; k < d; k++) {
            r[k] = Math.sqrt(Math.max(e.value(k), 0));
        }
        double[][] out = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                double sum = 0;
                for (int k = 0; k < d; k++) {
                    sum += v[i][k] * r[k] * v[j][k];
                }
                out[i][j] = sum;
                out[j][i] = sum;
            }
        }
        return out;
    }

    private static double[][] multiply(double[][] a, double[][] b) {
        int n = a.length;
        int m = b[0].length;
        int inner = b.length;
        double[][] c = new double[n][m];
        for (int i = 0; i < n; i++) {
            double[] ci = c[i];
            for (int k = 0; k < inner; k++) {
                double aik = a[i][k];
                double[] bk = b[k];
                for (int j = 0; j < m; j++) {
                    ci[j] += aik * bk[j];
                }
            }
        }
        return c;
    }

    private static void symmetrize(double[][] m) {
        for (int i = 0; i < m.length; i++) {
            for (int j = i + 1; j < m.length; j++) {
                double avg = (m[i][j] + m[j][i]) / 2;
                m[i][j] = avg;
                m[j][i] = avg;
            }
        }
    }
}
