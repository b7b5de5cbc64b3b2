package dev.latent.nn;

import static dev.latent.nn.LayerVsReferenceTest.abs;
import static dev.latent.nn.LayerVsReferenceTest.assertClose;
import static dev.latent.nn.LayerVsReferenceTest.assertNormClose;
import static dev.latent.nn.LayerVsReferenceTest.dbl;
import static dev.latent.nn.LayerVsReferenceTest.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.Activation;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The image and regularization layers, under every available kernel provider
 * ({@link KernelRegistry#availableNames()}, so a new provider is covered without edits), against their
 * double-precision twins ({@link ConvReference}) over random shapes, kernels, strides, paddings and
 * batch sizes including 1. Inputs are floats, so the twin sees exactly the values the fast layer
 * sees. Tolerances (eps = 2^-23, u = eps / 2), in the form of {@link LayerVsReferenceTest#assertClose}
 * (|got - ref| <= 2 k eps sum|terms|, sum|terms| from the twin run on absolute values), where k counts
 * the float roundings a result can accumulate:
 * <ul>
 *   <li>Conv2d (K = C k^2 taps, L = OH OW): forward k = K + 1 (GEMM over K, bias add); dx k = OC + k^2
 *       (GEMM over OC, then col2im adds at most k^2 columns); dW and db k = L + B (GEMM or row sum over
 *       L per sample, one accumulating rounding per sample);
 *   <li>ConvTranspose2d: forward k = C + k^2 + 1 (GEMM over C, col2im, bias); dx k = OC k^2;
 *       dW k = H W + B; db k = OH OW + B;
 *   <li>AvgPool: k = k^2 + 1 both ways (float window sum, one division); Upsample backward: k = s^2;
 *       MaxPool backward k = k^2 (overlapping windows add in float); MaxPool and Upsample forward
 *       copy values and must be exact;
 *   <li>BatchNorm works in double and rounds once: |got - ref| <= 2 eps |ref| + 1e-9 max|ref| (the
 *       floor covers double-precision differences under cancellation, e.g. dx, which sums to 0 per
 *       channel); running statistics: eps |ref| + 1e-12;
 *   <li>Dropout, masking and Gaussian noise: one float rounding of x * mask or x + noise, k = 1 on
 *       |ref| (or |x| + |noise|); Flatten, Reshape, identities at inference: exact bits;
 *   <li>a residual block of conv, tanh, conv: norm-wise relative 1e-4, as the composed autoencoder
 *       step in {@link LayerVsReferenceTest} (tanh kernels are only within ~1e-5 relative).
 * </ul>
 * Every backward runs twice on zeroed gradients and must give the same bits; a third run without
 * zeroing must double the parameter gradients (backward adds); with dx == null the parameter
 * gradients are the same bits. Dropout's rate is checked statistically: the number of dropped units
 * Z ~ Binomial(N, p) must satisfy |Z - N p| <= 5 sqrt(N p (1 - p)) (a 5-sigma bound, false-alarm
 * probability below 1e-6; the generators are seeded, so a pass is reproducible). The failing
 * provider and seed are in the test name; -Dprop.seed=N replays one seed.
 */
class ConvLayersVsReferenceTest {

    static final double EPS = LayerVsReferenceTest.EPS;

    static Stream<Arguments> cases() {
        return LayerVsReferenceTest.cases();
    }

    static Stream<String> providers() {
        return KernelRegistry.availableNames().stream();
    }

    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("cases")
    void conv2d(String provider, long seed) {
        Kernels k = KernelRegistry.load(provider);
        SplittableRandom r = new SplittableRandom(seed);
        int b = seed % 3 == 0 ? 1 : 1 + r.nextInt(5);
        int c = 1 + r.nextInt(4);
        int oc = 1 + r.nextInt(6);
        int kk = 1 + r.nextInt(5);
        int s = 1 + r.nextInt(3);
        int p = r.nextInt(kk);
        int h = Math.max(1, kk - 2 * p) + r.nextInt(10);
        int w = Math.max(1, kk - 2 * p) + r.nextInt(10);
        boolean bias = seed % 4 != 1;
        String what = "conv2d " + Tensor.format(b, c, h, w) + " -> " + oc + " k" + kk + " s" + s + " p" + p;
        try (Workspace ws = new Workspace("conv2d-test")) {
            Conv2d layer = new Conv2d("conv", c, oc, kk, s, p, bias);
            int[] in = {c, h, w};
            build(layer, in, b, k, ws);
            int oh = ConvReference.convOut(h, kk, s, p);
            int ow = ConvReference.convOut(w, kk, s, p);
            assertArrayEquals(new int[] {oc, oh, ow}, layer.outputShape(in), what + ": output shape");
            assertEquals(List.of(oc, c * kk * kk), dims(layer.weight().value()), what + ": weight layout (OC, C*k*k)");
            float[] x = random(r, b * c * h * w);
            float[] wt = random(r, oc * c * kk * kk);
            float[] bv = bias ? random(r, oc) : null;
            layer.weight().value().copyFrom(wt);
            if (bias) {
                layer.bias().value().copyFrom(bv);
            }
            Tensor xt = ws.of(x, batched(b, in));
            Tensor y = ws.allocate(batched(b, oc, oh, ow));
            layer.forward(xt, y, true);
            double[] ref = ConvReference.conv2d(dbl(x), dbl(wt), bias ? dbl(bv) : null, b, c, h, w, oc, kk, s, p);
            double[] mag = ConvReference.conv2d(abs(x), abs(wt), bias ? abs(bv) : null, b, c, h, w, oc, kk, s, p);
            assertClose(provider, seed, what + " forward", y.toArray(), ref, mag, c * kk * kk + 1);

            float[] dy = random(r, (int) y.size());
            Tensor dx = ws.allocate(batched(b, in));
            float[][] g = backwardChecked(provider, seed, what, layer, xt, y, dy, dx, ws);
            double[][] gr = ConvReference.conv2dBackward(dbl(x), dbl(wt), dbl(dy), b, c, h, w, oc, kk, s, p);
            double[][] gm = ConvReference.conv2dBackward(abs(x), abs(wt), abs(dy), b, c, h, w, oc, kk, s, p);
            assertClose(provider, seed, what + " dx", g[0], gr[0], gm[0], oc + kk * kk);
            assertClose(provider, seed, what + " dW", g[1], gr[1], gm[1], oh * ow + b);
            if (bias) {
                assertClose(provider, seed, what + " db", g[2], gr[2], gm[2], oh * ow + b);
            }
        }
    }

    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("cases")
    void convTranspose2d(String provider, long seed) {
        Kernels k = KernelRegistry.load(provider);
        SplittableRandom r = new SplittableRandom(seed);
        int b = seed % 3 == 0 ? 1 : 1 + r.nextInt(5);
        int c = 1 + r.nextInt(5);
        int oc = 1 + r.nextInt(4);
        int kk = 1 + r.nextInt(5);
        int s = 1 + r.nextInt(3);
        int p = r.nextInt(kk);
        int op = r.nextInt(s);
        int h = 1 + r.nextInt(7);
        int w = 1 + r.nextInt(7);
        while (ConvReference.convTransposeOut(h, kk, s, p, op) < 1) {
            h++;
        }
        while (ConvReference.convTransposeOut(w, kk, s, p, op) < 1) {
            w++;
        }
        boolean bias = seed % 4 != 2;
        String what = "convTranspose2d " + Tensor.format(b, c, h, w) + " -> " + oc + " k" + kk + " s" + s + " p" + p
                + " op" + op;
        try (Workspace ws = new Workspace("deconv-test")) {
            ConvTranspose2d layer = new ConvTranspose2d("deconv", c, oc, kk, s, p, op, bias);
            int[] in = {c, h, w};
            build(layer, in, b, k, ws);
            int oh = ConvReference.convTransposeOut(h, kk, s, p, op);
            int ow = ConvReference.convTransposeOut(w, kk, s, p, op);
            assertArrayEquals(new int[] {oc, oh, ow}, layer.outputShape(in), what + ": output shape");
            assertEquals(List.of(c, oc * kk * kk), dims(layer.weight().value()), what + ": weight layout (C, OC*k*k)");
            float[] x = random(r, b * c * h * w);
            float[] wt = random(r, c * oc * kk * kk);
            float[] bv = bias ? random(r, oc) : null;
            layer.weight().value().copyFrom(wt);
            if (bias) {
                layer.bias().value().copyFrom(bv);
            }
            Tensor xt = ws.of(x, batched(b, in));
            Tensor y = ws.allocate(batched(b, oc, oh, ow));
            layer.forward(xt, y, true);
            double[] ref = ConvReference.convTranspose2d(dbl(x), dbl(wt), bias ? dbl(bv) : null, b, c, h, w, oc, kk, s, p, op);
            double[] mag = ConvReference.convTranspose2d(abs(x), abs(wt), bias ? abs(bv) : null, b, c, h, w, oc, kk, s, p, op);
            assertClose(provider, seed, what + " forward", y.toArray(), ref, mag, c + kk * kk + 1);

            float[] dy = random(r, (int) y.size());
            Tensor dx = ws.allocate(batched(b, in));
            float[][] g = backwardChecked(provider, seed, what, layer, xt, y, dy, dx, ws);
            double[][] gr = ConvReference.convTranspose2dBackward(dbl(x), dbl(wt), dbl(dy), b, c, h, w, oc, kk, s, p, op);
            double[][] gm = ConvReference.convTranspose2dBackward(abs(x), abs(wt), abs(dy), b, c, h, w, oc, kk, s, p, op);
            assertClose(provider, seed, what + " dx", g[0], gr[0], gm[0], oc * kk * kk);
            assertClose(provider, seed, what + " dW", g[1], gr[1], gm[1], h * w + b);
            if (bias) {
                assertClose(provider, seed, what + " db", g[2], gr[2], gm[2], oh * ow + b);
            }
        }
    }

    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("cases")
    void poolingAndUpsample(String provider, long seed) {
        Kernels k = KernelRegistry.load(provider);
        SplittableRandom r = new SplittableRandom(seed);
        int b = seed % 3 == 0 ? 1 : 1 + r.nextInt(5);
        int c = 1 + r.nextInt(4);
        int kk = 1 + r.nextInt(4);
        int s = 1 + r.nextInt(3);
        int h = kk + r.nextInt(9);
        int w = kk + r.nextInt(9);
        int oh = (h - kk) / s + 1;
        int ow = (w - kk) / s + 1;
        int[] in = {c, h, w};
        String geo = Tensor.format(b, c, h, w) + " k" + kk + " s" + s;
        try (Workspace ws = new Workspace("pool-test")) {
            // distinct values: no ties, so the twin's and the layer's argmax agree by definition
            float[] x = floats(ConvReferenceGradientTest.distinct(r, b * c * h * w));
            Tensor xt = ws.of(x, batched(b, in));
            float[] dy = random(r, b * c * oh * ow);
            Tensor dx = ws.allocate(batched(b, in));

            MaxPool2d max = new MaxPool2d("maxpool", kk, s);
            build(max, in, b, k, ws);
            assertArrayEquals(new int[] {c, oh, ow}, max.outputShape(in), "maxpool " + geo + ": output shape");
            Tensor y = ws.allocate(batched(b, c, oh, ow));
            max.forward(xt, y, true);
            assertExact(provider, seed, "maxpool " + geo + " forward", y.toArray(), ConvReference.maxPool(dbl(x), b, c, h, w, kk, s));
            float[][] g = backwardChecked(provider, seed, "maxpool " + geo, max, xt, y, dy, dx, ws);
            assertClose(provider, seed, "maxpool " + geo + " dx", g[0], ConvReference.maxPoolBackward(dbl(x), dbl(dy), b, c, h, w, kk, s),
                    ConvReference.maxPoolBackward(dbl(x), abs(dy), b, c, h, w, kk, s), kk * kk);

            float[] xa = random(r, b * c * h * w);
            Tensor xat = ws.of(xa, batched(b, in));
            AvgPool2d avg = new AvgPool2d("avgpool", kk, s);
            build(avg, in, b, k, ws);
            avg.forward(xat, y, true);
            assertClose(provider, seed, "avgpool " + geo + " forward", y.toArray(), ConvReference.avgPool(dbl(xa), b, c, h, w, kk, s),
                    ConvReference.avgPool(abs(xa), b, c, h, w, kk, s), kk * kk + 1);
            g = backwardChecked(provider, seed, "avgpool " + geo, avg, xat, y, dy, dx, ws);
            assertClose(provider, seed, "avgpool " + geo + " dx", g[0], ConvReference.avgPoolBackward(dbl(dy), b, c, h, w, kk, s),
                    ConvReference.avgPoolBackward(abs(dy), b, c, h, w, kk, s), kk * kk + 1);

            int scale = 1 + r.nextInt(3);
            String up = "upsample " + Tensor.format(b, c, h, w) + " x" + scale;
            Upsample2d ups = new Upsample2d("upsample", scale);
            build(ups, in, b, k, ws);
            assertArrayEquals(new int[] {c, h * scale, w * scale}, ups.outputShape(in), up + ": output shape");
            Tensor yu = ws.allocate(batched(b, c, h * scale, w * scale));
            ups.forward(xat, yu, true);
            assertExact(provider, seed, up + " forward", yu.toArray(), ConvReference.upsample(dbl(xa), b, c, h, w, scale));
            float[] dyu = random(r, (int) yu.size());
            g = backwardChecked(provider, seed, up, ups, xat, yu, dyu, dx, ws);
            assertClose(provider, seed, up + " dx", g[0], ConvReference.upsampleBackward(dbl(dyu), b, c, h, w, scale),
                    ConvReference.upsampleBackward(abs(dyu), b, c, h, w, scale), scale * scale);
        }
    }

    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("cases")
    void batchNorm(String provider, long seed) {
        Kernels k = KernelRegistry.load(provider);
        SplittableRandom r = new SplittableRandom(seed);
        int c = 1 + r.nextInt(5);
        int b1 = seed % 3 == 0 ? 1 : 2 + r.nextInt(8);
        checkBatchNorm(provider, seed, k, r, new int[] {c}, b1);
        int c2 = 1 + r.nextInt(4);
        int b2 = seed % 3 == 0 ? 1 : 1 + r.nextInt(4);
        checkBatchNorm(provider, seed, k, r, new int[] {c2, 1 + r.nextInt(6), 1 + r.nextInt(6)}, b2);
    }

    private static void checkBatchNorm(String provider, long seed, Kernels k, SplittableRandom r, int[] in, int b) {
        int c = in[0];
        int sp = (int) (Tensor.sizeOf(in) / c);
        double eps = BatchNorm.DEFAULT_EPS;
        String what = "batchNorm " + Tensor.format(batched(b, in));
        try (Workspace ws = new Workspace("bn-test")) {
            BatchNorm bn = new BatchNorm("bn", c);
            build(bn, in, b, k, ws);
            bn.init(new SplittableRandom(seed));
            float[] gamma = random(r, c);
            float[] beta = random(r, c);
            float[] runMean = random(r, c);
            float[] runVar = floats(ReferenceGradientTest.uniform(r, c, 0.2, 2));
            bn.gamma().value().copyFrom(gamma);
            bn.beta().value().copyFrom(beta);
            bn.runningMean().copyFrom(runMean);
            bn.runningVar().copyFrom(runVar);
            float[] x = random(r, b * c * sp);
            for (int i = 0; i < x.length; i++) {
                x[i] = 2 * x[i] + 0.5f; // not already normalized
            }
            Tensor xt = ws.of(x, batched(b, in));
            Tensor y = ws.allocate(batched(b, in));
            Tensor dx = ws.allocate(batched(b, in));
            float[] dy = random(r, x.length);

            if (b * sp >= 2) {
                bn.forward(xt, y, true);
                assertBn(provider, seed, what + " training forward", y.toArray(),
                        ConvReference.batchNormTrain(dbl(x), dbl(gamma), dbl(beta), b, c, sp, eps));
                double[][] run = ConvReference.runningUpdate(dbl(runMean), dbl(runVar), dbl(x), b, c, sp, 0.1);
                assertRunning(provider, seed, what + " running mean", bn.runningMean().toArray(), run[0]);
                assertRunning(provider, seed, what + " running var (unbiased)", bn.runningVar().toArray(), run[1]);
                float[][] g = backwardChecked(provider, seed, what + " training", bn, xt, y, dy, dx, ws);
                double[][] gr = ConvReference.batchNormTrainBackward(dbl(x), dbl(gamma), dbl(dy), b, c, sp, eps);
                assertBn(provider, seed, what + " training dx", g[0], gr[0]);
                assertBn(provider, seed, what + " training dgamma", g[1], gr[1]);
                assertBn(provider, seed, what + " training dbeta", g[2], gr[2]);
            } else {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bn.forward(xt, y, true));
                assertTrue(e.getMessage().contains("bn"), e.getMessage());
            }

            // inference uses the running statistics (whatever training left there) and leaves them alone
            float[] rm = bn.runningMean().toArray();
            float[] rv = bn.runningVar().toArray();
            bn.forward(xt, y, false);
            assertArrayEquals(rm, bn.runningMean().toArray(), what + ": inference changed the running mean");
            assertArrayEquals(rv, bn.runningVar().toArray(), what + ": inference changed the running variance");
            assertBn(provider, seed, what + " inference forward", y.toArray(),
                    ConvReference.batchNormAffine(dbl(x), dbl(gamma), dbl(beta), dbl(rm), dbl(rv), b, c, sp, eps));
            float[][] g = backwardChecked(provider, seed, what + " inference", bn, xt, y, dy, dx, ws);
            double[][] gr = ConvReference.batchNormAffineBackward(dbl(x), dbl(gamma), dbl(rm), dbl(rv), dbl(dy), b, c, sp, eps);
            assertBn(provider, seed, what + " inference dx", g[0], gr[0]);
            assertBn(provider, seed, what + " inference dgamma", g[1], gr[1]);
            assertBn(provider, seed, what + " inference dbeta", g[2], gr[2]);
        }
    }

    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("cases")
    void flattenAndReshape(String provider, long seed) {
        Kernels k = KernelRegistry.load(provider);
        SplittableRandom r = new SplittableRandom(seed);
        int b = seed % 3 == 0 ? 1 : 1 + r.nextInt(5);
        int[] in = {1 + r.nextInt(4), 1 + r.nextInt(6), 1 + r.nextInt(6)};
        int n = (int) Tensor.sizeOf(in);
        try (Workspace ws = new Workspace("flatten-test")) {
            float[] x = random(r, b * n);
            Tensor xt = ws.of(x, batched(b, in));
            Flatten flat = new Flatten("flatten");
            build(flat, in, b, k, ws);
            assertArrayEquals(new int[] {n}, flat.outputShape(in), "flatten output shape");
            Tensor y = ws.allocate(b, n);
            flat.forward(xt, y, true);
            assertExact(provider, seed, "flatten forward", y.toArray(), ConvReference.sameData(dbl(x)));
            float[] dy = random(r, b * n);
            Tensor dx = ws.allocate(batched(b, in));
            float[][] g = backwardChecked(provider, seed, "flatten", flat, xt, y, dy, dx, ws);
            assertExact(provider, seed, "flatten dx", g[0], ConvReference.sameData(dbl(dy)));

            Reshape back = new Reshape("unflatten", in[0], -1, in[2]);
            build(back, new int[] {n}, b, k, ws);
            assertArrayEquals(in, back.outputShape(new int[] {n}), "reshape with -1: output shape");
            Tensor z = ws.allocate(batched(b, in));
            back.forward(y, z, true);
            assertExact(provider, seed, "reshape forward", z.toArray(), ConvReference.sameData(dbl(x)));
            float[] dz = random(r, b * n);
            Tensor dflat = ws.allocate(b, n);
            g = backwardChecked(provider, seed, "reshape", back, y, z, dz, dflat, ws);
            assertExact(provider, seed, "reshape dx", g[0], ConvReference.sameData(dbl(dz)));
        }
    }

    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("cases")
    void dropout(String provider, long seed) {
        Kernels k = KernelRegistry.load(provider);
        SplittableRandom r = new SplittableRandom(seed);
        double p = new double[] {0.1, 0.25, 0.5, 0.8}[r.nextInt(4)];
        int b = seed % 3 == 0 ? 1 : 1 + r.nextInt(6);
        int[] in = {1 + r.nextInt(3), 1 + r.nextInt(7), 1 + r.nextInt(7)};
        int n = (int) Tensor.sizeOf(in);
        String what = "dropout p=" + p + " " + Tensor.format(batched(b, in));
        try (Workspace ws = new Workspace("dropout-test")) {
            Dropout drop = new Dropout("dropout", p, seed);
            build(drop, in, b, k, ws);
            float[] x = random(r, b * n);
            Tensor xt = ws.of(x, batched(b, in));
            Tensor y = ws.allocate(batched(b, in));
            Tensor dx = ws.allocate(batched(b, in));
            float[] dy = random(r, b * n);

            drop.forward(xt, y, true);
            float[] mask = Arrays.copyOf(drop.mask().toArray(), b * n);
            float keep = (float) (1 / (1 - p));
            for (float m : mask) {
                assertTrue(m == 0f || m == keep, provider + " seed " + seed + ": " + what + " mask value " + m);
            }
            assertClose(provider, seed, what + " training forward", y.toArray(), ConvReference.maskMul(dbl(x), dbl(mask)),
                    absd(ConvReference.maskMul(dbl(x), dbl(mask))), 1);
            float[][] g = backwardChecked(provider, seed, what + " training", drop, xt, y, dy, dx, ws);
            assertClose(provider, seed, what + " training dx", g[0], ConvReference.maskMul(dbl(dy), dbl(mask)),
                    absd(ConvReference.maskMul(dbl(dy), dbl(mask))), 1);

            // the same seed replays the same masks
            drop.reseed(seed);
            drop.forward(xt, y, true);
            assertArrayEquals(mask, Arrays.copyOf(drop.mask().toArray(), b * n), what + ": reseed does not replay the mask");

            // inference: the identity, both ways
            drop.forward(xt, y, false);
            assertArrayEquals(x, y.toArray(), what + ": inference is not the identity");
            g = backwardChecked(provider, seed, what + " inference", drop, xt, y, dy, dx, ws);
            assertArrayEquals(dy, g[0], what + ": inference backward is not the identity");
        }
        // the rate: Z zeros among N units, Z ~ Binomial(N, p)
        int units = 4096;
        int batch = 8;
        try (Workspace ws = new Workspace("dropout-rate")) {
            Dropout drop = new Dropout("dropout", p, seed);
            build(drop, new int[] {units}, batch, k, ws);
            Tensor ones = ws.allocate(batch, units);
            ones.fill(1f);
            Tensor y = ws.allocate(batch, units);
            drop.forward(ones, y, true);
            long zeros = 0;
            for (float v : y.toArray()) {
                zeros += v == 0f ? 1 : 0;
            }
            double nTotal = (double) units * batch;
            double sd = Math.sqrt(nTotal * p * (1 - p));
            long z = zeros;
            assertTrue(Math.abs(z - nTotal * p) <= 5 * sd, () -> provider + " seed " + seed + ": dropout p=" + p + " dropped "
                    + z + " of " + (long) nTotal + " units, expected " + nTotal * p + " +- 5*" + sd);
        }
    }

    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("cases")
    void inputCorruption(String provider, long seed) {
        Kernels k = KernelRegistry.load(provider);
        SplittableRandom r = new SplittableRandom(seed);
        int b = seed % 3 == 0 ? 1 : 1 + r.nextInt(6);
        int[] in = {1 + r.nextInt(60)};
        int n = in[0];
        try (Workspace ws = new Workspace("corruption-test")) {
            float[] x = random(r, b * n);
            Tensor xt = ws.of(x, batched(b, in));
            Tensor y = ws.allocate(batched(b, in));
            Tensor dx = ws.allocate(batched(b, in));
            float[] dy = random(r, b * n);

            double sigma = 0.05 + r.nextDouble();
            String gw = "gaussian noise sigma=" + sigma + " " + Tensor.format(batched(b, in));
            GaussianNoise gauss = new GaussianNoise("gauss", sigma, seed);
            build(gauss, in, b, k, ws);
            gauss.forward(xt, y, true);
            SplittableRandom replay = new SplittableRandom(seed);
            double[] noise = new double[b * n];
            double[] mag = new double[b * n];
            for (int i = 0; i < noise.length; i++) {
                noise[i] = (float) (sigma * replay.nextGaussian());
                mag[i] = Math.abs(x[i]) + Math.abs(noise[i]);
            }
            assertClose(provider, seed, gw + " training forward", y.toArray(), ConvReference.add(dbl(x), noise), mag, 1);
            float[][] g = backwardChecked(provider, seed, gw, gauss, xt, y, dy, dx, ws);
            assertArrayEquals(dy, g[0], gw + ": backward is not the identity");
            gauss.forward(xt, y, false);
            assertArrayEquals(x, y.toArray(), gw + ": inference is not the identity");

            double fraction = new double[] {0, 0.1, 0.3, 0.5, 1}[r.nextInt(5)];
            String mw = "masking noise fraction=" + fraction + " " + Tensor.format(batched(b, in));
            MaskingNoise masking = new MaskingNoise("masking", fraction, seed);
            build(masking, in, b, k, ws);
            masking.forward(xt, y, true);
            float[] mask = Arrays.copyOf(masking.mask().toArray(), b * n);
            for (int s = 0; s < b; s++) {
                int zeros = 0;
                for (int i = 0; i < n; i++) {
                    float m = mask[s * n + i];
                    assertTrue(m == 0f || m == 1f, mw + ": mask value " + m);
                    zeros += m == 0f ? 1 : 0;
                }
                assertEquals(Math.round(fraction * n), zeros, mw + ": sample " + s + " has the wrong number of masked units");
            }
            assertExact(provider, seed, mw + " training forward", y.toArray(), ConvReference.maskMul(dbl(x), dbl(mask)));
            g = backwardChecked(provider, seed, mw, masking, xt, y, dy, dx, ws);
            assertExact(provider, seed, mw + " training dx", g[0], ConvReference.maskMul(dbl(dy), dbl(mask)));
            masking.forward(xt, y, false);
            assertArrayEquals(x, y.toArray(), mw + ": inference is not the identity");
        }
    }

    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("cases")
    void residual(String provider, long seed) {
        Kernels k = KernelRegistry.load(provider);
        SplittableRandom r = new SplittableRandom(seed);
        int b = seed % 3 == 0 ? 1 : 1 + r.nextInt(4);
        int c = 1 + r.nextInt(4);
        int kk = 1 + 2 * r.nextInt(3);
        int p = kk / 2;
        int h = 1 + r.nextInt(7);
        int w = 1 + r.nextInt(7);
        int[] in = {c, h, w};
        String what = "residual " + Tensor.format(batched(b, in)) + " k" + kk;
        try (Workspace ws = new Workspace("residual-test")) {
            // one inner convolution: element-wise tolerances against the twin
            Conv2d conv = new Conv2d("inner", c, c, kk, 1, p, true);
            Residual block = new Residual("res", List.of(conv));
            build(block, in, b, k, ws);
            float[] x = random(r, b * c * h * w);
            float[] wt = random(r, c * c * kk * kk);
            float[] bv = random(r, c);
            conv.weight().value().copyFrom(wt);
            conv.bias().value().copyFrom(bv);
            Tensor xt = ws.of(x, batched(b, in));
            Tensor y = ws.allocate(batched(b, in));
            block.forward(xt, y, true);
            double[] mag = ConvReference.residualConv(abs(x), abs(wt), abs(bv), b, c, h, w, kk, p);
            assertClose(provider, seed, what + " forward", y.toArray(),
                    ConvReference.residualConv(dbl(x), dbl(wt), dbl(bv), b, c, h, w, kk, p), mag, c * kk * kk + 2);
            float[] dy = random(r, x.length);
            Tensor dx = ws.allocate(batched(b, in));
            float[][] g = backwardChecked(provider, seed, what, block, xt, y, dy, dx, ws);
            double[][] gr = ConvReference.residualConvBackward(dbl(x), dbl(wt), dbl(dy), b, c, h, w, kk, p);
            double[][] gm = ConvReference.residualConvBackward(abs(x), abs(wt), abs(dy), b, c, h, w, kk, p);
            assertClose(provider, seed, what + " dx", g[0], gr[0], gm[0], c + kk * kk + 1);
            assertClose(provider, seed, what + " dW", g[1], gr[1], gm[1], h * w + b);
            assertClose(provider, seed, what + " db", g[2], gr[2], gm[2], h * w + b);

            // conv -> tanh -> conv: the twin composed by hand, norm-wise
            Conv2d c1 = new Conv2d("inner1", c, c, kk, 1, p, true);
            Conv2d c2 = new Conv2d("inner2", c, c, kk, 1, p, true);
            Residual deep = new Residual("res2", List.of(c1, new ActivationLayer("tanh", Activation.TANH), c2));
            build(deep, in, b, k, ws);
            float[] w1 = random(r, c * c * kk * kk);
            float[] b1 = random(r, c);
            float[] w2 = random(r, c * c * kk * kk);
            float[] b2 = random(r, c);
            c1.weight().value().copyFrom(w1);
            c1.bias().value().copyFrom(b1);
            c2.weight().value().copyFrom(w2);
            c2.bias().value().copyFrom(b2);
            deep.forward(xt, y, true);
            double[] z1 = ConvReference.conv2d(dbl(x), dbl(w1), dbl(b1), b, c, h, w, c, kk, 1, p);
            double[] a1 = Reference.map(Activation.TANH, z1);
            double[] z2 = ConvReference.conv2d(a1, dbl(w2), dbl(b2), b, c, h, w, c, kk, 1, p);
            assertNormClose(provider, seed, what + " conv-tanh-conv forward", y.toArray(), ConvReference.add(dbl(x), z2), 1e-4);
            g = backwardChecked(provider, seed, what + " conv-tanh-conv", deep, xt, y, dy, dx, ws);
            double[][] g2 = ConvReference.conv2dBackward(a1, dbl(w2), dbl(dy), b, c, h, w, c, kk, 1, p);
            double[] dz1 = Reference.mapBackward(Activation.TANH, z1, g2[0]);
            double[][] g1 = ConvReference.conv2dBackward(dbl(x), dbl(w1), dz1, b, c, h, w, c, kk, 1, p);
            assertNormClose(provider, seed, what + " conv-tanh-conv dx", g[0], ConvReference.add(g1[0], dbl(dy)), 1e-4);
            assertNormClose(provider, seed, what + " conv-tanh-conv dW1", g[1], g1[1], 1e-4);
            assertNormClose(provider, seed, what + " conv-tanh-conv db1", g[2], g1[2], 1e-4);
            assertNormClose(provider, seed, what + " conv-tanh-conv dW2", g[3], g2[1], 1e-4);
            assertNormClose(provider, seed, what + " conv-tanh-conv db2", g[4], g2[2], 1e-4);
        }
    }

    /** A small conv autoencoder and a DCGAN-style generator through {@link Sequential}: parameter counts, shapes, steps. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void inSequential(String provider) {
        Kernels k = KernelRegistry.load(provider);
        List<Layer> ae = List.of(
                new MaskingNoise("corrupt", 0.25, 7),
                new Conv2d("enc1", 1, 4, 3, 1, 1, true), new BatchNorm("bn1", 4), new ActivationLayer("relu1", Activation.RELU),
                new MaxPool2d("pool1", 2, 2),
                new Residual("res", List.of(new Conv2d("res.conv", 4, 4, 3, 1, 1, false), new BatchNorm("res.bn", 4))),
                new Flatten("flat"), new Dropout("drop", 0.2, 3), new Dense("code", 4 * 4 * 4, 8, true),
                new Dense("expand", 8, 4 * 4 * 4, true), new Reshape("unflat", 4, 4, 4),
                new Upsample2d("up", 2), new AvgPool2d("avg", 1, 1),
                new ConvTranspose2d("dec1", 4, 1, 4, 2, 1, 0, true), new AvgPool2d("down", 2, 2),
                new ActivationLayer("out", Activation.SIGMOID));
        try (Sequential net = new Sequential("conv-ae", ae); Workspace ws = new Workspace("seq-test")) {
            net.build(new int[] {1, 8, 8}, 3, k).init(11);
            assertArrayEquals(new int[] {1, 8, 8}, net.outputShape(), "conv autoencoder output shape");
            float[] x = new float[2 * 64];
            SplittableRandom r = new SplittableRandom(5);
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextDouble();
            }
            Tensor xt = ws.of(x, 2, 1, 8, 8);
            Tensor out = net.forward(xt, true);
            net.zeroGrad();
            float[] o = out.toArray();
            for (int i = 0; i < o.length; i++) {
                net.outputGrad().set(i, o[i] - x[i]);
            }
            net.backward(xt, net.outputGrad());
            for (Param prm : net.params()) {
                for (float v : prm.grad().toArray()) {
                    assertTrue(Float.isFinite(v), provider + ": non-finite gradient in " + prm.name());
                }
            }
            assertTrue(net.params().stream().noneMatch(prm -> prm.name().contains("gamma") && prm.decay()), "gamma must not decay");
        }
        List<Layer> generator = List.of(
                new Dense("project", 6, 8 * 4 * 4, false), new Reshape("to-image", 8, 4, 4), new BatchNorm("g.bn0", 8),
                new ActivationLayer("g.relu0", Activation.RELU),
                new ConvTranspose2d("g.deconv1", 8, 4, 4, 2, 1, 0, false), new BatchNorm("g.bn1", 4),
                new ActivationLayer("g.relu1", Activation.RELU),
                new ConvTranspose2d("g.deconv2", 4, 1, 4, 2, 1, 0, true), new ActivationLayer("g.tanh", Activation.TANH));
        try (Sequential g = new Sequential("dcgan-g", generator); Workspace ws = new Workspace("gen-test")) {
            g.build(new int[] {6}, 4, k).init(3);
            assertArrayEquals(new int[] {1, 16, 16}, g.outputShape(), "DCGAN generator output shape");
            Tensor z = ws.of(random(new SplittableRandom(9), 4 * 6), 4, 6);
            Tensor img = g.forward(z, true);
            g.zeroGrad();
            g.outputGrad().copyFrom(img);
            g.backward(z, g.outputGrad());
            g.forward(z, false);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void badShapesAreRejected(String provider) {
        Kernels k = KernelRegistry.load(provider);
        try (Workspace ws = new Workspace("bad-shape-test")) {
            int[] img = {3, 8, 8};
            List<Layer> layers = List.of(new Conv2d("conv-a", 3, 4, 3, 1, 0, true), new ConvTranspose2d("deconv-a", 3, 2, 4, 2, 1, 0, true),
                    new MaxPool2d("maxpool-a", 2, 2), new AvgPool2d("avgpool-a", 3, 1), new Upsample2d("upsample-a", 2),
                    new BatchNorm("bn-a", 3), new Flatten("flatten-a"), new Reshape("reshape-a", 3, 64),
                    new Dropout("dropout-a", 0.5, 1), new GaussianNoise("gauss-a", 0.1, 1), new MaskingNoise("masking-a", 0.3, 1),
                    new Residual("residual-a", List.of(new Conv2d("residual-a.conv", 3, 3, 3, 1, 1, true))));
            for (Layer l : layers) {
                build(l, img, 2, k, ws);
                Tensor wrongSample = ws.allocate(2, 3, 9, 8);
                Tensor tooMany = ws.allocate(3, 3, 8, 8);
                Tensor y = ws.allocate(batched(2, l.outputShape(img)));
                assertRejects(l.name(), Tensor.format(2, 3, 9, 8), () -> l.forward(wrongSample, y, true));
                assertRejects(l.name(), Tensor.format(3, 3, 8, 8), () -> l.forward(tooMany, y, true));
                Tensor x = ws.allocate(2, 3, 8, 8);
                Tensor wrongOut = ws.allocate(batched(1, l.outputShape(img)));
                assertRejects(l.name(), Tensor.format(wrongOut.shape()), () -> l.forward(x, wrongOut, true));
            }
            // per-sample shapes each layer must refuse in outputShape(): wrong channels, wrong rank, too small
            int[] channels = {2, 8, 8};
            int[] rank = {3, 8};
            int[] small = {3, 2, 8};
            List<Layer> strict = List.of(new Conv2d("conv-b", 3, 4, 3, 1, 0, true), new ConvTranspose2d("deconv-b", 3, 2, 1, 1, 2, 0, true),
                    new MaxPool2d("maxpool-b", 3, 1), new AvgPool2d("avgpool-b", 3, 3), new BatchNorm("bn-b", 3),
                    new Residual("residual-b", List.of(new Conv2d("residual-b.conv", 3, 3, 3, 1, 0, true))));
            List<List<int[]>> refused = List.of(List.of(channels, rank, small), List.of(channels, rank, small),
                    List.of(rank, small), List.of(rank, small), List.of(channels, new int[] {2}), List.of(channels, rank, small));
            for (int i = 0; i < strict.size(); i++) {
                Layer l = strict.get(i);
                for (int[] bad : refused.get(i)) {
                    assertRejects(l.name(), Tensor.format(bad), () -> l.outputShape(bad));
                }
            }
            // transposed convolution whose output would be empty: (1 - 1) * 1 - 2*2 + 1 < 1
            assertRejects("deconv-b", Tensor.format(3, 1, 1), () -> strict.get(1).outputShape(new int[] {3, 1, 1}));
            assertRejects("upsample-b", Tensor.format(3, 8), () -> new Upsample2d("upsample-b", 2).outputShape(new int[] {3, 8}));
            assertRejects("reshape-b", Tensor.format(3, 8, 8), () -> new Reshape("reshape-b", 5, -1).outputShape(img));
        }
    }

    // ---- helpers ----

    static ParamSlab build(Layer l, int[] sample, int maxBatch, Kernels k, Workspace ws) {
        ParamSlab slab = new ParamSlab(ws, l.paramCount(sample));
        l.build(sample, maxBatch, k, slab, ws);
        assertTrue(slab.full(), l.name() + ": took fewer parameters than paramCount() declared");
        assertEquals(slab.params(), l.params(), l.name() + ": params() differs from what it took");
        return slab;
    }

    /**
     * Runs backward on zeroed parameter gradients and a fresh copy of dy (layers may overwrite dy),
     * twice, and requires the same bits; then again without zeroing, which must double every parameter
     * gradient (backward adds); then with dx == null, which must give the same parameter gradients.
     * Returns {dx, parameter gradients in params() order}.
     */
    static float[][] backwardChecked(String provider, long seed, String what, Layer l, Tensor x, Tensor y, float[] dy,
                                     Tensor dx, Workspace ws) {
        float[][] first = backwardOnce(l, x, y, dy, dx, ws, true);
        float[][] second = backwardOnce(l, x, y, dy, dx, ws, true);
        for (int i = 0; i < first.length; i++) {
            assertArrayEquals(first[i], second[i], provider + " seed " + seed + ": " + what + " backward output " + i
                    + " not reproducible");
        }
        float[][] added = backwardOnce(l, x, y, dy, dx, ws, false);
        for (int i = 1; i < first.length; i++) {
            float[] twice = new float[first[i].length];
            for (int j = 0; j < twice.length; j++) {
                twice[j] = 2 * first[i][j];
            }
            assertNormClose(provider, seed, what + " gradient " + l.params().get(i - 1).name()
                    + " after two backward passes (must add)", added[i], dbl(twice), 1e-5);
        }
        float[][] noDx = backwardOnce(l, x, y, dy, null, ws, true);
        for (int i = 1; i < first.length; i++) {
            assertArrayEquals(first[i], noDx[i], provider + " seed " + seed + ": " + what + " parameter gradient "
                    + l.params().get(i - 1).name() + " differs when dx is null");
        }
        return first;
    }

    private static float[][] backwardOnce(Layer l, Tensor x, Tensor y, float[] dy, Tensor dx, Workspace ws, boolean zero) {
        List<Param> ps = l.params();
        if (zero) {
            for (Param p : ps) {
                p.grad().fill(0f);
            }
        }
        if (dx != null) {
            dx.fill(Float.NaN); // backward writes dx: stale contents must not leak
        }
        l.backward(x, y, ws.of(dy, y.shape()), dx);
        float[][] out = new float[ps.size() + 1][];
        out[0] = dx == null ? null : dx.toArray();
        for (int i = 0; i < ps.size(); i++) {
            out[i + 1] = ps.get(i).grad().toArray();
        }
        return out;
    }

    static void assertBn(String provider, long seed, String what, float[] got, double[] ref) {
        assertEquals(ref.length, got.length, what + ": length");
        double max = 0;
        for (double v : ref) {
            max = Math.max(max, Math.abs(v));
        }
        for (int i = 0; i < got.length; i++) {
            double tol = 2 * EPS * Math.abs(ref[i]) + 1e-9 * max + 1e-30;
            int at = i;
            assertTrue(Math.abs(got[i] - ref[i]) <= tol, () -> provider + " seed " + seed + ": " + what + "[" + at + "] = "
                    + got[at] + ", reference " + ref[at] + " (tolerance 2 eps |ref| + 1e-9 max|ref|); replay with -Dprop.seed=" + seed);
        }
    }

    static void assertRunning(String provider, long seed, String what, float[] got, double[] ref) {
        for (int i = 0; i < got.length; i++) {
            int at = i;
            assertTrue(Math.abs(got[i] - ref[i]) <= EPS * Math.abs(ref[i]) + 1e-12, () -> provider + " seed " + seed + ": "
                    + what + "[" + at + "] = " + got[at] + ", reference " + ref[at]);
        }
    }

    /** Values the layer only moves or multiplies by exact factors: equal as numbers (0 == -0). */
    static void assertExact(String provider, long seed, String what, float[] got, double[] ref) {
        assertEquals(ref.length, got.length, what + ": length");
        for (int i = 0; i < got.length; i++) {
            int at = i;
            assertTrue(got[i] == ref[i], () -> provider + " seed " + seed + ": " + what + "[" + at + "] = " + got[at]
                    + ", reference " + ref[at] + " (must be exact); replay with -Dprop.seed=" + seed);
        }
    }

    static void assertRejects(String layer, String shape, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, layer + " accepted " + shape);
        assertTrue(e.getMessage().contains(layer) && e.getMessage().contains(shape),
                "message should name the layer '" + layer + "' and the shape " + shape + ": " + e.getMessage());
    }

    static int[] batched(int b, int... sample) {
        int[] s = new int[sample.length + 1];
        s[0] = b;
        System.arraycopy(sample, 0, s, 1, sample.length);
        return s;
    }

    static List<Integer> dims(Tensor t) {
        List<Integer> d = new ArrayList<>();
        for (int v : t.shape()) {
            d.add(v);
        }
        return d;
    }

    static double[] absd(double[] v) {
        double[] a = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            a[i] = Math.abs(v[i]);
        }
        return a;
    }

    static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
