package dev.latent.kernel;

import dev.latent.prop.Compare;
import dev.latent.prop.Gen;
import dev.latent.prop.Prop;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@link Elementwise} contract as properties against the scalar reference: every buffer a call
 * touches (inputs too) is compared whole after the call, so a write outside the run or into an input
 * fails; scale, fill, copy, mul, addBias and addRowBias are one rounding per element and must match exactly, axpy
 * may fuse its multiply-add, dot may reorder its sum.
 */
public interface ElementwiseContract {

    /** The operation equals the reference and a second identical call gives the same bits. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#elementwise")
    default void elementwiseMatchesReference(KernelCase<RunShape> c) {
        c.check(s -> checkRun(c.subject(), c.seed(), s));
    }

    /** Negative n and runs outside their segment: IllegalArgumentException. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#providers")
    default void elementwiseRejectsBadArguments(String provider) {
        Elementwise e = KernelRegistry.load(provider).elementwise();
        try (Workspace ws = new Workspace("elementwise bad arguments")) {
            MemorySegment x = ws.allocateFloats(16);
            MemorySegment y = ws.allocateFloats(16);
            MemorySegment o = ws.allocateFloats(16);
            String p = provider + " elementwise ";
            Compare.rejects(() -> p + "axpy n = -1", () -> e.axpy(-1, 1f, x, 0, y, 0));
            Compare.rejects(() -> p + "axpy y offset 1 + 16 > 16", () -> e.axpy(16, 1f, x, 0, y, 1));
            Compare.rejects(() -> p + "axpy x offset -1", () -> e.axpy(4, 1f, x, -1, y, 0));
            Compare.rejects(() -> p + "scale n = -1", () -> e.scale(-1, 2f, x, 0));
            Compare.rejects(() -> p + "scale 17 floats in 16", () -> e.scale(17, 2f, x, 0));
            Compare.rejects(() -> p + "fill offset 16", () -> e.fill(1, 2f, x, 16));
            Compare.rejects(() -> p + "fill n = -1", () -> e.fill(-1, 2f, x, 0));
            Compare.rejects(() -> p + "copy dst offset 9 + 8 > 16", () -> e.copy(8, x, 0, y, 9));
            Compare.rejects(() -> p + "copy n = -1", () -> e.copy(-1, x, 0, y, 0));
            Compare.rejects(() -> p + "mul out offset 15 + 2 > 16", () -> e.mul(2, x, 0, y, 0, o, 15));
            Compare.rejects(() -> p + "mul n = -1", () -> e.mul(-1, x, 0, y, 0, o, 0));
            Compare.rejects(() -> p + "addBias ldc 3 < cols 4", () -> e.addBias(2, 4, x, 0, o, 0, 3));
            Compare.rejects(() -> p + "addBias rows = -1", () -> e.addBias(-1, 4, x, 0, o, 0, 4));
            Compare.rejects(() -> p + "addBias 5 x 4 in 16", () -> e.addBias(5, 4, x, 0, o, 0, 4));
            Compare.rejects(() -> p + "addBias bias offset 14 + 4 > 16", () -> e.addBias(2, 4, x, 14, o, 0, 4));
            Compare.rejects(() -> p + "addRowBias ldc 3 < cols 4", () -> e.addRowBias(2, 4, x, 0, o, 0, 3));
            Compare.rejects(() -> p + "addRowBias bias offset 15 + 2 > 16", () -> e.addRowBias(2, 4, x, 15, o, 0, 4));
            Compare.rejects(() -> p + "addRowBias 5 x 4 in 16", () -> e.addRowBias(5, 4, x, 0, o, 0, 4));
            Compare.rejects(() -> p + "dot n = -1", () -> e.dot(-1, x, 0, y, 0));
            Compare.rejects(() -> p + "dot y offset 1 + 16 > 16", () -> e.dot(16, x, 0, y, 1));
        }
    }

    private static void checkRun(Kernels subject, long seed, RunShape s) {
        SplittableRandom r = Prop.data(seed);
        float alpha = (float) r.nextDouble(-2, 2);
        float fillValue = Gen.value(r);
        float[][] buffers = buffers(s, r);
        Result expected = run(KernelCase.reference().elementwise(), s, alpha, fillValue, buffers);
        Result actual = run(subject.elementwise(), s, alpha, fillValue, buffers);
        Result again = run(subject.elementwise(), s, alpha, fillValue, buffers);
        for (int b = 0; b < buffers.length; b++) {
            int buffer = b;
            Compare.sameBits(s.op() + " buffer " + b, actual.buffers[b], again.buffers[b], i -> "buffer " + buffer + "[" + i + "]");
            double[] tol = new double[buffers[b].length];
            if (s.op() == RunShape.Op.AXPY && b == yBuffer(s)) {
                float[] x = buffers[0];
                float[] y = buffers[b];
                for (int i = 0; i < s.n(); i++) {
                    // y + alpha x with or without FMA: the two roundings differ by at most ~1.5 eps of the terms.
                    tol[s.offY() + i] = 2 * Gen.EPS * (Math.abs((double) alpha * x[s.offX() + i]) + Math.abs(y[s.offY() + i]));
                }
            }
            // Every other element, and every element of scale/fill/copy/mul/addBias (one IEEE rounding of
            // the written formula), must be exact.
            Compare.close(s.op() + " (alpha " + alpha + ") buffer " + b, actual.buffers[b], expected.buffers[b], tol,
                    i -> "buffer " + buffer + "[" + i + "]");
        }
        if (s.op() == RunShape.Op.DOT) {
            Compare.sameBits("dot", new float[] {actual.dot}, new float[] {again.dot}, i -> "dot");
            float[] x = buffers[0];
            float[] y = buffers[s.alias() == RunShape.Alias.SAME ? 0 : 1];
            double absSum = 0;
            for (int i = 0; i < s.n(); i++) {
                absSum += Math.abs((double) x[s.offX() + i] * y[s.offY() + i]);
            }
            // Float accumulation of n products in any order: at most ~n eps of sum |x_i y_i| (x2 slack, +1 rounding).
            double tol = 2 * (s.n() + 1) * Gen.EPS * absSum;
            Compare.close("dot", new float[] {actual.dot}, new float[] {expected.dot}, new double[] {tol}, i -> "dot");
        }
    }

    /** Index of the buffer axpy writes: x's under SAME aliasing, else the second. */
    private static int yBuffer(RunShape s) {
        return s.alias() == RunShape.Alias.SAME ? 0 : 1;
    }

    /** The input contents of every buffer the op uses, in the order {@link #run} maps them. */
    private static float[][] buffers(RunShape s, SplittableRandom r) {
        boolean shared = s.alias() != RunShape.Alias.NONE;
        return switch (s.op()) {
            case SCALE, FILL -> new float[][] {Gen.values(r, s.lenX())};
            case AXPY, DOT -> shared ? new float[][] {Gen.values(r, s.lenX())}
                    : new float[][] {Gen.values(r, s.lenX()), Gen.values(r, s.lenY())};
            case COPY -> shared ? new float[][] {Gen.values(r, s.lenX())}
                    : new float[][] {Gen.values(r, s.lenX()), Gen.values(r, s.lenOut())};
            case MUL -> shared ? new float[][] {Gen.values(r, s.lenX()), Gen.values(r, s.lenY())}
                    : new float[][] {Gen.values(r, s.lenX()), Gen.values(r, s.lenY()), Gen.values(r, s.lenOut())};
            case ADD_BIAS, ADD_ROW_BIAS -> new float[][] {Gen.values(r, s.lenX()), Gen.values(r, s.lenOut())};
        };
    }

    /** Copies the buffers to fresh segments, runs the op, and reads every buffer back. */
    private static Result run(Elementwise e, RunShape s, float alpha, float fillValue, float[][] input) {
        try (Workspace ws = new Workspace("elementwise " + s)) {
            MemorySegment[] seg = Arrays.stream(input).map(a -> Gen.segment(ws, a)).toArray(MemorySegment[]::new);
            float dot = Float.NaN;
            MemorySegment last = seg[seg.length - 1];
            switch (s.op()) {
                case AXPY -> e.axpy(s.n(), alpha, seg[0], s.offX(), last, s.offY());
                case SCALE -> e.scale(s.n(), alpha, seg[0], s.offX());
                case FILL -> e.fill(s.n(), fillValue, seg[0], s.offX());
                case COPY -> e.copy(s.n(), seg[0], s.offX(), last, s.offOut());
                case MUL -> e.mul(s.n(), seg[0], s.offX(), seg[1], s.offY(),
                        s.alias() == RunShape.Alias.SAME ? seg[0] : seg[2], s.offOut());
                case ADD_BIAS -> e.addBias(s.rows(), s.n(), seg[0], s.offX(), seg[1], s.offOut(), s.ldc());
                case ADD_ROW_BIAS -> e.addRowBias(s.rows(), s.n(), seg[0], s.offX(), seg[1], s.offOut(), s.ldc());
                case DOT -> dot = e.dot(s.n(), seg[0], s.offX(), last, s.offY());
            }
            float[][] out = Arrays.stream(seg).map(Gen::read).toArray(float[][]::new);
            return new Result(out, dot);
        }
    }

    /** Every buffer after the call, and dot's return value (NaN for the other ops). */
    record Result(float[][] buffers, float dot) {
    }
}
