package dev.latent.kernel;

import java.lang.foreign.MemorySegment;

/**
 * Row-wise softmax over a row-major rows x cols matrix (cols &ge; 1), numerically stable: each row's
 * maximum is subtracted before exponentiating, so any finite input gives finite output. Y may alias X
 * exactly (same offset and leading dimension).
 */
public interface Softmax {

    /** {@code Y[r, j] = exp(X[r, j] - m_r) / sum_i exp(X[r, i] - m_r)}, m_r = max_i X[r, i]. */
    void softmax(int rows, int cols, MemorySegment x, long xOff, int ldx, MemorySegment y, long yOff, int ldy);

    /** {@code Y[r, j] = X[r, j] - m_r - log sum_i exp(X[r, i] - m_r)}. */
    void logSoftmax(int rows, int cols, MemorySegment x, long xOff, int ldx, MemorySegment y, long yOff, int ldy);
}
