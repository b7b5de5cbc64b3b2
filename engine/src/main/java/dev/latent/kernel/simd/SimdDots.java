package dev.latent.kernel.simd;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * C = alpha A B^T + beta C for a few columns of C and a long k, A (m x k) and B (n x k) both
 * row-major: every C element is the dot product of two contiguous rows. This is the weight gradient
 * of a convolution with few outputs per pixel (dW = dY cols^T with K = C*3*3 = 9 columns, k = the
 * chunk's pixels), where the packed GEMM pads n = 9 to a register tile of 2 vectors (32 columns at 512
 * bits) and spends most of its FMAs on the padding (measured 14 GFLOP/s single-threaded at
 * 32 x 3136 x 9, against 76 for OpenBLAS).
 *
 * <p>Register block: 4 rows of A x 3 rows of B = 12 vector accumulators along k, 7 loads per 12 FMAs.
 * Edge blocks repeat the last row (its results are not written), so every block runs the same code.
 * Each element's order is fixed by k alone: lane l of the accumulator sums p = l, l + L, ... in order,
 * the lanes are then added in lane order, then the scalar tail p >= k - k % L in order; so the bits do
 * not depend on the threads or on the block an element falls in. The lane sum goes through a
 * per-thread array, never {@code reduceLanes}, whose order the Vector API leaves unspecified.
 */
final class SimdDots {

    private static final VectorSpecies<Float> F = SimdShape.FLOAT;
    private static final int L = SimdShape.LANES;
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[12 * L]);

    private SimdDots() {
    }

    /** Whether the dot path serves op(A) = A, op(B) = B^T of this shape (few columns, long k). */
    static boolean serves(boolean transA, boolean transB, int n, int k) {
        return !transA && transB && n <= L && k >= 8 * L;
    }

    static void nt(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda,
                   MemorySegment b, long bOff, int ldb, float beta, MemorySegment c, long cOff, int ldc) {
        float[] lanes = LANES.get();
        int kv = k - k % L;
        for (int i = 0; i < m; i += 4) {
            long a0 = (aOff + (long) i * lda) * Float.BYTES;
            long a1 = (aOff + (long) Math.min(i + 1, m - 1) * lda) * Float.BYTES;
            long a2 = (aOff + (long) Math.min(i + 2, m - 1) * lda) * Float.BYTES;
            long a3 = (aOff + (long) Math.min(i + 3, m - 1) * lda) * Float.BYTES;
            for (int j = 0; j < n; j += 3) {
                long b0 = (bOff + (long) j * ldb) * Float.BYTES;
                long b1 = (bOff + (long) Math.min(j + 1, n - 1) * ldb) * Float.BYTES;
                long b2 = (bOff + (long) Math.min(j + 2, n - 1) * ldb) * Float.BYTES;
                FloatVector c00 = FloatVector.zero(F);
                FloatVector c01 = FloatVector.zero(F);
                FloatVector c02 = FloatVector.zero(F);
                FloatVector c10 = FloatVector.zero(F);
                FloatVector c11 = FloatVector.zero(F);
                FloatVector c12 = FloatVector.zero(F);
                FloatVector c20 = FloatVector.zero(F);
                FloatVector c21 = FloatVector.zero(F);
                FloatVector c22 = FloatVector.zero(F);
                FloatVector c30 = FloatVector.zero(F);
                FloatVector c31 = FloatVector.zero(F);
                FloatVector c32 = FloatVector.zero(F);
                for (int p = 0; p < kv; p += L) {
                    long o = (long) p * Float.BYTES;
                    FloatVector v0 = FloatVector.fromMemorySegment(F, b, b0 + o, SimdShape.ORDER);
                    FloatVector v1 = FloatVector.fromMemorySegment(F, b, b1 + o, SimdShape.ORDER);
                    FloatVector v2 = FloatVector.fromMemorySegment(F, b, b2 + o, SimdShape.ORDER);
                    FloatVector u = FloatVector.fromMemorySegment(F, a, a0 + o, SimdShape.ORDER);
                    c00 = u.fma(v0, c00);
                    c01 = u.fma(v1, c01);
                    c02 = u.fma(v2, c02);
                    u = FloatVector.fromMemorySegment(F, a, a1 + o, SimdShape.ORDER);
                    c10 = u.fma(v0, c10);
                    c11 = u.fma(v1, c11);
                    c12 = u.fma(v2, c12);
                    u = FloatVector.fromMemorySegment(F, a, a2 + o, SimdShape.ORDER);
                    c20 = u.fma(v0, c20);
                    c21 = u.fma(v1, c21);
                    c22 = u.fma(v2, c22);
                    u = FloatVector.fromMemorySegment(F, a, a3 + o, SimdShape.ORDER);
                    c30 = u.fma(v0, c30);
                    c31 = u.fma(v1, c31);
                    c32 = u.fma(v2, c32);
                }
                c00.intoArray(lanes, 0);
                c01.intoArray(lanes, L);
                c02.intoArray(lanes, 2 * L);
                c10.intoArray(lanes, 3 * L);
                c11.intoArray(lanes, 4 * L);
                c12.intoArray(lanes, 5 * L);
                c20.intoArray(lanes, 6 * L);
                c21.intoArray(lanes, 7 * L);
                c22.intoArray(lanes, 8 * L);
                c30.intoArray(lanes, 9 * L);
                c31.intoArray(lanes, 10 * L);
                c32.intoArray(lanes, 11 * L);
                int rows = Math.min(4, m - i);
                int cols = Math.min(3, n - j);
                for (int r = 0; r < rows; r++) {
                    long ar = aOff + (long) (i + r) * lda;
                    for (int q = 0; q < cols; q++) {
                        int base = (3 * r + q) * L;
                        float s = lanes[base];
                        for (int l = 1; l < L; l++) {
                            s += lanes[base + l];
                        }
                        long br = bOff + (long) (j + q) * ldb;
                        for (int p = kv; p < k; p++) {
                            s = SimdShape.fma(a.getAtIndex(JAVA_FLOAT, ar + p), b.getAtIndex(JAVA_FLOAT, br + p), s);
                        }
                        long ci = cOff + (long) (i + r) * ldc + j + q;
                        float v = alpha * s;
                        c.setAtIndex(JAVA_FLOAT, ci, beta == 0f ? v : v + beta * c.getAtIndex(JAVA_FLOAT, ci));
                    }
                }
            }
        }
    }
}
