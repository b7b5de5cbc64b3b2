package dev.latent.kernel;

import java.lang.foreign.MemorySegment;

/**
 * Level-1 operations on contiguous float32 runs of {@code n} elements starting at an element offset.
 * Unless a method says otherwise, input and output runs may be the same run (exact aliasing) but must
 * not partially overlap. Every addressed element must lie inside its segment
 * ({@link IllegalArgumentException} otherwise). Results are exact up to float rounding of each
 * written formula (no reassociation across elements except in {@link #dot}).
 */
public interface Elementwise {

    /** {@code y[i] += alpha * x[i]} for i in [0, n). */
    void axpy(int n, float alpha, MemorySegment x, long xOff, MemorySegment y, long yOff);

    /** {@code x[i] *= alpha} for i in [0, n). */
    void scale(int n, float alpha, MemorySegment x, long xOff);

    /** {@code x[i] = value} for i in [0, n). */
    void fill(int n, float value, MemorySegment x, long xOff);

    /** {@code dst[i] = src[i]} for i in [0, n); src and dst may overlap in any way (memmove). */
    void copy(int n, MemorySegment src, long srcOff, MemorySegment dst, long dstOff);

    /** {@code out[i] = x[i] * y[i]} for i in [0, n) (Hadamard product). */
    void mul(int n, MemorySegment x, long xOff, MemorySegment y, long yOff, MemorySegment out, long outOff);

    /**
     * Bias add broadcast over rows: {@code c[r * ldc + j] += bias[j]} for r in [0, rows), j in [0, cols);
     * ldc &ge; cols.
     */
    void addBias(int rows, int cols, MemorySegment bias, long biasOff, MemorySegment c, long cOff, int ldc);

    /**
     * Dot product {@code sum_i x[i] * y[i]}, accumulated in float with an implementation-defined
     * order (error &le; c * n * eps * sum |x_i y_i|).
     */
    float dot(int n, MemorySegment x, long xOff, MemorySegment y, long yOff);
}
