package dev.latent.model.rbm;

/**
 * The naive double-precision twin of a small {@link Rbm} (the oracle of the RBM tests): energies,
 * free energies, partition functions and gradients by brute-force enumeration, written from the
 * formulas with plain loops and no shortcut shared with the model. Visible states are enumerated for
 * Bernoulli units only (2^V of them), so V stays small (8 in the tests).
 */
final class RbmTwin {

    final int v;
    final int h;
    final double[] w; // (h, v)
    final double[] b;
    final double[] c;
    final boolean gaussian;
    final double sigma;

    RbmTwin(Rbm m) {
        this.v = m.inputSize();
        this.h = m.featureSize();
        this.w = new double[h * v];
        this.b = new double[v];
        this.c = new double[h];
        for (int i = 0; i < w.length; i++) {
            w[i] = m.weight().get(i);
        }
        for (int i = 0; i < v; i++) {
            b[i] = m.visibleBias().get(i);
        }
        for (int j = 0; j < h; j++) {
            c[j] = m.hiddenBias().get(j);
        }
        this.gaussian = m.config().visible() == Rbm.Units.GAUSSIAN;
        this.sigma = gaussian ? m.config().sigma() : 1;
    }

    /** E(v, h) from its definition. */
    double energy(double[] x, double[] hid) {
        double e = 0;
        for (int i = 0; i < v; i++) {
            e += gaussian ? (x[i] - b[i]) * (x[i] - b[i]) / (2 * sigma * sigma) : -b[i] * x[i];
        }
        for (int j = 0; j < h; j++) {
            e -= c[j] * hid[j];
            for (int i = 0; i < v; i++) {
                e -= hid[j] * w[j * v + i] * x[i] / sigma;
            }
        }
        return e;
    }

    /** F(v) = -log sum_h exp(-E(v, h)), summing the 2^H hidden states. */
    double freeEnergyByEnumeration(double[] x) {
        double[] terms = new double[1 << h];
        for (int s = 0; s < terms.length; s++) {
            terms[s] = -energy(x, bits(s, h));
        }
        return -logSumExp(terms);
    }

    /** log Z = log sum_v sum_h exp(-E(v, h)) over all 2^V x 2^H states (Bernoulli units). */
    double logPartitionByEnumeration() {
        double[] terms = new double[1 << v];
        for (int s = 0; s < terms.length; s++) {
            terms[s] = -freeEnergyByEnumeration(bits(s, v));
        }
        return logSumExp(terms);
    }

    /** p(h_j = 1 | v). */
    double[] hiddenProbabilities(double[] x) {
        double[] p = new double[h];
        for (int j = 0; j < h; j++) {
            double z = c[j];
            for (int i = 0; i < v; i++) {
                z += w[j * v + i] * x[i] / sigma;
            }
            p[j] = 1 / (1 + Math.exp(-z));
        }
        return p;
    }

    /**
     * -dF/dtheta at v, flattened as (W (h, v), b (v), c (h)): p(h|v) (v/sigma)^T, (v - b)/sigma^2 (v for
     * Bernoulli units), p(h|v).
     */
    double[] negFreeEnergyGradient(double[] x) {
        double[] p = hiddenProbabilities(x);
        double[] g = new double[h * v + v + h];
        for (int j = 0; j < h; j++) {
            for (int i = 0; i < v; i++) {
                g[j * v + i] = p[j] * x[i] / sigma;
            }
        }
        for (int i = 0; i < v; i++) {
            g[h * v + i] = gaussian ? (x[i] - b[i]) / (sigma * sigma) : x[i];
        }
        for (int j = 0; j < h; j++) {
            g[h * v + v + j] = p[j];
        }
        return g;
    }

    /** Mean of -dF/dtheta over rows. */
    double[] meanGradient(double[][] rows) {
        double[] g = new double[h * v + v + h];
        for (double[] x : rows) {
            double[] gx = negFreeEnergyGradient(x);
            for (int i = 0; i < g.length; i++) {
                g[i] += gx[i] / rows.length;
            }
        }
        return g;
    }

    /** The model distribution p(v) over the 2^V visible states (Bernoulli units). */
    double[] modelDistribution() {
        double logZ = logPartitionByEnumeration();
        double[] p = new double[1 << v];
        for (int s = 0; s < p.length; s++) {
            p[s] = Math.exp(-freeEnergyByEnumeration(bits(s, v)) - logZ);
        }
        return p;
    }

    /** The Gibbs transition T(v, v') = sum_h p(h|v) p(v'|h) over the 2^V states (Bernoulli units). */
    double[][] transition() {
        int nv = 1 << v;
        int nh = 1 << h;
        double[][] pvGivenH = new double[nh][nv];
        for (int t = 0; t < nh; t++) {
            double[] hid = bits(t, h);
            double[] pi = new double[v];
            for (int i = 0; i < v; i++) {
                double z = b[i];
                for (int j = 0; j < h; j++) {
                    z += w[j * v + i] * hid[j];
                }
                pi[i] = 1 / (1 + Math.exp(-z));
            }
            for (int s = 0; s < nv; s++) {
                double p = 1;
                for (int i = 0; i < v; i++) {
                    p *= (s >> i & 1) == 1 ? pi[i] : 1 - pi[i];
                }
                pvGivenH[t][s] = p;
            }
        }
        double[][] tr = new double[nv][nv];
        for (int s = 0; s < nv; s++) {
            double[] ph = hiddenProbabilities(bits(s, v));
            for (int t = 0; t < nh; t++) {
                double p = 1;
                for (int j = 0; j < h; j++) {
                    p *= (t >> j & 1) == 1 ? ph[j] : 1 - ph[j];
                }
                for (int s2 = 0; s2 < nv; s2++) {
                    tr[s][s2] += p * pvGivenH[t][s2];
                }
            }
        }
        return tr;
    }

    /** The distribution of v_k of a Gibbs chain started at the state {@code start}: the row of T^k. */
    double[] chainDistribution(double[][] tr, int start, int k) {
        int nv = tr.length;
        double[] p = new double[nv];
        p[start] = 1;
        for (int step = 0; step < k; step++) {
            double[] q = new double[nv];
            for (int s = 0; s < nv; s++) {
                if (p[s] != 0) {
                    for (int s2 = 0; s2 < nv; s2++) {
                        q[s2] += p[s] * tr[s][s2];
                    }
                }
            }
            p = q;
        }
        return p;
    }

    /** Mean and variance of -dF/dtheta under a distribution over the visible states: {mean, variance}. */
    double[][] moments(double[] dist) {
        int n = h * v + v + h;
        double[] m = new double[n];
        double[] sq = new double[n];
        for (int s = 0; s < dist.length; s++) {
            if (dist[s] == 0) {
                continue;
            }
            double[] g = negFreeEnergyGradient(bits(s, v));
            for (int i = 0; i < n; i++) {
                m[i] += dist[s] * g[i];
                sq[i] += dist[s] * g[i] * g[i];
            }
        }
        double[] var = new double[n];
        for (int i = 0; i < n; i++) {
            var[i] = Math.max(0, sq[i] - m[i] * m[i]);
        }
        return new double[][] {m, var};
    }

    /** The bits of s as a 0/1 vector of length n (bit i = unit i). */
    static double[] bits(long s, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = s >> i & 1;
        }
        return x;
    }

    /** The state number of a 0/1 vector. */
    static int state(double[] x) {
        int s = 0;
        for (int i = 0; i < x.length; i++) {
            if (x[i] != 0) {
                s |= 1 << i;
            }
        }
        return s;
    }

    static double logSumExp(double[] t) {
        double max = Double.NEGATIVE_INFINITY;
        for (double x : t) {
            max = Math.max(max, x);
        }
        double s = 0;
        for (double x : t) {
            s += Math.exp(x - max);
        }
        return max + Math.log(s);
    }
}
