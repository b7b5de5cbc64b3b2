package dev.latent.kernel.simd;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;

import dev.latent.kernel.Bounds;
import dev.latent.kernel.Reductions;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Row sums (vector partial sums along the row, a fixed-order lane sum, then the scalar tail in index
 * order) and column sums (vector accumulators across the row, sweeping rows down; scalar columns for
 * the tail), accumulated in float with a fixed order and no masked accesses. Both loops live in
 * {@link #block}, a compile root larger than FreqInlineSize (see {@link SimdElementwise}).
 */
final class SimdReductions implements Reductions {

    private static final VectorSpecies<Float> F = SimdShape.FLOAT;
    private static final int L = SimdShape.LANES;
    /** Columns per colSums block call. */
    static final int COL_BLOCK = 256;

    @Override
    public void rowSums(int rows, int cols, MemorySegment x, long xOff, int ldx, float beta, MemorySegment out, long outOff) {
        Bounds.matrix("rowSums X", x, xOff, rows, cols, ldx);
        Bounds.run("rowSums out", out, outOff, rows);
        for (int r = 0; r < rows; r++) {
            block(false, 1, cols, x, (xOff + (long) r * ldx) * Float.BYTES, 0L, beta, out, (outOff + r) * Float.BYTES);
        }
    }

    @Override
    public void colSums(int rows, int cols, MemorySegment x, long xOff, int ldx, float beta, MemorySegment out, long outOff) {
        Bounds.matrix("colSums X", x, xOff, rows, cols, ldx);
        Bounds.run("colSums out", out, outOff, cols);
        long step = (long) ldx * Float.BYTES;
        for (int j = 0; j < cols; j += COL_BLOCK) {
            block(true, rows, Math.min(COL_BLOCK, cols - j), x, (xOff + j) * Float.BYTES, step, beta, out,
                    (outOff + j) * Float.BYTES);
        }
    }

    /**
     * cols columns at byte offset xb: with {@code columns}, out[j] = beta out[j] + sum over rows (row
     * stride step bytes); else out[0] = beta out[0] + the sum of the one row (rows is 1).
     */
    static void block(boolean columns, int rows, int cols, MemorySegment x, long xb, long step, float beta,
                      MemorySegment out, long ob) {
        if (!columns) {
            FloatVector s0 = FloatVector.zero(F);
            FloatVector s1 = s0;
            int j = 0;
            for (int bound = cols - 2 * L; j <= bound; j += 2 * L) {
                long o = xb + (long) j * Float.BYTES;
                s0 = s0.add(FloatVector.fromMemorySegment(F, x, o, SimdShape.ORDER));
                s1 = s1.add(FloatVector.fromMemorySegment(F, x, o + (long) L * Float.BYTES, SimdShape.ORDER));
            }
            for (int bound = cols - L; j <= bound; j += L) {
                s0 = s0.add(FloatVector.fromMemorySegment(F, x, xb + (long) j * Float.BYTES, SimdShape.ORDER));
            }
            float sum = SimdMath.sum(s0.add(s1));
            for (; j < cols; j++) {
                sum += x.get(JAVA_FLOAT_UNALIGNED, xb + (long) j * Float.BYTES);
            }
            if (beta != 0f) {
                sum = SimdShape.fma(beta, out.get(JAVA_FLOAT_UNALIGNED, ob), sum);
            }
            out.set(JAVA_FLOAT_UNALIGNED, ob, sum);
            return;
        }
        FloatVector vb = FloatVector.broadcast(F, beta);
        long vl = (long) L * Float.BYTES;
        int j = 0;
        // Two vectors of columns at a time, all rows: two independent add chains per row sweep.
        for (; j + 2 * L <= cols; j += 2 * L) {
            FloatVector s0 = FloatVector.zero(F);
            FloatVector s1 = s0;
            long base = xb + (long) j * Float.BYTES;
            for (int r = 0; r < rows; r++) {
                long o = base + r * step;
                s0 = s0.add(FloatVector.fromMemorySegment(F, x, o, SimdShape.ORDER));
                s1 = s1.add(FloatVector.fromMemorySegment(F, x, o + vl, SimdShape.ORDER));
            }
            long o = ob + (long) j * Float.BYTES;
            if (beta != 0f) {
                s0 = vb.fma(FloatVector.fromMemorySegment(F, out, o, SimdShape.ORDER), s0);
                s1 = vb.fma(FloatVector.fromMemorySegment(F, out, o + vl, SimdShape.ORDER), s1);
            }
            s0.intoMemorySegment(out, o, SimdShape.ORDER);
            s1.intoMemorySegment(out, o + vl, SimdShape.ORDER);
        }
        for (; j + L <= cols; j += L) {
            FloatVector s0 = FloatVector.zero(F);
            long base = xb + (long) j * Float.BYTES;
            for (int r = 0; r < rows; r++) {
                s0 = s0.add(FloatVector.fromMemorySegment(F, x, base + r * step, SimdShape.ORDER));
            }
            long o = ob + (long) j * Float.BYTES;
            if (beta != 0f) {
                s0 = vb.fma(FloatVector.fromMemorySegment(F, out, o, SimdShape.ORDER), s0);
            }
            s0.intoMemorySegment(out, o, SimdShape.ORDER);
        }
        for (; j < cols; j++) {
            long base = xb + (long) j * Float.BYTES;
            float s = 0f;
            for (int r = 0; r < rows; r++) {
                s += x.get(JAVA_FLOAT_UNALIGNED, base + r * step);
            }
            long o = ob + (long) j * Float.BYTES;
            if (beta != 0f) {
                s = SimdShape.fma(beta, out.get(JAVA_FLOAT_UNALIGNED, o), s);
            }
            out.set(JAVA_FLOAT_UNALIGNED, o, s);
        }
    }
}
