package dev.latent.loss;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * NT-Xent (normalized temperature-scaled cross-entropy, SimCLR) over a batch of 2B embeddings z (2B, D)
 * in which rows i and i+B are two views of one image (the positive pair p(i)) and every other row is a
 * negative. With u_i = z_i / ||z_i|| and s_ik = u_i . u_k / tau:
 *
 * <pre>
 *   L = (1/2B) sum_i [ -s_{i,p(i)} + log sum_{k != i} exp(s_ik) ]
 *   G_ik = (softmax_{k != i}(s_i.)_k - [k = p(i)]) / 2B          (G_ii = 0)
 *   dL/du_i = (1/tau) sum_k (G_ik + G_ki) u_k
 *   dL/dz_i = (dL/du_i - u_i (u_i . dL/du_i)) / ||z_i||
 * </pre>
 *
 * Computed in double (2B x 2B similarities; B is a mini-batch, a few hundred at most); norms are floored
 * at 1e-12. dz is overwritten and may not alias z. Scratch grows to the largest batch seen, then steady.
 */
public final class NtXent {

    private final double tau;
    private double[] u = new double[0];
    private double[] norm = new double[0];
    private double[] g = new double[0];
    private double[] du = new double[0];

    public NtXent(double temperature) {
        if (!(temperature > 0) || !Double.isFinite(temperature)) {
            throw new IllegalArgumentException("NT-Xent temperature must be a finite value > 0, got " + temperature);
        }
        this.tau = temperature;
    }

    public double temperature() {
        return tau;
    }

    /** The loss of z (2B, D); writes dL/dz into dz (2B, D) unless dz is null. */
    public double valueAndGradient(Tensor z, Tensor dz) {
        if (z.rank() != 2 || z.dim(0) < 2 || z.dim(0) % 2 != 0) {
            throw new IllegalArgumentException("NT-Xent expects embeddings (2B, D) with B >= 1 pairs, got " + Tensor.format(z.shape()));
        }
        if (dz != null) {
            z.requireSameShape(dz);
        }
        int n = z.dim(0);
        int d = z.dim(1);
        int b = n / 2;
        if (u.length < n * d) {
            u = new double[n * d];
            du = new double[n * d];
        }
        if (norm.length < n) {
            norm = new double[n];
            g = new double[n * n];
        } else if (g.length < n * n) {
            g = new double[n * n];
        }
        MemorySegment zs = z.segment();
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                double v = zs.getAtIndex(JAVA_FLOAT, z.offset() + (long) i * d + j);
                u[i * d + j] = v;
                s += v * v;
            }
            double len = Math.max(Math.sqrt(s), 1e-12);
            norm[i] = len;
            for (int j = 0; j < d; j++) {
                u[i * d + j] /= len;
            }
        }
        double total = 0;
        for (int i = 0; i < n; i++) {
            int p = i < b ? i + b : i - b;
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < n; k++) {
                double s = 0;
                if (k != i) {
                    for (int j = 0; j < d; j++) {
                        s += u[i * d + j] * u[k * d + j];
                    }
                    s /= tau;
                    max = Math.max(max, s);
                }
                g[i * n + k] = s;
            }
            double sum = 0;
            for (int k = 0; k < n; k++) {
                if (k != i) {
                    sum += Math.exp(g[i * n + k] - max);
                }
            }
            double logSum = Math.log(sum) + max;
            total += logSum - g[i * n + p];
            for (int k = 0; k < n; k++) {
                g[i * n + k] = k == i ? 0 : (Math.exp(g[i * n + k] - logSum) - (k == p ? 1 : 0)) / n;
            }
        }
        if (dz != null) {
            MemorySegment ds = dz.segment();
            for (int i = 0; i < n; i++) {
                java.util.Arrays.fill(du, i * d, i * d + d, 0);
                for (int k = 0; k < n; k++) {
                    double wk = (g[i * n + k] + g[k * n + i]) / tau;
                    for (int j = 0; j < d; j++) {
                        du[i * d + j] += wk * u[k * d + j];
                    }
                }
                double dot = 0;
                for (int j = 0; j < d; j++) {
                    dot += du[i * d + j] * u[i * d + j];
                }
                for (int j = 0; j < d; j++) {
                    ds.setAtIndex(JAVA_FLOAT, dz.offset() + (long) i * d + j, (float) ((du[i * d + j] - u[i * d + j] * dot) / norm[i]));
                }
            }
        }
        return total / n;
    }

    @Override
    public String toString() {
        return "NT-Xent (tau " + tau + ")";
    }
}
