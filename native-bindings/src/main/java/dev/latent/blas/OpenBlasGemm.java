package dev.latent.blas;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Bounds;
import dev.latent.kernel.Gemm;
import dev.latent.kernel.Transpose;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * {@link Gemm} by OpenBLAS {@code cblas_sgemm} (row-major), called through FFM directly on the caller's
 * segments.
 *
 * <ul>
 *   <li>Arguments are checked with {@link Bounds#gemm} before any native call; a read-only C is an
 *       {@link IllegalArgumentException} too (OpenBLAS would fault writing it).
 *   <li>{@code m == 0} or {@code n == 0}: nothing. {@code k == 0} or {@code alpha == 0}: C = beta * C
 *       computed here (zeros when beta == 0, whatever C held), without calling OpenBLAS.
 *   <li>Native segments are passed zero-copy. Heap segments (e.g. {@code MemorySegment.ofArray}) are
 *       accepted but copied: the addressed spans of A and B (and C's rows when beta != 0) go to
 *       temporary native memory, and only C's m x n elements are written back. Tensors are off-heap, so
 *       this is the slow path for tests and odd callers, not the engine's.
 *   <li>Tiny products (m*n*k at most {@link #criticalMaxWork}) use a {@code Linker.Option.critical}
 *       downcall, skipping the Java-to-native thread-state transition; all others use an ordinary
 *       downcall so that a long GEMM never holds up a garbage-collection safepoint.
 * </ul>
 */
final class OpenBlasGemm implements Gemm {

    /**
     * Largest m*n*k sent through the critical downcall. Up to 32^3 a GEMM takes under a microsecond and
     * OpenBLAS runs it on the calling thread (its multithreading starts at 4 * 65536), so it never waits
     * on OpenBLAS's thread-pool lock while holding up a safepoint. Measured gain: some 10-70 ns per call
     * on 2^3..16^3 shapes, nothing measurable above; {@code -Dlatent.openblas.criticalMaxWork=0} turns
     * the critical path off.
     */
    final long criticalMaxWork;

    private final MethodHandle sgemm;
    private final MethodHandle sgemmCritical;

    OpenBlasGemm() {
        OpenBlas.Lib lib = OpenBlas.lib();
        this.sgemm = lib.sgemm;
        this.sgemmCritical = lib.sgemmCritical;
        this.criticalMaxWork = Long.getLong("latent.openblas.criticalMaxWork", 32L * 32 * 32);
    }

    @Override
    public void gemm(Transpose ta, Transpose tb, int m, int n, int k,
                     float alpha, MemorySegment a, long aOff, int lda,
                     MemorySegment b, long bOff, int ldb,
                     float beta, MemorySegment c, long cOff, int ldc) {
        Bounds.gemm(ta, tb, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) {
            return;
        }
        if (c.isReadOnly()) {
            throw new IllegalArgumentException("gemm C: segment is read-only");
        }
        if (k == 0 || alpha == 0f) {
            scale(m, n, beta, c, cOff, ldc);
            return;
        }
        if (!a.isNative() || !b.isNative() || !c.isNative()) {
            viaNativeCopies(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        call(ta, tb, m, n, k, alpha, at(a, aOff), lda, at(b, bOff), ldb, beta, at(c, cOff), ldc);
    }

    /**
     * The segment to pass for an operand starting {@code off} floats into {@code s}: {@code s} itself
     * when {@code off == 0}, else a slice. Each slice is a 40-byte heap object that C2 does not remove
     * (it escapes into the downcall), so callers that keep their operands at offset 0 (the
     * {@link dev.latent.serve.Encoder}: weights pre-sliced at load, scratch from offset 0) allocate nothing.
     * Passing raw addresses instead (JAVA_LONG parameters) would avoid every slice but drop what FFM
     * does for ADDRESS arguments: keeping the segment's arena alive for the duration of the call. A
     * shared arena closed by another thread, or an automatic arena collected, during a long GEMM would
     * then make OpenBLAS read freed memory (a crash) instead of failing the close.
     */
    private static MemorySegment at(MemorySegment s, long off) {
        return off == 0 ? s : s.asSlice(off * Float.BYTES);
    }

    private void call(Transpose ta, Transpose tb, int m, int n, int k, float alpha,
                      MemorySegment a, int lda, MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        int transA = ta == Transpose.N ? OpenBlas.NO_TRANS : OpenBlas.TRANS;
        int transB = tb == Transpose.N ? OpenBlas.NO_TRANS : OpenBlas.TRANS;
        long work = (long) m * n * k;
        try {
            if (work <= criticalMaxWork) {
                sgemmCritical.invokeExact(OpenBlas.ROW_MAJOR, transA, transB, m, n, k,
                        alpha, a, lda, b, ldb, beta, c, ldc);
            } else {
                sgemm.invokeExact(OpenBlas.ROW_MAJOR, transA, transB, m, n, k,
                        alpha, a, lda, b, ldb, beta, c, ldc);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed", t);
        }
    }

    /** C = beta * C over the m x n elements; beta == 0 writes zeros without reading C. */
    private static void scale(int m, int n, float beta, MemorySegment c, long cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            long row = cOff + (long) i * ldc;
            if (beta == 0f) {
                c.asSlice(row * Float.BYTES, (long) n * Float.BYTES).fill((byte) 0);
            } else if (beta != 1f) {
                for (int j = 0; j < n; j++) {
                    c.setAtIndex(JAVA_FLOAT, row + j, beta * c.getAtIndex(JAVA_FLOAT, row + j));
                }
            }
        }
    }

    /** The heap-segment path: copies the addressed spans to native memory, multiplies, writes C's rows back. */
    private void viaNativeCopies(Transpose ta, Transpose tb, int m, int n, int k,
                                 float alpha, MemorySegment a, long aOff, int lda,
                                 MemorySegment b, long bOff, int ldb,
                                 float beta, MemorySegment c, long cOff, int ldc) {
        long aSpan = ta == Transpose.N ? span(m, k, lda) : span(k, m, lda);
        long bSpan = tb == Transpose.N ? span(k, n, ldb) : span(n, k, ldb);
        long cSpan = span(m, n, ldc);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment na = a.isNative() ? a.asSlice(aOff * Float.BYTES) : copy(arena, a, aOff, aSpan);
            MemorySegment nb = b.isNative() ? b.asSlice(bOff * Float.BYTES) : copy(arena, b, bOff, bSpan);
            MemorySegment nc;
            if (c.isNative()) {
                nc = c.asSlice(cOff * Float.BYTES);
            } else {
                nc = arena.allocate(cSpan * Float.BYTES, Float.BYTES);
                if (beta != 0f) {
                    copyRows(c, cOff, ldc, nc, 0, ldc, m, n);
                }
            }
            call(ta, tb, m, n, k, alpha, na, lda, nb, ldb, beta, nc, ldc);
            if (!c.isNative()) {
                copyRows(nc, 0, ldc, c, cOff, ldc, m, n);
            }
        }
    }

    private static long span(int rows, int cols, int ld) {
        return (long) (rows - 1) * ld + cols;
    }

    private static MemorySegment copy(Arena arena, MemorySegment src, long off, long floats) {
        MemorySegment dst = arena.allocate(floats * Float.BYTES, Float.BYTES);
        MemorySegment.copy(src, off * Float.BYTES, dst, 0, floats * Float.BYTES);
        return dst;
    }

    private static void copyRows(MemorySegment src, long srcOff, int srcLd, MemorySegment dst, long dstOff, int dstLd,
                                 int rows, int cols) {
        for (int i = 0; i < rows; i++) {
            MemorySegment.copy(src, (srcOff + (long) i * srcLd) * Float.BYTES,
                    dst, (dstOff + (long) i * dstLd) * Float.BYTES, (long) cols * Float.BYTES);
        }
    }
}
