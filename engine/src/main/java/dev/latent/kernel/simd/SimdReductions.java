package dev.latent.kernel.simd;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Bounds;
import dev.latent.kernel.Reductions;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Row sums (vector partial sums along the row, then one lane reduction) and column sums (vector
 * accumulators across the row, sweeping rows down), accumulated in float with a fixed order.
 */
final class SimdReductions implements Reductions {

    private static final VectorSpecies<Float> F = SimdShape.FLOAT;
    private static final int L = SimdShape.LANES;

    @Override
    public void rowSums(int rows, int cols, MemorySegment x, long xOff, int ldx, float beta, MemorySegment out, long outOff) {
        Bounds.matrix("rowSums X", x, xOff, rows, cols, ldx);
        Bounds.run("rowSums out", out, outOff, rows);
        for (int r = 0; r < rows; r++) {
            long xb = (xOff + (long) r * ldx) * Float.BYTES;
            FloatVector s0 = FloatVector.zero(F);
            FloatVector s1 = s0;
            int j = 0;
            for (int bound = cols - 2 * L; j <= bound; j += 2 * L) {
                long o = xb + (long) j * Float.BYTES;
                s0 = s0.add(FloatVector.fromMemorySegment(F, x, o, SimdShape.ORDER));
                s1 = s1.add(FloatVector.fromMemorySegment(F, x, o + (long) L * Float.BYTES, SimdShape.ORDER));
            }
            for (; j < cols; j += L) {
                s0 = s0.add(FloatVector.fromMemorySegment(F, x, xb + (long) j * Float.BYTES, SimdShape.ORDER,
                        F.indexInRange(j, cols)));
            }
            float sum = s0.add(s1).reduceLanes(VectorOperators.ADD);
            if (beta != 0f) {
                sum = SimdShape.fma(beta, out.getAtIndex(JAVA_FLOAT, outOff + r), sum);
            }
            out.setAtIndex(JAVA_FLOAT, outOff + r, sum);
        }
    }

    @Override
    public void colSums(int rows, int cols, MemorySegment x, long xOff, int ldx, float beta, MemorySegment out, long outOff) {
        Bounds.matrix("colSums X", x, xOff, rows, cols, ldx);
        Bounds.run("colSums out", out, outOff, cols);
        FloatVector vb = FloatVector.broadcast(F, beta);
        // Two vectors of columns at a time, all rows: two independent add chains per row sweep.
        for (int j = 0; j < cols; j += 2 * L) {
            VectorMask<Float> m0 = F.indexInRange(j, cols);
            VectorMask<Float> m1 = F.indexInRange(j + L, cols);
            FloatVector s0 = FloatVector.zero(F);
            FloatVector s1 = s0;
            long base = (xOff + j) * Float.BYTES;
            long step = (long) ldx * Float.BYTES;
            long vl = (long) L * Float.BYTES;
            if (j + 2 * L <= cols) {
                for (int r = 0; r < rows; r++) {
                    long o = base + r * step;
                    s0 = s0.add(FloatVector.fromMemorySegment(F, x, o, SimdShape.ORDER));
                    s1 = s1.add(FloatVector.fromMemorySegment(F, x, o + vl, SimdShape.ORDER));
                }
            } else {
                for (int r = 0; r < rows; r++) {
                    long o = base + r * step;
                    s0 = s0.add(FloatVector.fromMemorySegment(F, x, o, SimdShape.ORDER, m0));
                    s1 = s1.add(FloatVector.fromMemorySegment(F, x, o + vl, SimdShape.ORDER, m1));
                }
            }
            long ob = (outOff + j) * Float.BYTES;
            if (beta != 0f) {
                s0 = SimdShape.fma(vb, FloatVector.fromMemorySegment(F, out, ob, SimdShape.ORDER, m0), s0);
                s1 = SimdShape.fma(vb, FloatVector.fromMemorySegment(F, out, ob + vl, SimdShape.ORDER, m1), s1);
            }
            s0.intoMemorySegment(out, ob, SimdShape.ORDER, m0);
            s1.intoMemorySegment(out, ob + vl, SimdShape.ORDER, m1);
        }
    }
}
