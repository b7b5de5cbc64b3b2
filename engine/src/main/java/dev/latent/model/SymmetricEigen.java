package dev.latent.model;

/**
 * Eigenvalues (and optionally eigenvectors) of a real symmetric matrix A (n x n, double) by the
 * cyclic Jacobi method: rotations A <- J^T A J that zero one off-diagonal entry at a time, swept
 * over all pairs until the off-diagonal norm is below 1e-15 of the total norm (quadratic convergence,
 * typically 6-10 sweeps). A = V diag(lambda) V^T with V orthogonal; V's columns are the eigenvectors.
 * Exact enough for the Frechet distance, and simple: the covariances here are at most a few hundred wide.
 */
public final class SymmetricEigen {

    /** Eigenvalues in no particular order, and V (n x n, column j the eigenvector of values[j]), or null. */
    public record Result(double[] values, double[][] vectors) {
    }

    private static final int MAX_SWEEPS = 100;

    private SymmetricEigen() {
    }

    /** Decomposes a symmetric a (not modified); {@code vectors} says whether to accumulate V. */
    public static Result of(double[][] a, boolean vectors) {
        int n = a.length;
        double[][] m = new double[n][];
        for (int i = 0; i < n; i++) {
            if (a[i].length != n) {
                throw new IllegalArgumentException("matrix must be square, row " + i + " has " + a[i].length + " of " + n);
            }
            m[i] = a[i].clone();
        }
        double[][] v = vectors ? identity(n) : null;
        double total = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                total += m[i][j] * m[i][j];
            }
        }
        double tol = 1e-30 * Math.max(total, Double.MIN_NORMAL);
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            double off = 0;
            for (int i = 0; i < n; i++) {
                for (int j = i + 1; j < n; j++) {
                    off += 2 * m[i][j] * m[i][j];
                }
            }
            if (off <= tol) {
                break;
            }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (m[p][q] != 0) {
                        rotate(m, v, p, q);
                    }
                }
            }
        }
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = m[i][i];
        }
        return new Result(values, v);
    }

    /** One Jacobi rotation in the (p, q) plane that zeroes m[p][q] (Golub and Van Loan, 8.5.2). */
    private static void rotate(double[][] m, double[][] v, int p, int q) {
        int n = m.length;
        double apq = m[p][q];
        double theta = (m[q][q] - m[p][p]) / (2 * apq);
        double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        if (theta == 0) {
            t = 1;
        }
        double c = 1 / Math.sqrt(t * t + 1);
        double s = t * c;
        for (int k = 0; k < n; k++) {
            double mkp = m[k][p];
            double mkq = m[k][q];
            m[k][p] = c * mkp - s * mkq;
            m[k][q] = s * mkp + c * mkq;
        }
        for (int k = 0; k < n; k++) {
            double mpk = m[p][k];
            double mqk = m[q][k];
            m[p][k] = c * mpk - s * mqk;
            m[q][k] = s * mpk + c * mqk;
        }
        m[p][q] = 0;
        m[q][p] = 0;
        if (v != null) {
            for (int k = 0; k < n; k++) {
                double vkp = v[k][p];
                double vkq = v[k][q];
                v[k][p] = c * vkp - s * vkq;
                v[k][q] = s * vkp + c * vkq;
            }
        }
    }

    private static double[][] identity(int n) {
        double[][] id = new double[n][n];
        for (int i = 0; i < n; i++) {
            id[i][i] = 1;
        }
        return id;
    }
}
