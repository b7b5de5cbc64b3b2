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
     * Bias add broadcast over columns (one bias per row, as a per-channel bias on a CHW image):
     * {@code c[r * ldc + j] += bias[r]} for r in [0, rows), j in [0, cols); ldc &ge; cols. One rounding
     * per element.
     */
    void addRowBias(int rows, int cols, MemorySegment bias, long biasOff, MemorySegment c, long cOff, int ldc);

    /**
     * Dot product {@code sum_i x[i] * y[i]}, accumulated in float with an implementation-defined
     * order (error &le; c * n * eps * sum |x_i y_i|).
     */
    float dot(int n, MemorySegment x, long xOff, MemorySegment y, long yOff);

    /**
     * One Adam step over n parameters, both bias corrections folded into {@code step} and {@code eps}
     * by the caller. For i in [0, n), each operation rounded to float in this order (no fused
     * multiply-add; the square root correctly rounded):
     * <pre>
     * m[i] = b1 * m[i] + c1 * g[i]
     * v[i] = b2 * v[i] + (c2 * g[i]) * g[i]
     * w[i] = w[i] - (step * m[i]) / (sqrt(v[i]) + eps)
     * </pre>
     * so every provider gives the same bits. g is read only; w, g, m and v must not overlap.
     */
    void adam(int n, float b1, float c1, float b2, float c2, float step, float eps,
              MemorySegment w, long wOff, MemorySegment g, long gOff,
              MemorySegment m, long mOff, MemorySegment v, long vOff);

    /**
     * One SGD step over n parameters (PyTorch's momentum formulation), each operation rounded to float
     * in this order: with {@code mu == 0}, {@code w[i] = w[i] - rate * g[i]} and vel is not touched
     * (it may be any segment); otherwise {@code vel[i] = mu * vel[i] + g[i]}, then
     * {@code w[i] = w[i] - rate * u} with {@code u = nesterov ? g[i] + mu * vel[i] : vel[i]}.
     * No fused multiply-add, so every provider gives the same bits. g is read only; w, g and vel must
     * not overlap.
     */
    void sgd(int n, float rate, float mu, boolean nesterov, MemorySegment w, long wOff,
             MemorySegment g, long gOff, MemorySegment vel, long velOff);
}
