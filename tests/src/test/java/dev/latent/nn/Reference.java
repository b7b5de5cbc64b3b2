package dev.latent.nn;

import dev.latent.kernel.Activation;

/**
 * The naive double-precision twin of every layer, loss and penalty: plain loops over double[] arrays
 * that read like the formulas. It is the oracle the fast float layers are compared with, and its own
 * gradients are checked against central finite differences ({@link LayerContract} for the layers, {@link ReferenceGradientTest} for losses and penalties).
 * Shapes: batches are row-major (B, n) arrays.
 */
final class Reference {

    private Reference() {
    }

    /** y (B, out) = x (B, in) W^T (W is (out, in)) + b. */
    static double[] denseForward(double[] x, double[] w, double[] b, int batch, int in, int out) {
        double[] y = new double[batch * out];
        for (int s = 0; s < batch; s++) {
            for (int o = 0; o < out; o++) {
                double z = b == null ? 0 : b[o];
                for (int i = 0; i < in; i++) {
                    z += w[o * in + i] * x[s * in + i];
                }
                y[s * out + o] = z;
            }
        }
        return y;
    }

    /** Returns {dx, dW, db} for dense given dy (B, out). */
    static double[][] denseBackward(double[] x, double[] w, double[] dy, int batch, int in, int out) {
        double[] dx = new double[batch * in];
        double[] dw = new double[out * in];
        double[] db = new double[out];
        for (int s = 0; s < batch; s++) {
            for (int o = 0; o < out; o++) {
                double g = dy[s * out + o];
                db[o] += g;
                for (int i = 0; i < in; i++) {
                    dw[o * in + i] += g * x[s * in + i];
                    dx[s * in + i] += g * w[o * in + i];
                }
            }
        }
        return new double[][] {dx, dw, db};
    }

    /** y (B, in) = h (B, hid) W (W is (hid, in), the encoder's) + c. */
    static double[] tiedForward(double[] h, double[] w, double[] c, int batch, int hid, int in) {
        double[] y = new double[batch * in];
        for (int s = 0; s < batch; s++) {
            for (int i = 0; i < in; i++) {
                double z = c == null ? 0 : c[i];
                for (int j = 0; j < hid; j++) {
                    z += h[s * hid + j] * w[j * in + i];
                }
                y[s * in + i] = z;
            }
        }
        return y;
    }

    /** Returns {dh, dW, dc} for the tied decoder given dy (B, in). */
    static double[][] tiedBackward(double[] h, double[] w, double[] dy, int batch, int hid, int in) {
        double[] dh = new double[batch * hid];
        double[] dw = new double[hid * in];
        double[] dc = new double[in];
        for (int s = 0; s < batch; s++) {
            for (int i = 0; i < in; i++) {
                double g = dy[s * in + i];
                dc[i] += g;
                for (int j = 0; j < hid; j++) {
                    dw[j * in + i] += h[s * hid + j] * g;
                    dh[s * hid + j] += g * w[j * in + i];
                }
            }
        }
        return new double[][] {dh, dw, dc};
    }

    static double act(Activation f, double z) {
        return switch (f.kind()) {
            case SIGMOID -> 1 / (1 + Math.exp(-z));
            case TANH -> Math.tanh(z);
            case RELU -> Math.max(0, z);
            case LEAKY_RELU -> z > 0 ? z : f.slope() * z;
            case SOFTPLUS -> Math.log(1 + Math.exp(z));
            case IDENTITY -> z;
        };
    }

    /** f'(z), written from z for every kind (the fast kernels may read a instead). */
    static double actDerivative(Activation f, double z) {
        return switch (f.kind()) {
            case SIGMOID -> {
                double s = 1 / (1 + Math.exp(-z));
                yield s * (1 - s);
            }
            case TANH -> 1 - Math.tanh(z) * Math.tanh(z);
            case RELU -> z > 0 ? 1 : 0;
            case LEAKY_RELU -> z > 0 ? 1 : f.slope();
            case SOFTPLUS -> 1 / (1 + Math.exp(-z));
            case IDENTITY -> 1;
        };
    }

    static double[] map(Activation f, double[] z) {
        double[] a = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            a[i] = act(f, z[i]);
        }
        return a;
    }

    static double[] mapBackward(Activation f, double[] z, double[] da) {
        double[] dz = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            dz[i] = actDerivative(f, z[i]) * da[i];
        }
        return dz;
    }

    /** MSE as the seeds write it, per sample 1/2 sum (y - t)^2, averaged over the batch. */
    static double mseHalfSum(double[] y, double[] t, int batch) {
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += 0.5 * (y[i] - t[i]) * (y[i] - t[i]);
        }
        return s / batch;
    }

    static double[] mseHalfSumGrad(double[] y, double[] t, int batch) {
        double[] g = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            g[i] = (y[i] - t[i]) / batch;
        }
        return g;
    }

    /** PyTorch's MSELoss: mean over all elements of (y - t)^2. */
    static double mseMean(double[] y, double[] t) {
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += (y[i] - t[i]) * (y[i] - t[i]);
        }
        return s / y.length;
    }

    static double[] mseMeanGrad(double[] y, double[] t) {
        double[] g = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            g[i] = 2 * (y[i] - t[i]) / y.length;
        }
        return g;
    }

    /** Binary cross-entropy on probabilities, mean over elements. */
    static double bce(double[] p, double[] t) {
        double s = 0;
        for (int i = 0; i < p.length; i++) {
            s -= t[i] * Math.log(p[i]) + (1 - t[i]) * Math.log(1 - p[i]);
        }
        return s / p.length;
    }

    static double[] bceGrad(double[] p, double[] t) {
        double[] g = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            g[i] = (-t[i] / p[i] + (1 - t[i]) / (1 - p[i])) / p.length;
        }
        return g;
    }

    /** Binary cross-entropy of sigmoid(z), mean over elements, written naively. */
    static double bceLogits(double[] z, double[] t) {
        double[] p = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            p[i] = 1 / (1 + Math.exp(-z[i]));
        }
        return bce(p, t);
    }

    static double[] bceLogitsGrad(double[] z, double[] t) {
        double[] g = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            g[i] = (1 / (1 + Math.exp(-z[i])) - t[i]) / z.length;
        }
        return g;
    }

    /** Softmax cross-entropy, -(1/B) sum t log softmax(z). */
    static double softmaxCe(double[] z, double[] t, int batch, int classes) {
        double s = 0;
        for (int b = 0; b < batch; b++) {
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                sum += Math.exp(z[b * classes + c]);
            }
            for (int c = 0; c < classes; c++) {
                s -= t[b * classes + c] * Math.log(Math.exp(z[b * classes + c]) / sum);
            }
        }
        return s / batch;
    }

    static double[] softmaxCeGrad(double[] z, double[] t, int batch, int classes) {
        double[] g = new double[z.length];
        for (int b = 0; b < batch; b++) {
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                sum += Math.exp(z[b * classes + c]);
            }
            double tsum = 0;
            for (int c = 0; c < classes; c++) {
                tsum += t[b * classes + c];
            }
            for (int c = 0; c < classes; c++) {
                g[b * classes + c] = (tsum * Math.exp(z[b * classes + c]) / sum - t[b * classes + c]) / batch;
            }
        }
        return g;
    }

    /** KL sparsity beta * sum_j KL(rho || mean_b a_bj). */
    static double kl(double[] a, int batch, int units, double rho, double beta) {
        double s = 0;
        for (int j = 0; j < units; j++) {
            double r = 0;
            for (int b = 0; b < batch; b++) {
                r += a[b * units + j];
            }
            r /= batch;
            s += rho * Math.log(rho / r) + (1 - rho) * Math.log((1 - rho) / (1 - r));
        }
        return beta * s;
    }

    static double[] klGrad(double[] a, int batch, int units, double rho, double beta) {
        double[] g = new double[a.length];
        for (int j = 0; j < units; j++) {
            double r = 0;
            for (int b = 0; b < batch; b++) {
                r += a[b * units + j];
            }
            r /= batch;
            for (int b = 0; b < batch; b++) {
                g[b * units + j] = beta / batch * (-rho / r + (1 - rho) / (1 - r));
            }
        }
        return g;
    }

    /** L1 activity (beta / B) sum |a|. */
    static double l1(double[] a, int batch, double beta) {
        double s = 0;
        for (double v : a) {
            s += Math.abs(v);
        }
        return beta * s / batch;
    }

    static double[] l1Grad(double[] a, int batch, double beta) {
        double[] g = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            g[i] = beta / batch * Math.signum(a[i]);
        }
        return g;
    }

    /** (lambda / 2) sum w^2. */
    static double weightDecay(double[] w, double lambda) {
        double s = 0;
        for (double v : w) {
            s += v * v;
        }
        return 0.5 * lambda * s;
    }
}
