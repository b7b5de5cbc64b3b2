package dev.latent.kernel.simd;

import dev.latent.kernel.Bounds;
import dev.latent.kernel.Softmax;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Max-shifted softmax and log-softmax per row in float lanes: a max pass, a pass summing
 * exp(x - max) (softmax also stores the exponentials in y, which is allowed to alias x because x is
 * no longer needed), and a pass that normalises. Every exponent is &le; 0, so nothing overflows and the
 * sum is at least 1.
 */
final class SimdSoftmax implements Softmax {

    private static final VectorSpecies<Float> F = SimdShape.FLOAT;
    private static final int L = SimdShape.LANES;

    @Override
    public void softmax(int rows, int cols, MemorySegment x, long xOff, int ldx, MemorySegment y, long yOff, int ldy) {
        check(rows, cols, x, xOff, ldx, y, yOff, ldy);
        for (int r = 0; r < rows; r++) {
            long xb = (xOff + (long) r * ldx) * Float.BYTES;
            long yb = (yOff + (long) r * ldy) * Float.BYTES;
            FloatVector max = FloatVector.broadcast(F, max(x, xb, cols));
            FloatVector sum = FloatVector.zero(F);
            for (int j = 0; j < cols; j += L) {
                VectorMask<Float> m = F.indexInRange(j, cols);
                long o = (long) j * Float.BYTES;
                FloatVector e = FloatVector.fromMemorySegment(F, x, xb + o, SimdShape.ORDER, m).sub(max)
                        .lanewise(VectorOperators.EXP);
                e.intoMemorySegment(y, yb + o, SimdShape.ORDER, m);
                sum = sum.add(e, m);
            }
            FloatVector total = FloatVector.broadcast(F, sum.reduceLanes(VectorOperators.ADD));
            for (int j = 0; j < cols; j += L) {
                VectorMask<Float> m = F.indexInRange(j, cols);
                long o = yb + (long) j * Float.BYTES;
                FloatVector.fromMemorySegment(F, y, o, SimdShape.ORDER, m).div(total)
                        .intoMemorySegment(y, o, SimdShape.ORDER, m);
            }
        }
    }

    @Override
    public void logSoftmax(int rows, int cols, MemorySegment x, long xOff, int ldx, MemorySegment y, long yOff, int ldy) {
        check(rows, cols, x, xOff, ldx, y, yOff, ldy);
        for (int r = 0; r < rows; r++) {
            long xb = (xOff + (long) r * ldx) * Float.BYTES;
            long yb = (yOff + (long) r * ldy) * Float.BYTES;
            float mx = max(x, xb, cols);
            FloatVector max = FloatVector.broadcast(F, mx);
            FloatVector sum = FloatVector.zero(F);
            for (int j = 0; j < cols; j += L) {
                VectorMask<Float> m = F.indexInRange(j, cols);
                FloatVector e = FloatVector.fromMemorySegment(F, x, xb + (long) j * Float.BYTES, SimdShape.ORDER, m)
                        .sub(max).lanewise(VectorOperators.EXP);
                sum = sum.add(e, m);
            }
            // (x - max) is exact for the entries that matter (Sterbenz); subtracting the log-sum second
            // keeps the error relative to the result rather than to max.
            FloatVector logSum = FloatVector.broadcast(F, (float) Math.log(sum.reduceLanes(VectorOperators.ADD)));
            for (int j = 0; j < cols; j += L) {
                VectorMask<Float> m = F.indexInRange(j, cols);
                long o = (long) j * Float.BYTES;
                FloatVector.fromMemorySegment(F, x, xb + o, SimdShape.ORDER, m).sub(max).sub(logSum)
                        .intoMemorySegment(y, yb + o, SimdShape.ORDER, m);
            }
        }
    }

    /** The maximum of a row of cols (>= 1) floats at byte offset xb. */
    private static float max(MemorySegment x, long xb, int cols) {
        FloatVector mx = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < cols; j += L) {
            VectorMask<Float> m = F.indexInRange(j, cols);
            mx = mx.max(FloatVector.fromMemorySegment(F, x, xb + (long) j * Float.BYTES, SimdShape.ORDER, m)
                    .blend(Float.NEGATIVE_INFINITY, m.not()));
        }
        return mx.reduceLanes(VectorOperators.MAX);
    }

    private static void check(int rows, int cols, MemorySegment x, long xOff, int ldx, MemorySegment y, long yOff, int ldy) {
        if (cols < 1 && rows > 0) {
            throw new IllegalArgumentException("softmax needs at least one column, got " + cols);
        }
        Bounds.matrix("softmax X", x, xOff, rows, cols, ldx);
        Bounds.matrix("softmax Y", y, yOff, rows, cols, ldy);
    }
}
