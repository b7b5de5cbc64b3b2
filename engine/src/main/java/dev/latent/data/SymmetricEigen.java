package dev.latent.data;

import java.util.Arrays;

/**
 * Eigendecomposition of a real symmetric matrix in double precision by the cyclic Jacobi method:
 * A = V diag(lambda) V^T with V orthogonal. Each rotation zeroes one off-diagonal element; sweeps over
 * all pairs repeat until the off-diagonal mass is below {@code 1e-14} of the total (quadratic
 * convergence once small). O(n^3) per sweep and usually under 10 sweeps: fine for covariance matrices
 * of patches (n up to a few hundred), which is what whitening needs. Eigenvalues are returned sorted
 * in decreasing order, eigenvectors as the columns of V in the same order, each with its largest
 * component made positive so that the result is deterministic.
 */
public final class SymmetricEigen {

    private final int n;
    private final double[] values;
    /** Row-major n x n; column j is the eigenvector of values[j]. */
    private final double[] vectors;
    private final int sweeps;

    private SymmetricEigen(int n, double[] values, double[] vectors, int sweeps) {
        this.n = n;
        this.values = values;
        this.vectors = vectors;
        this.sweeps = sweeps;
    }

    /**
     * Decomposes the symmetric n x n matrix {@code a} (row-major, not modified). Symmetry is checked
     * to a relative tolerance of 1e-9; NaN or infinite entries are rejected.
     */
    public static SymmetricEigen of(double[] a, int n) {
        if (n < 1 || a.length != (long) n * n) {
            throw new IllegalArgumentException("expected an n x n matrix with n >= 1, got " + a.length + " values for n = " + n);
        }
        double scale = 0;
        for (double v : a) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("matrix has a non-finite entry");
            }
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                if (Math.abs(a[i * n + j] - a[j * n + i]) > 1e-9 * Math.max(scale, Double.MIN_NORMAL)) {
                    throw new IllegalArgumentException("matrix is not symmetric at (" + i + ", " + j + ")");
                }
            }
        }
        double[] m = a.clone();
        double[] v = new double[n * n];
        for (int i = 0; i < n; i++) {
            v[i * n + i] = 1;
        }
        double total = 0;
        for (double x : m) {
            total += x * x;
        }
        int sweep = 0;
        for (; sweep < 100; sweep++) {
            double off = 0;
            for (int i = 0; i < n; i++) {
                for (int j = i + 1; j < n; j++) {
                    off += m[i * n + j] * m[i * n + j];
                }
            }
            if (off <= 1e-28 * total || off == 0) {
                break;
            }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    rotate(m, v, n, p, q);
                }
            }
        }
        double[] diag = new double[n];
        for (int i = 0; i < n; i++) {
            diag[i] = m[i * n + i];
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> Double.compare(diag[y], diag[x]));
        double[] values = new double[n];
        double[] vectors = new double[n * n];
        for (int c = 0; c < n; c++) {
            int src = order[c];
            values[c] = diag[src];
            int big = 0;
            for (int r = 1; r < n; r++) {
                if (Math.abs(v[r * n + src]) > Math.abs(v[big * n + src])) {
                    big = r;
                }
            }
            double sign = v[big * n + src] < 0 ? -1 : 1;
            for (int r = 0; r < n; r++) {
                vectors[r * n + c] = sign * v[r * n + src];
            }
        }
        return new SymmetricEigen(n, values, vectors, sweep);
    }

    /** One Jacobi rotation in the (p, q) plane that zeroes m[p][q]; accumulates it into v. */
    private static void rotate(double[] m, double[] v, int n, int p, int q) {
        double apq = m[p * n + q];
        if (apq == 0) {
            return;
        }
        double app = m[p * n + p];
        double aqq = m[q * n + q];
        // theta = cot(2 phi); t = tan(phi), the smaller root, for stability (Numerical Recipes' choice).
        double theta = (aqq - app) / (2 * apq);
        double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        if (theta == 0) {
            t = 1;
        }
        double c = 1 / Math.sqrt(t * t + 1);
        double s = t * c;
        for (int k = 0; k < n; k++) {
            double mkp = m[k * n + p];
            double mkq = m[k * n + q];
            m[k * n + p] = c * mkp - s * mkq;
            m[k * n + q] = s * mkp + c * mkq;
        }
        for (int k = 0; k < n; k++) {
            double mpk = m[p * n + k];
            double mqk = m[q * n + k];
            m[p * n + k] = c * mpk - s * mqk;
            m[q * n + k] = s * mpk + c * mqk;
        }
        m[p * n + q] = 0;
        m[q * n + p] = 0;
        for (int k = 0; k < n; k++) {
            double vkp = v[k * n + p];
            double vkq = v[k * n + q];
            v[k * n + p] = c * vkp - s * vkq;
            v[k * n + q] = s * vkp + c * vkq;
        }
    }

    public int size() {
        return n;
    }

    /** Eigenvalues, largest first (a copy). */
    public double[] values() {
        return values.clone();
    }

    public double value(int i) {
        return values[i];
    }

    /** Eigenvector i (unit norm, of the i-th largest eigenvalue) as a new array. */
    public double[] vector(int i) {
        double[] out = new double[n];
        for (int r = 0; r < n; r++) {
            out[r] = vectors[r * n + i];
        }
        return out;
    }

    /** V, row-major, eigenvectors in columns (a copy). */
    public double[] vectors() {
        return vectors.clone();
    }

    /** Sweeps used (for tests and diagnostics). */
    public int sweeps() {
        return sweeps;
    }
}
