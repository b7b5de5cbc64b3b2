package dev.latent.blas;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.latent.kernel.Gemm;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Transpose;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.opentest4j.AssertionFailedError;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * OpenBLAS GEMM against the scalar reference (double accumulation, one rounding).
 * Replay one random case with {@code -Dprop.seed=N}.
 */
class OpenBlasGemmTest {

    private static final float EPS = Math.ulp(1f);
    private static final int[] SIZES = {1, 2, 3, 7, 13, 31, 64, 65, 127, 257};

    private static Gemm blas;
    private static Gemm ref;

    @BeforeAll
    static void load() {
        assertTrue(OpenBlas.available(), () -> "OpenBLAS did not load: " + OpenBlas.unavailableReason().orElse(""));
        blas = new OpenBlasProvider().create(KernelRegistry.load("scalar")).gemm();
        ref = KernelRegistry.load("scalar").gemm();
    }

    /** One GEMM problem; ld pads are added to the minimum leading dimensions. */
    record Case(Transpose ta, Transpose tb, int m, int n, int k, float alpha, float beta,
                int padA, int padB, int padC, long offA, long offB, long offC, boolean nanC) {
        @Override
        public String toString() {
            return ta + "" + tb + " m=" + m + " n=" + n + " k=" + k + " alpha=" + alpha + " beta=" + beta
                    + " pads=" + padA + "," + padB + "," + padC + " offs=" + offA + "," + offB + "," + offC
                    + (nanC ? " NaN-C" : "");
        }
    }

    static Stream<Arguments> shapeGrid() {
        List<Arguments> out = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(20240601L);
        for (int m : SIZES) {
            for (int n : SIZES) {
                // k sweeps the list as well, one k per (m, n) pair chosen by rotation so the grid stays small.
                int k = SIZES[(indexOf(m) + 3 * indexOf(n)) % SIZES.length];
                for (Transpose ta : Transpose.values()) {
                    for (Transpose tb : Transpose.values()) {
                        out.add(Arguments.of(new Case(ta, tb, m, n, k, 1f, 0f, 0, 0, 0, 0, 0, 0, false)));
                    }
                }
                Transpose ta = Transpose.of(r.nextBoolean());
                Transpose tb = Transpose.of(r.nextBoolean());
                out.add(Arguments.of(new Case(ta, tb, m, n, k, 0.75f, -1.5f, 3, 1, 5, 2, 7, 1, false)));
            }
        }
        return out.stream();
    }

    private static int indexOf(int size) {
        for (int i = 0; i < SIZES.length; i++) {
            if (SIZES[i] == size) {
                return i;
            }
        }
        throw new IllegalArgumentException();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapeGrid")
    void matchesScalarOnTheShapeGrid(Case c) {
        check(c, 1L);
    }

    static LongStream seeds() {
        String replay = System.getProperty("prop.seed");
        return replay != null ? LongStream.of(Long.parseLong(replay)) : LongStream.rangeClosed(1, 60);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void matchesScalarOnRandomCases(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int m = size(r);
        int n = size(r);
        int k = size(r);
        float[] alphas = {1f, -1f, 0.5f, 2.25f, 0f};
        float[] betas = {0f, 1f, -0.5f, 3f};
        Case c = new Case(Transpose.of(r.nextBoolean()), Transpose.of(r.nextBoolean()), m, n, k,
                alphas[r.nextInt(alphas.length)], betas[r.nextInt(betas.length)],
                r.nextInt(4) == 0 ? 0 : r.nextInt(1, 9), r.nextInt(4) == 0 ? 0 : r.nextInt(1, 9),
                r.nextInt(4) == 0 ? 0 : r.nextInt(1, 9), r.nextInt(0, 5), r.nextInt(0, 5), r.nextInt(0, 5),
                false);
        Case withNan = r.nextInt(3) == 0 && c.beta() == 0f
                ? new Case(c.ta(), c.tb(), m, n, k, c.alpha(), 0f, c.padA(), c.padB(), c.padC(),
                        c.offA(), c.offB(), c.offC(), true)
                : c;
        check(withNan, seed);
    }

    private static int size(SplittableRandom r) {
        return switch (r.nextInt(4)) {
            case 0 -> r.nextInt(0, 4);
            case 1 -> r.nextInt(1, 40);
            case 2 -> r.nextInt(40, 160);
            default -> r.nextInt(1, 300);
        };
    }

    /** beta == 0 must ignore C's old contents, NaN included, on every path OpenBLAS has (GEMV-like shapes too). */
    @Test
    void betaZeroOverwritesNanC() {
        int[][] shapes = {{1, 784, 1000}, {1000, 784, 1}, {1, 1, 1}, {1, 5, 3}, {5, 1, 3}, {2, 2, 2}, {8, 8, 8},
                {16, 16, 16}, {33, 17, 9}, {64, 64, 64}, {65, 65, 65}, {256, 128, 300}};
        for (int[] s : shapes) {
            for (Transpose ta : Transpose.values()) {
                for (Transpose tb : Transpose.values()) {
                    check(new Case(ta, tb, s[0], s[2], s[1], 1f, 0f, 0, 0, 2, 0, 0, 0, true), 7L);
                    check(new Case(ta, tb, s[0], s[2], s[1], -0.5f, 0f, 1, 0, 0, 0, 0, 0, true), 8L);
                }
            }
        }
    }

    @Test
    void kZeroAndAlphaZeroLeaveBetaC() {
        for (float beta : new float[] {0f, 1f, -2f}) {
            for (boolean nan : new boolean[] {false, true}) {
                if (nan && beta != 0f) {
                    continue;
                }
                check(new Case(Transpose.N, Transpose.N, 5, 6, 0, 1f, beta, 0, 0, 3, 0, 0, 0, nan), 11L);
                check(new Case(Transpose.T, Transpose.N, 5, 6, 4, 0f, beta, 0, 0, 3, 0, 0, 0, nan), 12L);
            }
        }
    }

    @Test
    void emptyMOrNTouchesNothing() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(64 * 4);
            MemorySegment c = arena.allocate(64 * 4);
            c.fill((byte) 0x7f);
            blas.gemm(Transpose.N, Transpose.N, 0, 4, 4, 1f, a, 0, 4, a, 0, 4, 0f, c, 0, 4);
            blas.gemm(Transpose.N, Transpose.N, 4, 0, 4, 1f, a, 0, 4, a, 0, 4, 0f, c, 0, 1);
            for (long i = 0; i < 64; i++) {
                assertEquals(0x7f7f7f7f, c.getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, i));
            }
        }
    }

    @Test
    void heapSegmentsGiveTheSameBitsAsNative() {
        SplittableRandom r = new SplittableRandom(99);
        int m = 37, n = 29, k = 41;
        int lda = 45, ldb = 44, ldc = 33; // >= every width used below
        int offA = 3, offB = 1, offC = 2;
        for (Transpose ta : Transpose.values()) {
            for (Transpose tb : Transpose.values()) {
                for (float beta : new float[] {0f, 0.5f}) {
                    float[] a = random(r, offA + 45 * 45);
                    float[] b = random(r, offB + 45 * 44);
                    float[] c = random(r, offC + m * ldc);
                    if (beta == 0f) {
                        java.util.Arrays.fill(c, Float.NaN);
                    }
                    float[] cHeap = c.clone();
                    float[] cMixed = c.clone();
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment na = arena.allocateFrom(JAVA_FLOAT, a);
                        MemorySegment nb = arena.allocateFrom(JAVA_FLOAT, b);
                        MemorySegment nc = arena.allocateFrom(JAVA_FLOAT, c);
                        blas.gemm(ta, tb, m, n, k, 1.5f, na, offA, lda, nb, offB, ldb, beta, nc, offC, ldc);
                        blas.gemm(ta, tb, m, n, k, 1.5f, MemorySegment.ofArray(a), offA, lda,
                                MemorySegment.ofArray(b), offB, ldb, beta, MemorySegment.ofArray(cHeap), offC, ldc);
                        blas.gemm(ta, tb, m, n, k, 1.5f, MemorySegment.ofArray(a), offA, lda,
                                nb, offB, ldb, beta, MemorySegment.ofArray(cMixed), offC, ldc);
                        float[] expected = nc.toArray(JAVA_FLOAT);
                        for (int i = 0; i < expected.length; i++) {
                            int want = Float.floatToRawIntBits(expected[i]);
                            String where = ta + "" + tb + " beta=" + beta + " element " + i;
                            assertEquals(want, Float.floatToRawIntBits(cHeap[i]), where + " (heap)");
                            assertEquals(want, Float.floatToRawIntBits(cMixed[i]), where + " (heap A and C, native B)");
                        }
                    }
                }
            }
        }
    }

    @Test
    void readOnlyOperandsAreFineButReadOnlyCIsRejected() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(16 * 4).fill((byte) 0);
            MemorySegment c = arena.allocate(16 * 4);
            blas.gemm(Transpose.N, Transpose.N, 4, 4, 4, 1f, a.asReadOnly(), 0, 4, a.asReadOnly(), 0, 4, 0f, c, 0, 4);
            assertThrows(IllegalArgumentException.class, () ->
                    blas.gemm(Transpose.N, Transpose.N, 4, 4, 4, 1f, a, 0, 4, a, 0, 4, 0f, c.asReadOnly(), 0, 4));
        }
    }

    @Test
    void badCallsAreIllegalArgumentsNotCrashes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(12 * 4);
            MemorySegment b = arena.allocate(12 * 4);
            MemorySegment c = arena.allocate(9 * 4);
            Transpose nn = Transpose.N;
            // sanity: the valid 3x4 * 4x3 call works
            blas.gemm(nn, nn, 3, 3, 4, 1f, a, 0, 4, b, 0, 3, 0f, c, 0, 3);
            assertThrows(IllegalArgumentException.class, () -> blas.gemm(nn, nn, 3, 3, 4, 1f, a, 0, 3, b, 0, 3, 0f, c, 0, 3), "lda < k");
            assertThrows(IllegalArgumentException.class, () -> blas.gemm(nn, nn, 3, 3, 4, 1f, a, 0, 4, b, 0, 2, 0f, c, 0, 3), "ldb < n");
            assertThrows(IllegalArgumentException.class, () -> blas.gemm(nn, nn, 3, 3, 4, 1f, a, 0, 4, b, 0, 3, 0f, c, 0, 2), "ldc < n");
            assertThrows(IllegalArgumentException.class, () -> blas.gemm(Transpose.T, nn, 3, 3, 4, 1f, a, 0, 2, b, 0, 3, 0f, c, 0, 3), "lda < m for A^T");
            assertThrows(IllegalArgumentException.class, () -> blas.gemm(nn, nn, 3, 3, 4, 1f, a, 1, 4, b, 0, 3, 0f, c, 0, 3), "A off end");
            assertThrows(IllegalArgumentException.class, () -> blas.gemm(nn, nn, 3, 3, 4, 1f, a, 0, 4, b, 1, 3, 0f, c, 0, 3), "B off end");
            assertThrows(IllegalArgumentException.class, () -> blas.gemm(nn, nn, 3, 3, 4, 1f, a, 0, 4, b, 0, 3, 0f, c, 1, 3), "C off end");
            assertThrows(IllegalArgumentException.class, () -> blas.gemm(nn, nn, 3, 3, 4, 1f, a, -1, 4, b, 0, 3, 0f, c, 0, 3), "negative offset");
            assertThrows(IllegalArgumentException.class, () -> blas.gemm(nn, nn, 3, 3, 4, 1f, a, 0, 4, b, 0, 3, 0f, c, 0, 4), "ldc too large for C");
            assertThrows(IllegalArgumentException.class, () -> blas.gemm(nn, nn, -1, 3, 4, 1f, a, 0, 4, b, 0, 3, 0f, c, 0, 3), "negative m");
            assertThrows(IllegalArgumentException.class, () -> blas.gemm(null, nn, 3, 3, 4, 1f, a, 0, 4, b, 0, 3, 0f, c, 0, 3), "null transpose");
        }
    }

    @Test
    void sameArgumentsGiveSameBits() {
        SplittableRandom r = new SplittableRandom(5);
        int m = 300, n = 200, k = 500;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocateFrom(JAVA_FLOAT, random(r, m * k));
            MemorySegment b = arena.allocateFrom(JAVA_FLOAT, random(r, k * n));
            MemorySegment c1 = arena.allocate((long) m * n * 4);
            MemorySegment c2 = arena.allocate((long) m * n * 4);
            blas.gemm(Transpose.N, Transpose.T, m, n, k, 1f, a, 0, k, b, 0, k, 0f, c1, 0, n);
            blas.gemm(Transpose.N, Transpose.T, m, n, k, 1f, a, 0, k, b, 0, k, 0f, c2, 0, n);
            assertEquals(-1L, c1.mismatch(c2));
        }
    }

    // ---------------------------------------------------------------------------------------------

    private static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextDouble(-1, 1);
        }
        return x;
    }

    private static MemorySegment filled(Arena arena, SplittableRandom r, long floats) {
        MemorySegment s = arena.allocate(Math.max(1, floats) * Float.BYTES, 64);
        for (long i = 0; i < floats; i++) {
            s.setAtIndex(JAVA_FLOAT, i, (float) r.nextDouble(-1, 1));
        }
        return s;
    }

    /** Runs one case through OpenBLAS and the scalar reference, and compares every element of C. */
    private static void check(Case t, long seed) {
        check(blas, t, seed);
    }

    private static void check(Gemm underTest, Case t, long seed) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + t.hashCode());
        int aRows = t.ta() == Transpose.N ? t.m() : t.k();
        int aCols = t.ta() == Transpose.N ? t.k() : t.m();
        int bRows = t.tb() == Transpose.N ? t.k() : t.n();
        int bCols = t.tb() == Transpose.N ? t.n() : t.k();
        int lda = Math.max(1, aCols) + t.padA();
        int ldb = Math.max(1, bCols) + t.padB();
        int ldc = Math.max(1, t.n()) + t.padC();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = filled(arena, r, t.offA() + (long) aRows * lda);
            MemorySegment b = filled(arena, r, t.offB() + (long) bRows * ldb);
            long cFloats = t.offC() + (long) t.m() * ldc;
            MemorySegment cBlas = filled(arena, r, cFloats);
            if (t.nanC()) {
                for (long i = 0; i < cFloats; i++) {
                    cBlas.setAtIndex(JAVA_FLOAT, i, Float.NaN);
                }
            }
            MemorySegment cRef = arena.allocate(cBlas.byteSize(), 64).copyFrom(cBlas);
            MemorySegment before = arena.allocate(cBlas.byteSize(), 64).copyFrom(cBlas);

            underTest.gemm(t.ta(), t.tb(), t.m(), t.n(), t.k(), t.alpha(), a, t.offA(), lda, b, t.offB(), ldb,
                    t.beta(), cBlas, t.offC(), ldc);
            ref.gemm(t.ta(), t.tb(), t.m(), t.n(), t.k(), t.alpha(), a, t.offA(), lda, b, t.offB(), ldb,
                    t.beta(), cRef, t.offC(), ldc);

            for (long idx = 0; idx < cFloats; idx++) {
                long rel = idx - t.offC();
                boolean addressed = rel >= 0 && rel / ldc < t.m() && rel % ldc < t.n();
                float got = cBlas.getAtIndex(JAVA_FLOAT, idx);
                if (!addressed) {
                    assertEquals(Float.floatToRawIntBits(before.getAtIndex(JAVA_FLOAT, idx)), Float.floatToRawIntBits(got),
                            () -> t + ": element outside the m x n block was written");
                    continue;
                }
                int i = (int) (rel / ldc);
                int j = (int) (rel % ldc);
                float want = cRef.getAtIndex(JAVA_FLOAT, idx);
                // Error bound from the Gemm contract: |c - ref| <= 2 * k * eps * |alpha| * sum_p |a_ip||b_pj|
                // (float accumulation of k products, versus the reference's double sum rounded once),
                // plus the rounding of beta * c and of the final result: eps * (|beta*c_old| + |ref|) + tiny.
                double absSum = 0;
                for (int p = 0; p < t.k(); p++) {
                    float aip = a.getAtIndex(JAVA_FLOAT, t.offA() + (t.ta() == Transpose.N ? (long) i * lda + p : (long) p * lda + i));
                    float bpj = b.getAtIndex(JAVA_FLOAT, t.offB() + (t.tb() == Transpose.N ? (long) p * ldb + j : (long) j * ldb + p));
                    absSum += Math.abs((double) aip * bpj);
                }
                double oldC = t.beta() == 0f ? 0 : Math.abs((double) t.beta() * before.getAtIndex(JAVA_FLOAT, idx));
                double tol = 2.0 * t.k() * EPS * Math.abs(t.alpha()) * absSum + EPS * (oldC + Math.abs(want)) + 1e-30;
                if (Float.isNaN(got) || Math.abs(got - want) > tol) {
                    fail(t + " seed " + seed + ": C[" + i + "," + j + "] = " + got + ", scalar " + want + ", tolerance " + tol);
                }
            }
        }
    }

    @Test
    void toleranceCatchesARealError() {
        // The bound must not be vacuous: dropping the last product of the k-sum (an off-by-one a kernel
        // could plausibly make) has to fail the comparison.
        Gemm shortK = (ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc) ->
                blas.gemm(ta, tb, m, n, k - 1, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        Case t = new Case(Transpose.N, Transpose.T, 17, 19, 23, 1f, 0f, 1, 0, 2, 0, 0, 0, false);
        assertThrows(AssertionFailedError.class, () -> check(shortK, t, 3L));
    }
}
