package dev.latent.kernel;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * General matrix multiply on row-major float32 matrices held in memory segments.
 *
 * <p>Contract of {@link #gemm}: {@code C = alpha * op(A) * op(B) + beta * C} where op(A) is m x k,
 * op(B) is k x n and C is m x n.
 * <ul>
 *   <li>Row-major storage. Element (i, j) of a matrix X with leading dimension ldx is
 *       {@code X[xOff + i * ldx + j]} (offsets and leading dimensions count floats, not bytes).
 *   <li>A is stored m x k (lda &ge; max(1, k)) when {@code ta == N}, k x m (lda &ge; max(1, m)) when
 *       {@code ta == T}; likewise B is k x n (ldb &ge; n) or n x k (ldb &ge; k); ldc &ge; max(1, n).
 *   <li>{@code beta == 0}: C is write-only, its old contents (even NaN or infinity) never reach the
 *       result. Otherwise C is read and scaled; {@code k == 0} or {@code alpha == 0} leaves
 *       {@code beta * C}.
 *   <li>C must not overlap A or B. A and B may be the same memory.
 *   <li>Only the m x n elements of C addressed above are written; columns between n and ldc are
 *       untouched.
 *   <li>Summation order is implementation-defined, so results differ from the scalar reference by
 *       rounding only: |error| &le; c * k * eps * sum_p |a_ip| |b_pj| for a small constant c.
 *       The same provider with the same arguments gives the same bits on every call.
 * </ul>
 * Arguments are validated (dimensions non-negative, leading dimensions large enough, every addressed
 * element inside its segment): a violation is an {@link IllegalArgumentException} naming the operand,
 * never a read outside a segment.
 */
public interface Gemm {

    /** {@code C = alpha * op(A) * op(B) + beta * C}; see the interface documentation. */
    void gemm(Transpose ta, Transpose tb, int m, int n, int k,
              float alpha, MemorySegment a, long aOff, int lda,
              MemorySegment b, long bOff, int ldb,
              float beta, MemorySegment c, long cOff, int ldc);

    /**
     * A GEMM with the same contract and the same bits as this one that runs wholly on the calling
     * thread, for callers that already split their work across the kernel threads (k-means runs one
     * such GEMM per thread on its own chunk of rows). Empty when the provider has none; its own GEMM
     * may then start threads of its own, and such callers should call it from one thread at a time.
     */
    default Optional<Gemm> singleThreaded() {
        return Optional.empty();
    }
}
