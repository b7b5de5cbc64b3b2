package dev.latent.kernel.simd;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;

import dev.latent.kernel.Bounds;
import dev.latent.kernel.Softmax;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Max-shifted softmax and log-softmax per row in float lanes: a max pass, a pass summing
 * exp(x - max) (softmax also stores the exponentials in y, which is allowed to alias x because each
 * element is read before its own slot is written), and a pass that normalises. Every exponent is
 * &le; 0, so nothing overflows and the sum is at least 1.
 *
 * <p>Deterministic bit for bit: exp is {@link SimdMath#exp} (the same bits interpreted and compiled),
 * the lane sum is {@link SimdMath#sum} (a fixed pairwise order) followed by the scalar tail in index
 * order, and the log of the sum is {@link StrictMath#log}. A row is done by {@link #row}, a compile
 * root of its own (larger than FreqInlineSize, so never inlined deep into a layer, see
 * {@link SimdActivations}), without masks.
 */
final class SimdSoftmax implements Softmax {

    private static final VectorSpecies<Float> F = SimdShape.FLOAT;
    private static final int L = SimdShape.LANES;

    @Override
    public void softmax(int rows, int cols, MemorySegment x, long xOff, int ldx, MemorySegment y, long yOff, int ldy) {
        check(rows, cols, x, xOff, ldx, y, yOff, ldy);
        for (int r = 0; r < rows; r++) {
            row(false, cols, x, (xOff + (long) r * ldx) * Float.BYTES, y, (yOff + (long) r * ldy) * Float.BYTES);
        }
    }

    @Override
    public void logSoftmax(int rows, int cols, MemorySegment x, long xOff, int ldx, MemorySegment y, long yOff, int ldy) {
        check(rows, cols, x, xOff, ldx, y, yOff, ldy);
        for (int r = 0; r < rows; r++) {
            row(true, cols, x, (xOff + (long) r * ldx) * Float.BYTES, y, (yOff + (long) r * ldy) * Float.BYTES);
        }
    }

    /** One row of cols (>= 1) floats at byte offsets xb (input) and yb (output). */
    static void row(boolean log, int cols, MemorySegment x, long xb, MemorySegment y, long yb) {
        int bound = F.loopBound(cols);
        // max: lane-wise max, then a fixed lane order, then the tail (max is exact in any order anyway)
        float mx = Float.NEGATIVE_INFINITY;
        int j = 0;
        if (bound > 0) {
            FloatVector vm = FloatVector.fromMemorySegment(F, x, xb, SimdShape.ORDER);
            for (j = L; j < bound; j += L) {
                vm = vm.max(FloatVector.fromMemorySegment(F, x, xb + (long) j * Float.BYTES, SimdShape.ORDER));
            }
            mx = SimdMath.max(vm);
        }
        for (; j < cols; j++) {
            mx = Math.max(mx, x.get(JAVA_FLOAT_UNALIGNED, xb + (long) j * Float.BYTES));
        }
        FloatVector max = FloatVector.broadcast(F, mx);
        FloatVector acc = FloatVector.zero(F);
        j = 0;
        if (log) {
            for (; j < bound; j += L) {
                acc = acc.add(SimdMath.exp(FloatVector.fromMemorySegment(F, x, xb + (long) j * Float.BYTES, SimdShape.ORDER)
                        .sub(max)));
            }
        } else {
            for (; j < bound; j += L) {
                long o = (long) j * Float.BYTES;
                FloatVector e = SimdMath.exp(FloatVector.fromMemorySegment(F, x, xb + o, SimdShape.ORDER).sub(max));
                e.intoMemorySegment(y, yb + o, SimdShape.ORDER);
                acc = acc.add(e);
            }
        }
        float sum = SimdMath.sum(acc);
        for (; j < cols; j++) {
            long o = (long) j * Float.BYTES;
            float e = SimdMath.exp(x.get(JAVA_FLOAT_UNALIGNED, xb + o) - mx);
            if (!log) {
                y.set(JAVA_FLOAT_UNALIGNED, yb + o, e);
            }
            sum += e;
        }
        if (log) {
            // (x - max) is exact for the entries that matter (Sterbenz); subtracting the log-sum second
            // keeps the error relative to the result rather than to max.
            float ls = (float) StrictMath.log(sum);
            FloatVector logSum = FloatVector.broadcast(F, ls);
            for (j = 0; j < bound; j += L) {
                long o = (long) j * Float.BYTES;
                FloatVector.fromMemorySegment(F, x, xb + o, SimdShape.ORDER).sub(max).sub(logSum)
                        .intoMemorySegment(y, yb + o, SimdShape.ORDER);
            }
            for (; j < cols; j++) {
                long o = (long) j * Float.BYTES;
                y.set(JAVA_FLOAT_UNALIGNED, yb + o, x.get(JAVA_FLOAT_UNALIGNED, xb + o) - mx - ls);
            }
        } else {
            FloatVector total = FloatVector.broadcast(F, sum);
            for (j = 0; j < bound; j += L) {
                long o = yb + (long) j * Float.BYTES;
                FloatVector.fromMemorySegment(F, y, o, SimdShape.ORDER).div(total).intoMemorySegment(y, o, SimdShape.ORDER);
            }
            for (; j < cols; j++) {
                long o = yb + (long) j * Float.BYTES;
                y.set(JAVA_FLOAT_UNALIGNED, o, y.get(JAVA_FLOAT_UNALIGNED, o) / sum);
            }
        }
    }

    private static void check(int rows, int cols, MemorySegment x, long xOff, int ldx, MemorySegment y, long yOff, int ldy) {
        if (cols < 1 && rows > 0) {
            throw new IllegalArgumentException("softmax needs at least one column, got " + cols);
        }
        Bounds.matrix("softmax X", x, xOff, rows, cols, ldx);
        Bounds.matrix("softmax Y", y, yOff, rows, cols, ldy);
    }
}
