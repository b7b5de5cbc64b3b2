package dev.latent.data;

import dev.latent.kernel.Kernels;
import dev.latent.kernel.Transpose;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.stream.IntStream;

/**
 * ZCA whitening: x -> (x - mean) W with W = V diag(1 / sqrt(lambda + epsilon)) V^T, where
 * V diag(lambda) V^T is the covariance of the training rows. Mean, covariance and eigendecomposition
 * ({@link SymmetricEigen}) are computed in double; W and the bias -mean W are stored as float tensors
 * so that whitening a batch is one GEMM and one bias add on the kernel provider. Of all whitening
 * transforms, ZCA is the one closest to the identity, so whitened patches still look like patches
 * (with edges emphasized), which is why centroids learned on them can be drawn as images.
 * Epsilon regularizes the small-variance directions (pixel noise); 0.01 to 0.1 for normalized patches.
 */
public final class Whitening {

    /** Rows per partial covariance: fixed, so the double sums are added in the same order on any thread count. */
    private static final int BLOCK = 2048;

    private final Tensor mean;
    private final Tensor matrix;
    private final Tensor bias;
    private final double epsilon;
    private final double[] eigenvalues;

    private Whitening(Tensor mean, Tensor matrix, Tensor bias, double epsilon, double[] eigenvalues) {
        this.mean = mean;
        this.matrix = matrix;
        this.bias = bias;
        this.epsilon = epsilon;
        this.eigenvalues = eigenvalues;
    }

    /** Fits ZCA to the rows of x (N, d); the tensors live in {@code ws}. */
    public static Whitening fit(Tensor x, double epsilon, Workspace ws) {
        if (!(epsilon >= 0)) {
            throw new IllegalArgumentException("epsilon must be >= 0, got " + epsilon);
        }
        int n = x.dim(0);
        int d = x.rowSize();
        if (n < 2) {
            throw new IllegalArgumentException("whitening needs at least 2 rows, got " + n);
        }
        double[] mu = mean(x);
        return fromCovariance(mu, covariance(x, mu), epsilon, ws);
    }

    /**
     * ZCA from a mean (d) and covariance (d x d, row-major, symmetric), e.g. statistics gathered from many
     * shards: W = V diag(1 / sqrt(max(lambda, 0) + epsilon)) V^T.
     */
    public static Whitening fromCovariance(double[] mu, double[] cov, double epsilon, Workspace ws) {
        int d = mu.length;
        SymmetricEigen eig = SymmetricEigen.of(cov, d);
        double[] v = eig.vectors();
        double[] lam = eig.values();
        double[] w = new double[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                double s = 0;
                for (int c = 0; c < d; c++) {
                    s += v[i * d + c] * v[j * d + c] / Math.sqrt(Math.max(lam[c], 0) + epsilon);
                }
                w[i * d + j] = s;
                w[j * d + i] = s;
            }
        }
        return of(mu, w, epsilon, lam, ws);
    }

    /** A whitening from its mean (d) and symmetric matrix (d x d, row-major), e.g. read from a model file. */
    public static Whitening of(double[] mu, double[] w, double epsilon, double[] eigenvalues, Workspace ws) {
        int d = mu.length;
        if (w.length != d * d) {
            throw new IllegalArgumentException("whitening matrix has " + w.length + " values for d = " + d);
        }
        Tensor mean = ws.allocate(d);
        Tensor matrix = ws.allocate(d, d);
        Tensor bias = ws.allocate(d);
        for (int j = 0; j < d; j++) {
            mean.set(j, (float) mu[j]);
            // From the float-rounded mean and matrix, so a whitening read back from a model file is bit-identical.
            double b = 0;
            for (int i = 0; i < d; i++) {
                matrix.set((long) i * d + j, (float) w[i * d + j]);
                b -= (double) (float) mu[i] * (float) w[i * d + j];
            }
            bias.set(j, (float) b);
        }
        return new Whitening(mean, matrix, bias, epsilon, eigenvalues == null ? new double[0] : eigenvalues.clone());
    }

    /** Column means of x in double. */
    public static double[] mean(Tensor x) {
        int n = x.dim(0);
        int d = x.rowSize();
        MemorySegment seg = x.segment();
        long base = x.offset();
        double[] mu = new double[d];
        for (long i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                mu[j] += seg.getAtIndex(ValueLayout.JAVA_FLOAT, base + i * d + j);
            }
        }
        for (int j = 0; j < d; j++) {
            mu[j] /= n;
        }
        return mu;
    }

    /** Covariance (1/N convention) of the rows of x about {@code mu}, d x d row-major, in double. */
    public static double[] covariance(Tensor x, double[] mu) {
        int n = x.dim(0);
        int d = x.rowSize();
        double[] cov = covarianceSums(x, mu);
        for (int p = 0; p < d; p++) {
            for (int q = p; q < d; q++) {
                cov[p * d + q] /= n;
                cov[q * d + p] = cov[p * d + q];
            }
        }
        return cov;
    }

    /**
     * The upper triangle (q >= p) of sum_i (x_i - mu)(x_i - mu)^T over the rows of x, d x d row-major in
     * double (the lower triangle is zero): blocks of rows summed in a fixed order, so the result does not
     * depend on the thread count. {@link #covariance} divides it by N and mirrors it; shards' sums add up.
     */
    public static double[] covarianceSums(Tensor x, double[] mu) {
        int n = x.dim(0);
        int d = x.rowSize();
        MemorySegment seg = x.segment();
        long base = x.offset();
        int blocks = (n + BLOCK - 1) / BLOCK;
        double[][] partial = new double[blocks][];
        IntStream.range(0, blocks).parallel().forEach(b -> {
            double[] acc = new double[d * d];
            double[] row = new double[d];
            for (int i = b * BLOCK; i < Math.min(n, (b + 1) * BLOCK); i++) {
                for (int j = 0; j < d; j++) {
                    row[j] = seg.getAtIndex(ValueLayout.JAVA_FLOAT, base + (long) i * d + j) - mu[j];
                }
                for (int p = 0; p < d; p++) {
                    double rp = row[p];
                    int at = p * d;
                    for (int q = p; q < d; q++) {
                        acc[at + q] += rp * row[q];
                    }
                }
            }
            partial[b] = acc;
        });
        double[] cov = new double[d * d];
        for (double[] acc : partial) {
            for (int i = 0; i < cov.length; i++) {
                cov[i] += acc[i];
            }
        }
        return cov;
    }

    /** out (N, d) = (x - mean) W, one GEMM plus a bias add; out must not overlap x. */
    public void apply(Tensor x, Tensor out, Kernels k) {
        int n = x.dim(0);
        int d = dim();
        if (x.rowSize() != d || out.dim(0) != n || out.rowSize() != d) {
            throw new IllegalArgumentException("whitening of dimension " + d + ": x " + Tensor.format(x.shape())
                    + ", out " + Tensor.format(out.shape()));
        }
        k.gemm().gemm(Transpose.N, Transpose.N, n, d, d, 1f, x.segment(), x.offset(), d,
                matrix.segment(), matrix.offset(), d, 0f, out.segment(), out.offset(), d);
        k.elementwise().addBias(n, d, bias.segment(), bias.offset(), out.segment(), out.offset(), d);
    }

    /** A new whitened copy of x in {@code ws}. */
    public Tensor apply(Tensor x, Workspace ws, Kernels k) {
        Tensor out = ws.allocate(x.dim(0), x.rowSize());
        apply(x, out, k);
        return out;
    }

    public int dim() {
        return mean.dim(0);
    }

    /** The mean (d). */
    public Tensor mean() {
        return mean;
    }

    /** The symmetric whitening matrix W (d, d). */
    public Tensor matrix() {
        return matrix;
    }

    /** The bias -mean W (d), so that whitening is x W + bias. */
    public Tensor bias() {
        return bias;
    }

    public double epsilon() {
        return epsilon;
    }

    /** The covariance eigenvalues, largest first (empty when built from a file). */
    public double[] eigenvalues() {
        return eigenvalues.clone();
    }
}
