package dev.latent.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.prop.Compare;
import dev.latent.prop.Gen;
import dev.latent.prop.Prop;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@link Softmax} contract as properties against the scalar reference (double throughout, one
 * rounding): finite output for any finite input (inputs up to 1e4 need the max subtraction), values
 * within a bound that grows with the row length and with |x - max|, exact aliasing, nothing written
 * outside Y's rows x cols, same bits on a second call.
 */
public interface SoftmaxContract {

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#softmax")
    default void softmaxMatchesReference(KernelCase<SoftmaxShape> c) {
        c.check(s -> checkSoftmax(c.subject(), c.seed(), s));
    }

    /** cols = 0 with rows, short leading dimensions, matrices outside their segment: IllegalArgumentException. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#providers")
    default void softmaxRejectsBadArguments(String provider) {
        Softmax sm = KernelRegistry.load(provider).softmax();
        try (Workspace ws = new Workspace("softmax bad arguments")) {
            MemorySegment x = ws.allocateFloats(16);
            MemorySegment y = ws.allocateFloats(16);
            String p = provider + " softmax ";
            Compare.rejects(() -> p + "cols = 0", () -> sm.softmax(2, 0, x, 0, 1, y, 0, 1));
            Compare.rejects(() -> p + "ldx 3 < cols 4", () -> sm.softmax(4, 4, x, 0, 3, y, 0, 4));
            Compare.rejects(() -> p + "ldy 3 < cols 4", () -> sm.logSoftmax(4, 4, x, 0, 4, y, 0, 3));
            Compare.rejects(() -> p + "rows = -1", () -> sm.softmax(-1, 4, x, 0, 4, y, 0, 4));
            Compare.rejects(() -> p + "X offset 1", () -> sm.softmax(4, 4, x, 1, 4, y, 0, 4));
            Compare.rejects(() -> p + "Y offset 1", () -> sm.logSoftmax(4, 4, x, 0, 4, y, 1, 4));
            Compare.rejects(() -> p + "X offset -1", () -> sm.logSoftmax(2, 2, x, -1, 2, y, 0, 2));
        }
    }

    private static void checkSoftmax(Kernels subject, long seed, SoftmaxShape s) {
        SplittableRandom r = Prop.data(seed);
        int lenX = Gen.extent(s.offX(), s.rows(), s.cols(), s.ldx(), s.tail());
        int lenY = Gen.extent(s.offY(), s.rows(), s.cols(), s.ldy(), s.tail());
        float[] x = Gen.values(r, lenX);
        for (int row = 0; row < s.rows(); row++) {
            float rowValue = (float) r.nextGaussian();
            for (int j = 0; j < s.cols(); j++) {
                x[s.offX() + row * s.ldx() + j] = switch (s.scale()) {
                    case UNIT -> (float) r.nextGaussian();
                    case WIDE -> (float) (r.nextGaussian() * 30);
                    case HUGE -> (float) ((r.nextBoolean() ? 1e4 : -1e4) + r.nextGaussian());
                    case CONSTANT -> rowValue;
                };
            }
        }
        float[] y0 = Gen.nan(lenY);
        float[] expected = run(KernelCase.reference().softmax(), s, x, y0);
        float[] actual = run(subject.softmax(), s, x, y0);
        float[] again = run(subject.softmax(), s, x, y0);
        int offY = s.offY();
        int ldy = s.ldy();
        IntFunction<String> where = i -> {
            int rel = i - offY;
            return rel >= 0 && rel / ldy < s.rows() && rel % ldy < s.cols() ? "Y[" + rel / ldy + ", " + rel % ldy + "]"
                    : "Y segment float " + i + " (outside the matrix, must be untouched)";
        };
        Compare.sameBits(s.toString(), actual, again, where);
        double[] tol = new double[actual.length];
        for (int row = 0; row < s.rows(); row++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < s.cols(); j++) {
                max = Math.max(max, x[s.offX() + row * s.ldx() + j]);
            }
            double sum = 0;
            for (int j = 0; j < s.cols(); j++) {
                sum += Math.exp(x[s.offX() + row * s.ldx() + j] - max);
            }
            double logSum = Math.log(sum);
            for (int j = 0; j < s.cols(); j++) {
                int yi = offY + row * ldy + j;
                double shifted = Math.abs(x[s.offX() + row * s.ldx() + j] - max);
                int at = yi;
                assertTrue(Float.isFinite(actual[yi]), () -> s + ": finite input gave " + actual[at] + " at " + where.apply(at));
                if (!s.log()) {
                    // relative: 3 cols eps for the float sum of cols positive terms (each x_i - max rounded too, which
                    // costs at most eps cols / e in total since t e^-t <= 1/e), 2 |x_j - max| eps for rounding x_j - max
                    // before exp, 12 eps for a 4-ulp exp, the division and final rounding (x2); MIN_NORMAL for underflow.
                    tol[yi] = Gen.EPS * Math.abs(expected[yi]) * (3.0 * s.cols() + 2 * shifted + 12) + Float.MIN_NORMAL;
                } else {
                    // absolute: x_j - max rounded (|x_j - max| eps), log of a sum with relative error ~cols eps (3 cols eps),
                    // a 4-ulp log (4 |log sum| eps), the final subtraction (|y| eps), x2 on the roundings.
                    tol[yi] = Gen.EPS * (2 * shifted + 4 * Math.abs(logSum) + 2 * Math.abs(expected[yi]) + 3.0 * s.cols() + 8);
                }
            }
        }
        Compare.close(s.toString(), actual, expected, tol, where);
    }

    private static float[] run(Softmax sm, SoftmaxShape s, float[] x, float[] y0) {
        try (Workspace ws = new Workspace("softmax " + s)) {
            MemorySegment xs = Gen.segment(ws, x);
            MemorySegment ys = s.inPlace() ? xs : Gen.segment(ws, y0);
            if (s.log()) {
                sm.logSoftmax(s.rows(), s.cols(), xs, s.offX(), s.ldx(), ys, s.offY(), s.ldy());
            } else {
                sm.softmax(s.rows(), s.cols(), xs, s.offX(), s.ldx(), ys, s.offY(), s.ldy());
            }
            return Gen.read(ys);
        }
    }
}
