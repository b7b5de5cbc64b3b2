package dev.latent.nn;

/**
 * The naive double-precision twins of the image and regularization layers: plain loops over double[]
 * arrays that read like the formulas in each layer's javadoc, written without im2col, GEMM or any
 * other trick of the fast layers. Images are row-major NCHW arrays (B, C, H, W); weights use PyTorch's
 * layouts (Conv2d (OC, C, k, k), ConvTranspose2d (C, OC, k, k)). Gradients are checked against
 * central finite differences by {@link LayerContract}.
 */
final class ConvReference {

    private ConvReference() {
    }

    /** Conv2d output size: (n + 2p - k) / s + 1. */
    static int convOut(int n, int k, int s, int p) {
        return (n + 2 * p - k) / s + 1;
    }

    /** ConvTranspose2d output size: (n - 1) s - 2p + k + op. */
    static int convTransposeOut(int n, int k, int s, int p, int op) {
        return (n - 1) * s - 2 * p + k + op;
    }

    /** y[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] x[n, c, i*s - p + u, j*s - p + v] (0 outside). */
    static double[] conv2d(double[] x, double[] w, double[] b, int batch, int c, int h, int wd, int oc, int k, int s, int p) {
        int oh = convOut(h, k, s, p);
        int ow = convOut(wd, k, s, p);
        double[] y = new double[batch * oc * oh * ow];
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < oc; o++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        double z = b == null ? 0 : b[o];
                        for (int ci = 0; ci < c; ci++) {
                            for (int u = 0; u < k; u++) {
                                for (int v = 0; v < k; v++) {
                                    int iy = i * s - p + u;
                                    int ix = j * s - p + v;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                        z += w[((o * c + ci) * k + u) * k + v] * x[((n * c + ci) * h + iy) * wd + ix];
                                    }
                                }
                            }
                        }
                        y[((n * oc + o) * oh + i) * ow + j] = z;
                    }
                }
            }
        }
        return y;
    }

    /** Returns {dx, dW, db} of conv2d given dy (B, OC, OH, OW). */
    static double[][] conv2dBackward(double[] x, double[] w, double[] dy, int batch, int c, int h, int wd, int oc,
                                     int k, int s, int p) {
        int oh = convOut(h, k, s, p);
        int ow = convOut(wd, k, s, p);
        double[] dx = new double[x.length];
        double[] dw = new double[w.length];
        double[] db = new double[oc];
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < oc; o++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        double g = dy[((n * oc + o) * oh + i) * ow + j];
                        db[o] += g;
                        for (int ci = 0; ci < c; ci++) {
                            for (int u = 0; u < k; u++) {
                                for (int v = 0; v < k; v++) {
                                    int iy = i * s - p + u;
                                    int ix = j * s - p + v;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                        int wi = ((o * c + ci) * k + u) * k + v;
                                        int xi = ((n * c + ci) * h + iy) * wd + ix;
                                        dw[wi] += g * x[xi];
                                        dx[xi] += g * w[wi];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return new double[][] {dx, dw, db};
    }

    /**
     * y[n, o, i*s - p + u, j*s - p + v] += x[n, c, i, j] w[c, o, u, v] (terms outside y dropped),
     * then y += b[o]; y is (B, OC, OH, OW) with OH = (H - 1) s - 2p + k + op.
     */
    static double[] convTranspose2d(double[] x, double[] w, double[] b, int batch, int c, int h, int wd, int oc,
                                    int k, int s, int p, int op) {
        int oh = convTransposeOut(h, k, s, p, op);
        int ow = convTransposeOut(wd, k, s, p, op);
        double[] y = new double[batch * oc * oh * ow];
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < oc; o++) {
                for (int q = 0; q < oh * ow; q++) {
                    y[(n * oc + o) * oh * ow + q] = b == null ? 0 : b[o];
                }
            }
            for (int ci = 0; ci < c; ci++) {
                for (int i = 0; i < h; i++) {
                    for (int j = 0; j < wd; j++) {
                        double xv = x[((n * c + ci) * h + i) * wd + j];
                        for (int o = 0; o < oc; o++) {
                            for (int u = 0; u < k; u++) {
                                for (int v = 0; v < k; v++) {
                                    int oy = i * s - p + u;
                                    int ox = j * s - p + v;
                                    if (oy >= 0 && oy < oh && ox >= 0 && ox < ow) {
                                        y[((n * oc + o) * oh + oy) * ow + ox] += xv * w[((ci * oc + o) * k + u) * k + v];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return y;
    }

    /** Returns {dx, dW, db} of convTranspose2d given dy (B, OC, OH, OW). */
    static double[][] convTranspose2dBackward(double[] x, double[] w, double[] dy, int batch, int c, int h, int wd,
                                              int oc, int k, int s, int p, int op) {
        int oh = convTransposeOut(h, k, s, p, op);
        int ow = convTransposeOut(wd, k, s, p, op);
        double[] dx = new double[x.length];
        double[] dw = new double[w.length];
        double[] db = new double[oc];
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < oc; o++) {
                for (int q = 0; q < oh * ow; q++) {
                    db[o] += dy[(n * oc + o) * oh * ow + q];
                }
            }
            for (int ci = 0; ci < c; ci++) {
                for (int i = 0; i < h; i++) {
                    for (int j = 0; j < wd; j++) {
                        int xi = ((n * c + ci) * h + i) * wd + j;
                        for (int o = 0; o < oc; o++) {
                            for (int u = 0; u < k; u++) {
                                for (int v = 0; v < k; v++) {
                                    int oy = i * s - p + u;
                                    int ox = j * s - p + v;
                                    if (oy >= 0 && oy < oh && ox >= 0 && ox < ow) {
                                        double g = dy[((n * oc + o) * oh + oy) * ow + ox];
                                        int wi = ((ci * oc + o) * k + u) * k + v;
                                        dx[xi] += g * w[wi];
                                        dw[wi] += g * x[xi];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return new double[][] {dx, dw, db};
    }

    /** Flat index in x of the window maximum for output (n, c, i, j): the first maximum in row-major window order. */
    static int argmax(double[] x, int n, int c, int ch, int h, int w, int k, int s, int i, int j) {
        int best = -1;
        for (int u = 0; u < k; u++) {
            for (int v = 0; v < k; v++) {
                int xi = ((n * c + ch) * h + i * s + u) * w + j * s + v;
                if (best < 0 || x[xi] > x[best]) {
                    best = xi;
                }
            }
        }
        return best;
    }

    /** y[n, c, i, j] = max_{u, v < k} x[n, c, i*s + u, j*s + v]. */
    static double[] maxPool(double[] x, int batch, int c, int h, int w, int k, int s) {
        int oh = (h - k) / s + 1;
        int ow = (w - k) / s + 1;
        double[] y = new double[batch * c * oh * ow];
        for (int n = 0; n < batch; n++) {
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        y[((n * c + ch) * oh + i) * ow + j] = x[argmax(x, n, c, ch, h, w, k, s, i, j)];
                    }
                }
            }
        }
        return y;
    }

    /** dx[argmax of window (n, c, i, j)] += dy[n, c, i, j]. */
    static double[] maxPoolBackward(double[] x, double[] dy, int batch, int c, int h, int w, int k, int s) {
        int oh = (h - k) / s + 1;
        int ow = (w - k) / s + 1;
        double[] dx = new double[x.length];
        for (int n = 0; n < batch; n++) {
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        dx[argmax(x, n, c, ch, h, w, k, s, i, j)] += dy[((n * c + ch) * oh + i) * ow + j];
                    }
                }
            }
        }
        return dx;
    }

    /** y[n, c, i, j] = (1 / k^2) sum_{u, v < k} x[n, c, i*s + u, j*s + v]. */
    static double[] avgPool(double[] x, int batch, int c, int h, int w, int k, int s) {
        int oh = (h - k) / s + 1;
        int ow = (w - k) / s + 1;
        double[] y = new double[batch * c * oh * ow];
        for (int plane = 0; plane < batch * c; plane++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    double sum = 0;
                    for (int u = 0; u < k; u++) {
                        for (int v = 0; v < k; v++) {
                            sum += x[(plane * h + i * s + u) * w + j * s + v];
                        }
                    }
                    y[(plane * oh + i) * ow + j] = sum / (k * k);
                }
            }
        }
        return y;
    }

    /** dx[n, c, i*s + u, j*s + v] += dy[n, c, i, j] / k^2. */
    static double[] avgPoolBackward(double[] dy, int batch, int c, int h, int w, int k, int s) {
        int oh = (h - k) / s + 1;
        int ow = (w - k) / s + 1;
        double[] dx = new double[batch * c * h * w];
        for (int plane = 0; plane < batch * c; plane++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    for (int u = 0; u < k; u++) {
                        for (int v = 0; v < k; v++) {
                            dx[(plane * h + i * s + u) * w + j * s + v] += dy[(plane * oh + i) * ow + j] / (k * k);
                        }
                    }
                }
            }
        }
        return dx;
    }

    /** y[n, c, i, j] = x[n, c, i / s, j / s], y (B, C, s H, s W). */
    static double[] upsample(double[] x, int batch, int c, int h, int w, int s) {
        double[] y = new double[batch * c * h * s * w * s];
        for (int plane = 0; plane < batch * c; plane++) {
            for (int i = 0; i < h * s; i++) {
                for (int j = 0; j < w * s; j++) {
                    y[(plane * h * s + i) * w * s + j] = x[(plane * h + i / s) * w + j / s];
                }
            }
        }
        return y;
    }

    /** dx[n, c, i / s, j / s] += dy[n, c, i, j]. */
    static double[] upsampleBackward(double[] dy, int batch, int c, int h, int w, int s) {
        double[] dx = new double[batch * c * h * w];
        for (int plane = 0; plane < batch * c; plane++) {
            for (int i = 0; i < h * s; i++) {
                for (int j = 0; j < w * s; j++) {
                    dx[(plane * h + i / s) * w + j / s] += dy[(plane * h * s + i) * w * s + j];
                }
            }
        }
        return dx;
    }

    /** Per-channel {mean, biased variance} of x (B, C, S) over the B*S values of each channel. */
    static double[][] channelStats(double[] x, int batch, int c, int sp) {
        double[] mean = new double[c];
        double[] var = new double[c];
        int count = batch * sp;
        for (int ch = 0; ch < c; ch++) {
            for (int n = 0; n < batch; n++) {
                for (int i = 0; i < sp; i++) {
                    mean[ch] += x[(n * c + ch) * sp + i];
                }
            }
            mean[ch] /= count;
            for (int n = 0; n < batch; n++) {
                for (int i = 0; i < sp; i++) {
                    double d = x[(n * c + ch) * sp + i] - mean[ch];
                    var[ch] += d * d;
                }
            }
            var[ch] /= count;
        }
        return new double[][] {mean, var};
    }

    /** y = gamma_c (x - mean_c) / sqrt(var_c + eps) + beta_c for given per-channel mean and variance. */
    static double[] batchNormAffine(double[] x, double[] gamma, double[] beta, double[] mean, double[] var,
                                    int batch, int c, int sp, double eps) {
        double[] y = new double[x.length];
        for (int n = 0; n < batch; n++) {
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < sp; i++) {
                    int at = (n * c + ch) * sp + i;
                    y[at] = gamma[ch] * (x[at] - mean[ch]) / Math.sqrt(var[ch] + eps) + beta[ch];
                }
            }
        }
        return y;
    }

    /** Training-mode batch norm: the affine map with this batch's mean and biased variance. */
    static double[] batchNormTrain(double[] x, double[] gamma, double[] beta, int batch, int c, int sp, double eps) {
        double[][] st = channelStats(x, batch, c, sp);
        return batchNormAffine(x, gamma, beta, st[0], st[1], batch, c, sp, eps);
    }

    /**
     * Returns {dx, dgamma, dbeta} of training-mode batch norm given dy, with N = B*S and
     * xhat = (x - mean) / sqrt(var + eps): dx = gamma / (N sqrt(var + eps)) (N dy - sum dy - xhat sum dy xhat).
     */
    static double[][] batchNormTrainBackward(double[] x, double[] gamma, double[] dy, int batch, int c, int sp, double eps) {
        double[][] st = channelStats(x, batch, c, sp);
        int count = batch * sp;
        double[] dx = new double[x.length];
        double[] dgamma = new double[c];
        double[] dbeta = new double[c];
        for (int ch = 0; ch < c; ch++) {
            double sd = Math.sqrt(st[1][ch] + eps);
            double sumDy = 0;
            double sumDyXhat = 0;
            for (int n = 0; n < batch; n++) {
                for (int i = 0; i < sp; i++) {
                    int at = (n * c + ch) * sp + i;
                    sumDy += dy[at];
                    sumDyXhat += dy[at] * (x[at] - st[0][ch]) / sd;
                }
            }
            dgamma[ch] = sumDyXhat;
            dbeta[ch] = sumDy;
            for (int n = 0; n < batch; n++) {
                for (int i = 0; i < sp; i++) {
                    int at = (n * c + ch) * sp + i;
                    double xhat = (x[at] - st[0][ch]) / sd;
                    dx[at] = gamma[ch] / (count * sd) * (count * dy[at] - sumDy - xhat * sumDyXhat);
                }
            }
        }
        return new double[][] {dx, dgamma, dbeta};
    }

    /** Returns {dx, dgamma, dbeta} of the inference-mode (fixed statistics) affine map. */
    static double[][] batchNormAffineBackward(double[] x, double[] gamma, double[] mean, double[] var, double[] dy,
                                              int batch, int c, int sp, double eps) {
        double[] dx = new double[x.length];
        double[] dgamma = new double[c];
        double[] dbeta = new double[c];
        for (int n = 0; n < batch; n++) {
            for (int ch = 0; ch < c; ch++) {
                double sd = Math.sqrt(var[ch] + eps);
                for (int i = 0; i < sp; i++) {
                    int at = (n * c + ch) * sp + i;
                    dx[at] = gamma[ch] / sd * dy[at];
                    dgamma[ch] += dy[at] * (x[at] - mean[ch]) / sd;
                    dbeta[ch] += dy[at];
                }
            }
        }
        return new double[][] {dx, dgamma, dbeta};
    }

    /**
     * One running-statistics update (PyTorch): {mean', var'} with mean' = (1 - m) mean + m batchMean,
     * var' = (1 - m) var + m batchVar N / (N - 1).
     */
    static double[][] runningUpdate(double[] runMean, double[] runVar, double[] x, int batch, int c, int sp, double m) {
        double[][] st = channelStats(x, batch, c, sp);
        int count = batch * sp;
        double[] mean = new double[c];
        double[] var = new double[c];
        for (int ch = 0; ch < c; ch++) {
            mean[ch] = (1 - m) * runMean[ch] + m * st[0][ch];
            var[ch] = (1 - m) * runVar[ch] + m * st[1][ch] * count / (count - 1);
        }
        return new double[][] {mean, var};
    }

    /** Dropout and masking noise with a given mask: y = x * mask (backward: dx = dy * mask). */
    static double[] maskMul(double[] x, double[] mask) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i] * mask[i];
        }
        return y;
    }

    /** Elementwise sum: GaussianNoise with given noise values (y = x + noise, dx = dy) and the residual skip. */
    static double[] add(double[] x, double[] noise) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i] + noise[i];
        }
        return y;
    }

    /** Flatten and Reshape: the same row-major numbers (backward: dx = dy). */
    static double[] sameData(double[] x) {
        return x.clone();
    }

    /** Residual block with one inner convolution (stride 1, size-preserving): y = x + conv2d(x). */
    static double[] residualConv(double[] x, double[] w, double[] b, int batch, int c, int h, int wd, int k, int p) {
        double[] z = conv2d(x, w, b, batch, c, h, wd, c, k, 1, p);
        return add(x, z);
    }

    /** Returns {dx, dW, db} of residualConv: the convolution's gradients plus dy on the skip path. */
    static double[][] residualConvBackward(double[] x, double[] w, double[] dy, int batch, int c, int h, int wd, int k, int p) {
        double[][] g = conv2dBackward(x, w, dy, batch, c, h, wd, c, k, 1, p);
        return new double[][] {add(g[0], dy), g[1], g[2]};
    }
}
