package dev.latent.kernel;

import java.lang.foreign.MemorySegment;

/**
 * Argument checks shared by every provider, run before a kernel touches memory, so that a bad call is
 * an {@link IllegalArgumentException} naming the operand and never a read outside a segment (the
 * Vector API and FFM would also refuse, but with a message that names no operand).
 */
public final class Bounds {

    private Bounds() {
    }

    /** Requires {@code n >= 0}. */
    public static void count(String what, long n) {
        if (n < 0) {
            throw new IllegalArgumentException(what + " must be >= 0, got " + n);
        }
    }

    /** Requires the run {@code [off, off + n)} of floats to lie inside {@code seg}. */
    public static void run(String operand, MemorySegment seg, long off, long n) {
        if (n == 0) {
            return;
        }
        long floats = seg.byteSize() / Float.BYTES;
        if (off < 0 || n < 0 || off > floats - n) {
            throw new IllegalArgumentException(operand + ": elements [" + off + ", " + (off + n)
                    + ") outside a segment of " + floats + " floats");
        }
    }

    /**
     * Requires a row-major rows x cols matrix at {@code off} with leading dimension {@code ld} to lie
     * inside {@code seg}, and {@code ld >= max(1, cols)}.
     */
    public static void matrix(String operand, MemorySegment seg, long off, int rows, int cols, int ld) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException(operand + ": negative shape " + rows + " x " + cols);
        }
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException(operand + ": leading dimension " + ld + " < columns " + cols);
        }
        if (rows == 0 || cols == 0) {
            return;
        }
        long n = (long) (rows - 1) * ld + cols;
        long floats = seg.byteSize() / Float.BYTES;
        if (off < 0 || off > floats - n) {
            // The message is built only on failure: this check runs on every kernel call.
            throw new IllegalArgumentException(operand + " (" + rows + " x " + cols + ", ld " + ld + "): elements ["
                    + off + ", " + (off + n) + ") outside a segment of " + floats + " floats");
        }
    }

    /** The GEMM argument checks of {@link Gemm#gemm}. */
    public static void gemm(Transpose ta, Transpose tb, int m, int n, int k,
                            MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                            MemorySegment c, long cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemm: negative size m=" + m + " n=" + n + " k=" + k);
        }
        if (ta == null || tb == null) {
            throw new IllegalArgumentException("gemm: transpose flags must not be null");
        }
        if (ta == Transpose.N) {
            matrix("gemm A", a, aOff, m, k, lda);
        } else {
            matrix("gemm A^T", a, aOff, k, m, lda);
        }
        if (tb == Transpose.N) {
            matrix("gemm B", b, bOff, k, n, ldb);
        } else {
            matrix("gemm B^T", b, bOff, n, k, ldb);
        }
        matrix("gemm C", c, cOff, m, n, ldc);
    }
}
