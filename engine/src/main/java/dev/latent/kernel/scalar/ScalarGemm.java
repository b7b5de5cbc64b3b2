package dev.latent.kernel.scalar;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Bounds;
import dev.latent.kernel.Gemm;
import dev.latent.kernel.Transpose;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

/** The naive triple loop, accumulated in double and rounded once: the GEMM specification. */
final class ScalarGemm implements Gemm {

    /** Always on the calling thread: it is its own single-threaded variant. */
    @Override
    public Optional<Gemm> singleThreaded() {
        return Optional.of(this);
    }

    @Override
    public void gemm(Transpose ta, Transpose tb, int m, int n, int k,
                     float alpha, MemorySegment a, long aOff, int lda,
                     MemorySegment b, long bOff, int ldb,
                     float beta, MemorySegment c, long cOff, int ldc) {
        Bounds.gemm(ta, tb, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    float aip = a.getAtIndex(JAVA_FLOAT, aOff + (ta == Transpose.N ? (long) i * lda + p : (long) p * lda + i));
                    float bpj = b.getAtIndex(JAVA_FLOAT, bOff + (tb == Transpose.N ? (long) p * ldb + j : (long) j * ldb + p));
                    sum += (double) aip * bpj;
                }
                long ci = cOff + (long) i * ldc + j;
                double result = alpha * sum;
                if (beta != 0f) {
                    result += (double) beta * c.getAtIndex(JAVA_FLOAT, ci);
                }
                c.setAtIndex(JAVA_FLOAT, ci, (float) result);
            }
        }
    }
}
