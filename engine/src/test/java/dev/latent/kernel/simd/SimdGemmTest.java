package dev.latent.kernel.simd;

import static dev.latent.kernel.simd.SimdTestSupport.EPS;
import static dev.latent.kernel.simd.SimdTestSupport.SCALAR;
import static dev.latent.kernel.simd.SimdTestSupport.SIMD;
import static dev.latent.kernel.simd.SimdTestSupport.SIZES;
import static dev.latent.kernel.simd.SimdTestSupport.floats;
import static dev.latent.kernel.simd.SimdTestSupport.random;
import static dev.latent.kernel.simd.SimdTestSupport.segment;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.latent.kernel.Transpose;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** SimdGemm against the scalar reference over edge-breaking shapes, transposes, strides and scalars. */
class SimdGemmTest {

    /** One GEMM problem: shape, transposes, leading-dimension padding, alpha, beta, offsets. */
    record Case(int m, int n, int k, Transpose ta, Transpose tb, int pad, float alpha, float beta, long seed) {
        @Override
        public String toString() {
            return m + "x" + n + "x" + k + " " + ta + tb + " pad" + pad + " a" + alpha + " b" + beta + " seed" + seed;
        }
    }

    static Stream<Case> cases() {
        List<Case> list = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(20261122L);
        float[] alphas = {1f, -0.5f, 2f, 0f};
        float[] betas = {0f, 1f, -0.75f};
        // Every size on each axis with the other two small or random, so the reference stays fast.
        for (int s : SIZES) {
            for (int axis = 0; axis < 3; axis++) {
                int[] d = {1 + r.nextInt(40), 1 + r.nextInt(40), 1 + r.nextInt(40)};
                d[axis] = s;
                list.add(randomCase(r, d[0], d[1], d[2], alphas, betas));
            }
        }
        // Random shapes, including ones that span several KC blocks and several MC x NC tiles.
        for (int i = 0; i < 24; i++) {
            list.add(randomCase(r, 1 + r.nextInt(150), 1 + r.nextInt(300), 1 + r.nextInt(600), alphas, betas));
        }
        list.add(randomCase(r, 130, 530, 520, alphas, betas));
        list.add(randomCase(r, 1, 1000, 784, alphas, betas));
        list.add(randomCase(r, 1, 517, 3, alphas, betas));
        list.add(randomCase(r, 0, 5, 5, alphas, betas));
        list.add(randomCase(r, 5, 0, 5, alphas, betas));
        list.add(randomCase(r, 5, 5, 0, alphas, betas));
        return list.stream();
    }

    private static Case randomCase(SplittableRandom r, int m, int n, int k, float[] alphas, float[] betas) {
        return new Case(m, n, k, r.nextBoolean() ? Transpose.N : Transpose.T, r.nextBoolean() ? Transpose.N : Transpose.T,
                r.nextInt(3) == 0 ? 0 : 1 + r.nextInt(17), alphas[r.nextInt(alphas.length)], betas[r.nextInt(betas.length)],
                r.nextLong());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesScalarReference(Case t) {
        SplittableRandom r = new SplittableRandom(t.seed());
        int aRows = t.ta() == Transpose.N ? t.m() : t.k();
        int aCols = t.ta() == Transpose.N ? t.k() : t.m();
        int bRows = t.tb() == Transpose.N ? t.k() : t.n();
        int bCols = t.tb() == Transpose.N ? t.n() : t.k();
        int lda = Math.max(1, aCols) + t.pad();
        int ldb = Math.max(1, bCols) + t.pad() / 2;
        int ldc = Math.max(1, t.n()) + t.pad();
        int aOff = r.nextInt(5);
        int bOff = r.nextInt(5);
        int cOff = r.nextInt(5);
        float[] a = random(r, aOff + aRows * lda, -1, 1);
        float[] b = random(r, bOff + bRows * ldb, -1, 1);
        float[] c0 = random(r, cOff + t.m() * ldc, -1, 1);
        if (t.beta() == 0f) {
            // beta == 0: old C must never be read, so NaN and infinity must not reach the result.
            for (int i = 0; i < c0.length; i++) {
                c0[i] = i % 2 == 0 ? Float.NaN : Float.POSITIVE_INFINITY;
            }
        }
        MemorySegment cs = segment(c0);
        MemorySegment cr = segment(c0);
        SIMD.gemm().gemm(t.ta(), t.tb(), t.m(), t.n(), t.k(), t.alpha(), segment(a), aOff, lda, segment(b), bOff, ldb,
                t.beta(), cs, cOff, ldc);
        SCALAR.gemm().gemm(t.ta(), t.tb(), t.m(), t.n(), t.k(), t.alpha(), segment(a), aOff, lda, segment(b), bOff, ldb,
                t.beta(), cr, cOff, ldc);
        // The error scale: |alpha| sum_p |a_ip| |b_pj| + |beta c_ij|, from the reference on |A|, |B|.
        float[] absA = abs(a);
        float[] absB = abs(b);
        MemorySegment scale = segment(t.beta() == 0f ? new float[c0.length] : abs(c0));
        SCALAR.gemm().gemm(t.ta(), t.tb(), t.m(), t.n(), t.k(), Math.abs(t.alpha()), segment(absA), aOff, lda,
                segment(absB), bOff, ldb, Math.abs(t.beta()), scale, cOff, ldc);
        float[] got = floats(cs);
        float[] want = floats(cr);
        float[] bound = floats(scale);
        for (int i = 0; i < got.length; i++) {
            int row = (i - cOff) / ldc;
            int col = (i - cOff) % ldc;
            boolean inside = i >= cOff && row < t.m() && col < t.n();
            if (!inside) {
                assertEquals(Float.floatToRawIntBits(c0[i]), Float.floatToRawIntBits(got[i]),
                        "element " + i + " outside C was written, " + t);
                continue;
            }
            // Float accumulation over k terms plus the alpha/beta update: |err| <= 2 (k + 2) eps * scale.
            double tol = 2.0 * (t.k() + 2) * EPS * bound[i] + 1e-30;
            if (!(Math.abs(got[i] - want[i]) <= tol)) {
                fail("C[" + row + "," + col + "] = " + got[i] + ", reference " + want[i] + ", tolerance " + tol + ", " + t);
            }
        }
    }

    @Test
    void parallelAndSerialRunsGiveTheSameBits() {
        // A confined arena cannot be touched by the pool's workers, so that call runs on this thread
        // alone; the shared one is split into tiles across threads. The bits must not differ.
        SplittableRandom r = new SplittableRandom(7);
        int m = 301;
        int n = 419;
        int k = 533;
        float[] a = random(r, m * k, -1, 1);
        float[] b = random(r, k * n, -1, 1);
        float[] c = random(r, m * n, -1, 1);
        MemorySegment cs = segment(c);
        SIMD.gemm().gemm(Transpose.N, Transpose.T, m, n, k, 1.5f, segment(a), 0, k, segment(b), 0, k, 0.5f, cs, 0, n);
        float[] parallel = floats(cs);
        MemorySegment again = segment(c);
        SIMD.gemm().gemm(Transpose.N, Transpose.T, m, n, k, 1.5f, segment(a), 0, k, segment(b), 0, k, 0.5f, again, 0, n);
        assertArrayEquals(parallel, floats(again), "second call differs");
        try (Arena confined = Arena.ofConfined()) {
            MemorySegment ca = confined.allocateFrom(java.lang.foreign.ValueLayout.JAVA_FLOAT, a);
            MemorySegment cb = confined.allocateFrom(java.lang.foreign.ValueLayout.JAVA_FLOAT, b);
            MemorySegment cc = confined.allocateFrom(java.lang.foreign.ValueLayout.JAVA_FLOAT, c);
            SIMD.gemm().gemm(Transpose.N, Transpose.T, m, n, k, 1.5f, ca, 0, k, cb, 0, k, 0.5f, cc, 0, n);
            assertArrayEquals(parallel, floats(cc), "serial run differs from parallel run");
        }
    }

    @Test
    void rejectsOutOfBoundsOperands() {
        MemorySegment small = segment(new float[10]);
        MemorySegment big = segment(new float[100]);
        assertThrows(IllegalArgumentException.class, () -> SIMD.gemm().gemm(Transpose.N, Transpose.N, 4, 4, 4, 1f,
                small, 0, 4, big, 0, 4, 0f, big, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> SIMD.gemm().gemm(Transpose.N, Transpose.N, 4, 4, 4, 1f,
                big, 0, 3, big, 0, 4, 0f, big, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> SIMD.gemm().gemm(Transpose.N, Transpose.N, -1, 4, 4, 1f,
                big, 0, 4, big, 0, 4, 0f, big, 0, 4));
    }

    private static float[] abs(float[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Math.abs(v[i]);
        }
        return out;
    }
}
