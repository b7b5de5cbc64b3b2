package dev.latent.kernel;

import java.lang.foreign.MemorySegment;

/**
 * Row and column sums of a row-major rows x cols matrix X with leading dimension ldx &ge; cols.
 * The output is {@code out = beta * out + sums}; with {@code beta == 0} the old contents of out are
 * never read (NaN does not leak). Summation order is implementation-defined
 * (error &le; c * len * eps * sum |x|). Out must not overlap X.
 */
public interface Reductions {

    /** {@code out[r] = beta * out[r] + sum_j X[r, j]} for r in [0, rows). */
    void rowSums(int rows, int cols, MemorySegment x, long xOff, int ldx,
                 float beta, MemorySegment out, long outOff);

    /** {@code out[j] = beta * out[j] + sum_r X[r, j]} for j in [0, cols) (the bias gradient). */
    void colSums(int rows, int cols, MemorySegment x, long xOff, int ldx,
                 float beta, MemorySegment out, long outOff);
}
