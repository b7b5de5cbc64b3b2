package dev.latent.kernel;

import java.lang.foreign.MemorySegment;

/**
 * A dense layer for serving, with its weights packed once: y = f(x W^T + b).
 *
 * <pre>
 * x (n, in) row-major, leading dimension ldx;  W (out, in) and b (out), fixed at construction;
 * y (n, out) row-major, leading dimension ldy, overwritten (never read).
 * y[i, j] = f(sum_{p &lt; in} x[i, p] W[j, p] + b[j])   (f: an {@link Activation})
 * </pre>
 *
 * <p>Contract of every implementation:
 * <ul>
 *   <li>accuracy: |y - f(z)| &lt;= Lip(f) * 2 (in + 1) eps sum_p |x[i, p] W[j, p]| + |b[j]| eps, plus
 *       the {@link Activations} bound of f, with z computed in double precision;
 *   <li>row-wise: each y[i, j] depends on row i of x (and W, b) only, with the same bits whatever n,
 *       the row's position in the batch, the thread count or the thread that runs it; repeated calls
 *       give the same bits;
 *   <li>x and y must not overlap; allocates nothing in steady state (per-thread state on first use).
 * </ul>
 */
public interface PackedDense {

    /** Inputs per row. */
    int in();

    /** Outputs per row. */
    int out();

    /** y = f(x W^T + b) over n rows (see the class comment). */
    void forward(int n, MemorySegment x, long xOff, int ldx, MemorySegment y, long yOff, int ldy);
}
