package dev.latent.nn;

import static dev.latent.nn.ReferenceGradientTest.check;
import static dev.latent.nn.ReferenceGradientTest.dot;
import static dev.latent.nn.ReferenceGradientTest.random;

import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The gradients of the {@link ConvReference} twins equal central finite differences, with
 * {@link ReferenceGradientTest}'s settings and reasoning: h = 1e-6,
 * |analytic - numeric| <= 1e-5 + 1e-3 |numeric|, differentiating the scalar proj . f(v) for a random
 * projection proj (so one pass checks a whole vector-Jacobian product). Shapes, kernels, strides,
 * paddings, output paddings and batch sizes (1 every third seed) are drawn per seed.
 * Max pooling gets inputs that are a shuffled grid of distinct values 2/n apart, so no window has a
 * tie or a runner-up within h of its maximum; batch norm is checked in training mode (the statistics
 * depend on x) and in inference mode (fixed statistics). Replay one seed with -Dprop.seed=N.
 */
class ConvReferenceGradientTest {

    static LongStream seeds() {
        return ReferenceGradientTest.seeds();
    }

    static int batch(SplittableRandom r, long seed) {
        return seed % 3 == 0 ? 1 : 1 + r.nextInt(3);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void conv2dGradients(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int b = batch(r, seed);
        int c = 1 + r.nextInt(3);
        int oc = 1 + r.nextInt(3);
        int k = 1 + r.nextInt(3);
        int s = 1 + r.nextInt(3);
        int p = r.nextInt(k);
        int h = Math.max(1, k - 2 * p) + r.nextInt(5);
        int w = Math.max(1, k - 2 * p) + r.nextInt(5);
        double[] x = random(r, b * c * h * w);
        double[] wt = random(r, oc * c * k * k);
        double[] bias = random(r, oc);
        double[] proj = random(r, b * oc * ConvReference.convOut(h, k, s, p) * ConvReference.convOut(w, k, s, p));
        double[][] g = ConvReference.conv2dBackward(x, wt, proj, b, c, h, w, oc, k, s, p);
        String what = "conv2d " + shape(b, c, h, w) + " k" + k + " s" + s + " p" + p;
        check(what + " dx", seed, x, g[0], v -> dot(proj, ConvReference.conv2d(v, wt, bias, b, c, h, w, oc, k, s, p)));
        check(what + " dW", seed, wt, g[1], v -> dot(proj, ConvReference.conv2d(x, v, bias, b, c, h, w, oc, k, s, p)));
        check(what + " db", seed, bias, g[2], v -> dot(proj, ConvReference.conv2d(x, wt, v, b, c, h, w, oc, k, s, p)));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void convTranspose2dGradients(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int b = batch(r, seed);
        int c = 1 + r.nextInt(3);
        int oc = 1 + r.nextInt(3);
        int k = 1 + r.nextInt(4);
        int s = 1 + r.nextInt(3);
        int p = r.nextInt(k);
        int op = r.nextInt(s);
        int h = 1 + r.nextInt(4);
        int w = 1 + r.nextInt(4);
        while (ConvReference.convTransposeOut(h, k, s, p, op) < 1) {
            h++;
        }
        while (ConvReference.convTransposeOut(w, k, s, p, op) < 1) {
            w++;
        }
        int hh = h;
        int ww = w;
        double[] x = random(r, b * c * h * w);
        double[] wt = random(r, c * oc * k * k);
        double[] bias = random(r, oc);
        double[] proj = random(r, b * oc * ConvReference.convTransposeOut(h, k, s, p, op)
                * ConvReference.convTransposeOut(w, k, s, p, op));
        double[][] g = ConvReference.convTranspose2dBackward(x, wt, proj, b, c, h, w, oc, k, s, p, op);
        String what = "convTranspose2d " + shape(b, c, h, w) + " k" + k + " s" + s + " p" + p + " op" + op;
        check(what + " dx", seed, x, g[0], v -> dot(proj, ConvReference.convTranspose2d(v, wt, bias, b, c, hh, ww, oc, k, s, p, op)));
        check(what + " dW", seed, wt, g[1], v -> dot(proj, ConvReference.convTranspose2d(x, v, bias, b, c, hh, ww, oc, k, s, p, op)));
        check(what + " db", seed, bias, g[2], v -> dot(proj, ConvReference.convTranspose2d(x, wt, v, b, c, hh, ww, oc, k, s, p, op)));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void poolingAndUpsampleGradients(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int b = batch(r, seed);
        int c = 1 + r.nextInt(3);
        int k = 1 + r.nextInt(3);
        int s = 1 + r.nextInt(3);
        int h = k + r.nextInt(5);
        int w = k + r.nextInt(5);
        int oh = (h - k) / s + 1;
        int ow = (w - k) / s + 1;
        String what = shape(b, c, h, w) + " k" + k + " s" + s;
        double[] x = distinct(r, b * c * h * w);
        double[] proj = random(r, b * c * oh * ow);
        check("maxPool " + what, seed, x, ConvReference.maxPoolBackward(x, proj, b, c, h, w, k, s),
                v -> dot(proj, ConvReference.maxPool(v, b, c, h, w, k, s)));
        double[] xa = random(r, b * c * h * w);
        check("avgPool " + what, seed, xa, ConvReference.avgPoolBackward(proj, b, c, h, w, k, s),
                v -> dot(proj, ConvReference.avgPool(v, b, c, h, w, k, s)));
        int scale = 1 + r.nextInt(3);
        double[] xu = random(r, b * c * h * w);
        double[] projU = random(r, b * c * h * scale * w * scale);
        check("upsample " + shape(b, c, h, w) + " x" + scale, seed, xu, ConvReference.upsampleBackward(projU, b, c, h, w, scale),
                v -> dot(projU, ConvReference.upsample(v, b, c, h, w, scale)));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void batchNormGradients(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double eps = 1e-5;
        // 1-d (B >= 2, C) and 2-d (B, C, H, W) with at least two values per channel
        int[][] layouts = {{2 + r.nextInt(4), 1 + r.nextInt(4), 1}, {batch(r, seed), 1 + r.nextInt(3), 2 + r.nextInt(8)}};
        for (int[] layout : layouts) {
            int b = layout[0];
            int c = layout[1];
            int sp = layout[2];
            // spread-out values keep every channel's variance away from 0, where 1/sqrt(var + eps) has
            // derivatives large enough to spoil the central difference
            double[] x = distinct(r, b * c * sp);
            double[] gamma = random(r, c);
            double[] beta = random(r, c);
            double[] proj = random(r, b * c * sp);
            String what = "batchNorm (" + b + ", " + c + ", S=" + sp + ")";
            double[][] g = ConvReference.batchNormTrainBackward(x, gamma, proj, b, c, sp, eps);
            check(what + " training dx", seed, x, g[0], v -> dot(proj, ConvReference.batchNormTrain(v, gamma, beta, b, c, sp, eps)));
            check(what + " training dgamma", seed, gamma, g[1], v -> dot(proj, ConvReference.batchNormTrain(x, v, beta, b, c, sp, eps)));
            check(what + " training dbeta", seed, beta, g[2], v -> dot(proj, ConvReference.batchNormTrain(x, gamma, v, b, c, sp, eps)));
            double[] mean = random(r, c);
            double[] var = ReferenceGradientTest.uniform(r, c, 0.2, 2);
            double[][] gi = ConvReference.batchNormAffineBackward(x, gamma, mean, var, proj, b, c, sp, eps);
            check(what + " inference dx", seed, x, gi[0],
                    v -> dot(proj, ConvReference.batchNormAffine(v, gamma, beta, mean, var, b, c, sp, eps)));
            check(what + " inference dgamma", seed, gamma, gi[1],
                    v -> dot(proj, ConvReference.batchNormAffine(x, v, beta, mean, var, b, c, sp, eps)));
            check(what + " inference dbeta", seed, beta, gi[2],
                    v -> dot(proj, ConvReference.batchNormAffine(x, gamma, v, mean, var, b, c, sp, eps)));
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void pointwiseAndResidualGradients(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = 1 + r.nextInt(20);
        double[] x = random(r, n);
        double[] proj = random(r, n);
        double[] mask = new double[n];
        for (int i = 0; i < n; i++) {
            mask[i] = r.nextDouble() < 0.4 ? 0 : 1 / 0.6;
        }
        double[] noise = random(r, n);
        check("dropout/masking", seed, x, ConvReference.maskMul(proj, mask), v -> dot(proj, ConvReference.maskMul(v, mask)));
        check("gaussian noise", seed, x, proj.clone(), v -> dot(proj, ConvReference.add(v, noise)));
        check("flatten/reshape", seed, x, proj.clone(), v -> dot(proj, ConvReference.sameData(v)));

        int b = batch(r, seed);
        int c = 1 + r.nextInt(3);
        int k = 1 + 2 * r.nextInt(2);
        int p = k / 2;
        int h = 1 + r.nextInt(4);
        int w = 1 + r.nextInt(4);
        double[] xr = random(r, b * c * h * w);
        double[] wt = random(r, c * c * k * k);
        double[] bias = random(r, c);
        double[] projR = random(r, xr.length);
        double[][] g = ConvReference.residualConvBackward(xr, wt, projR, b, c, h, w, k, p);
        String what = "residual conv " + shape(b, c, h, w) + " k" + k;
        check(what + " dx", seed, xr, g[0], v -> dot(projR, ConvReference.residualConv(v, wt, bias, b, c, h, w, k, p)));
        check(what + " dW", seed, wt, g[1], v -> dot(projR, ConvReference.residualConv(xr, v, bias, b, c, h, w, k, p)));
        check(what + " db", seed, bias, g[2], v -> dot(projR, ConvReference.residualConv(xr, wt, v, b, c, h, w, k, p)));
    }

    /** A shuffled grid -1 + 2 i / n, i < n: distinct values at least 2/n apart. */
    static double[] distinct(SplittableRandom r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = -1 + 2.0 * i / n;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            double t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        return v;
    }

    static String shape(int... dims) {
        return java.util.Arrays.toString(dims);
    }
}
