package dev.latent.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.prop.Compare;
import dev.latent.prop.Gen;
import dev.latent.prop.Prop;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@link Gemm} contract as properties, run for every provider under test against the scalar
 * reference ({@link KernelCases#gemm}): same values within a k-scaled rounding bound, same bits on a
 * second call, NaN in C never leaking when beta = 0, nothing written outside the m x n addressed
 * elements, and bad arguments rejected with {@link IllegalArgumentException}.
 */
public interface GemmContract {

    /**
     * C = alpha op(A) op(B) + beta C equals the reference, and a second identical call gives the same
     * bits. Every element of C's segment is compared: addressed ones within the tolerance, the rest
     * (ldc gap, offset, tail) exactly, so a write outside the matrix fails.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#gemm")
    default void gemmMatchesReference(KernelCase<GemmShape> c) {
        c.check(s -> checkGemm(c.subject(), c.seed(), s));
    }

    /** Negative sizes, short leading dimensions, offsets outside a segment: IllegalArgumentException. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#providers")
    default void gemmRejectsBadArguments(String provider) {
        Gemm g = KernelRegistry.load(provider).gemm();
        Transpose n = Transpose.N;
        Transpose t = Transpose.T;
        try (Workspace ws = new Workspace("gemm bad arguments")) {
            MemorySegment a = ws.allocateFloats(16);
            MemorySegment b = ws.allocateFloats(16);
            MemorySegment c = ws.allocateFloats(16);
            MemorySegment small = ws.allocateFloats(15);
            String p = provider + " gemm ";
            Compare.rejects(() -> p + "m = -1", () -> g.gemm(n, n, -1, 4, 4, 1f, a, 0, 4, b, 0, 4, 0f, c, 0, 4));
            Compare.rejects(() -> p + "n = -1", () -> g.gemm(n, n, 4, -1, 4, 1f, a, 0, 4, b, 0, 4, 0f, c, 0, 4));
            Compare.rejects(() -> p + "k = -1", () -> g.gemm(n, n, 4, 4, -1, 1f, a, 0, 4, b, 0, 4, 0f, c, 0, 4));
            Compare.rejects(() -> p + "lda 3 < k 4", () -> g.gemm(n, n, 4, 4, 4, 1f, a, 0, 3, b, 0, 4, 0f, c, 0, 4));
            Compare.rejects(() -> p + "A^T lda 3 < m 4", () -> g.gemm(t, n, 4, 4, 4, 1f, a, 0, 3, b, 0, 4, 0f, c, 0, 4));
            Compare.rejects(() -> p + "ldb 3 < n 4", () -> g.gemm(n, n, 4, 4, 4, 1f, a, 0, 4, b, 0, 3, 0f, c, 0, 4));
            Compare.rejects(() -> p + "B^T ldb 3 < k 4", () -> g.gemm(n, t, 4, 4, 4, 1f, a, 0, 4, b, 0, 3, 0f, c, 0, 4));
            Compare.rejects(() -> p + "ldc 3 < n 4", () -> g.gemm(n, n, 4, 4, 4, 1f, a, 0, 4, b, 0, 4, 0f, c, 0, 3));
            Compare.rejects(() -> p + "ldc 0 with n 0", () -> g.gemm(n, n, 4, 0, 4, 1f, a, 0, 4, b, 0, 4, 0f, c, 0, 0));
            Compare.rejects(() -> p + "A offset 1 runs past 16 floats",
                    () -> g.gemm(n, n, 4, 4, 4, 1f, a, 1, 4, b, 0, 4, 0f, c, 0, 4));
            Compare.rejects(() -> p + "B offset -1", () -> g.gemm(n, n, 4, 4, 4, 1f, a, 0, 4, b, -1, 4, 0f, c, 0, 4));
            Compare.rejects(() -> p + "C offset 13 runs past 16 floats",
                    () -> g.gemm(n, n, 4, 4, 4, 1f, a, 0, 4, b, 0, 4, 1f, c, 13, 4));
            Compare.rejects(() -> p + "C in 15 floats", () -> g.gemm(n, n, 4, 4, 4, 1f, a, 0, 4, b, 0, 4, 0f, small, 0, 4));
            Compare.rejects(() -> p + "A^T in 15 floats", () -> g.gemm(t, n, 4, 4, 4, 1f, small, 0, 4, b, 0, 4, 0f, c, 0, 4));
            Compare.rejects(() -> p + "huge offset", () -> g.gemm(n, n, 4, 4, 4, 1f, a, Long.MAX_VALUE - 2, 4, b, 0, 4, 0f, c, 0, 4));
            Compare.rejects(() -> p + "null transpose", () -> g.gemm(null, n, 4, 4, 4, 1f, a, 0, 4, b, 0, 4, 0f, c, 0, 4));
        }
    }

    /** One GEMM case: subject twice, reference once, compare. */
    private static void checkGemm(Kernels subject, long seed, GemmShape s) {
        SplittableRandom r = Prop.data(seed);
        int lenA = Gen.extent(s.offA(), s.rowsA(), s.colsA(), s.lda(), s.tail());
        int lenB = Gen.extent(s.offB(), s.rowsB(), s.colsB(), s.ldb(), s.tail());
        int lenC = Gen.extent(s.offC(), s.m(), s.n(), s.ldc(), s.tail());
        float alpha = switch (s.scaling()) {
            case OVERWRITE_NAN, ACCUMULATE -> 1f;
            case ZERO_ALPHA -> 0f;
            case GENERAL, SCALED_OVERWRITE_NAN -> (float) r.nextDouble(-2, 2);
        };
        float beta = switch (s.scaling()) {
            case OVERWRITE_NAN, SCALED_OVERWRITE_NAN -> 0f;
            case ACCUMULATE -> 1f;
            case GENERAL, ZERO_ALPHA -> (float) r.nextDouble(-2, 2);
        };
        // drawn after alpha and beta, so a shrunk shape keeps the same scalars
        float[] a = Gen.values(r, lenA);
        float[] b = s.sharedAB() ? a : Gen.values(r, lenB);
        float[] c0 = s.scaling().betaZero() ? Gen.nan(lenC) : Gen.values(r, lenC);
        Kernels ref = KernelCase.reference();
        try (Workspace ws = new Workspace("gemm " + s)) {
            MemorySegment sa = Gen.segment(ws, a);
            MemorySegment sb = s.sharedAB() ? sa : Gen.segment(ws, b);
            MemorySegment expectedC = Gen.segment(ws, c0);
            MemorySegment actualC = Gen.segment(ws, c0);
            MemorySegment againC = Gen.segment(ws, c0);
            ref.gemm().gemm(s.ta(), s.tb(), s.m(), s.n(), s.k(), alpha, sa, s.offA(), s.lda(), sb, s.offB(), s.ldb(),
                    beta, expectedC, s.offC(), s.ldc());
            subject.gemm().gemm(s.ta(), s.tb(), s.m(), s.n(), s.k(), alpha, sa, s.offA(), s.lda(), sb, s.offB(), s.ldb(),
                    beta, actualC, s.offC(), s.ldc());
            subject.gemm().gemm(s.ta(), s.tb(), s.m(), s.n(), s.k(), alpha, sa, s.offA(), s.lda(), sb, s.offB(), s.ldb(),
                    beta, againC, s.offC(), s.ldc());

            // sum_p |a_ip| |b_pj|, from the reference on |A| and |B| (rounded once; the factor 2 below covers it).
            MemorySegment absA = Gen.segment(ws, Gen.abs(a));
            MemorySegment absB = s.sharedAB() ? absA : Gen.segment(ws, Gen.abs(b));
            MemorySegment absSum = ws.allocateFloats(lenC);
            ref.gemm().gemm(s.ta(), s.tb(), s.m(), s.n(), s.k(), 1f, absA, s.offA(), s.lda(), absB, s.offB(), s.ldb(),
                    0f, absSum, s.offC(), s.ldc());
            float[] abs = Gen.read(absSum);

            float[] expected = Gen.read(expectedC);
            float[] actual = Gen.read(actualC);
            IntFunction<String> where = i -> where(s, i);
            Compare.sameBits("gemm C", actual, Gen.read(againC), where);
            double[] tol = new double[lenC];
            for (int i = 0; i < lenC; i++) {
                if (!addressed(s, i)) {
                    continue; // outside the m x n matrix: must be untouched, bit for bit
                }
                // The reference sums in double and rounds once; a float sum of k products errs by at most
                // ~k eps relative to sum_p |a_ip b_pj| in any order (FMA or not); +1 for the alpha scaling and
                // final rounding, x2 for slack; beta * c_old adds one rounding of its own magnitude.
                double betaTerm = beta == 0f ? 0 : Math.abs((double) beta * c0[i]);
                tol[i] = 2 * (s.k() + 1) * Gen.EPS * Math.abs(alpha) * abs[i] + 2 * Gen.EPS * betaTerm;
                if (beta == 0f) {
                    int at = i;
                    assertTrue(Float.isFinite(actual[i]), () -> "gemm beta = 0 over NaN C must give finite values; "
                            + where.apply(at) + " = " + actual[at]);
                }
            }
            Compare.close("gemm C (alpha " + alpha + ", beta " + beta + ")", actual, expected, tol, where);
        }
    }

    private static boolean addressed(GemmShape s, int i) {
        long rel = i - (long) s.offC();
        if (rel < 0) {
            return false;
        }
        long row = rel / s.ldc();
        long col = rel % s.ldc();
        return row < s.m() && col < s.n();
    }

    private static String where(GemmShape s, int i) {
        if (!addressed(s, i)) {
            return "C segment float " + i + " (outside the m x n matrix, must be untouched)";
        }
        long rel = i - (long) s.offC();
        return "C[" + rel / s.ldc() + ", " + rel % s.ldc() + "]";
    }
}
