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
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Elementwise and reduction kernels against the scalar reference; everything but sums is bit-exact. */
class SimdElementwiseTest {

    static IntStream sizes() {
        return IntStream.concat(IntStream.of(0), IntStream.concat(IntStream.of(SIZES),
                new SplittableRandom(11).ints(6, 1, 5000)));
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("sizes")
    void levelOneMatchesBitForBit(int n) {
        SplittableRandom r = new SplittableRandom(1000 + n);
        int off = r.nextInt(4);
        float[] x = random(r, off + n + 3, -2, 2);
        float[] y = random(r, off + n + 3, -2, 2);
        MemorySegment xs = segment(x);

        MemorySegment y1 = segment(y);
        MemorySegment y2 = segment(y);
        SIMD.elementwise().axpy(n, 0.37f, xs, off, y1, off);
        SCALAR.elementwise().axpy(n, 0.37f, xs, off, y2, off);
        assertArrayEquals(floats(y2), floats(y1), "axpy");

        y1 = segment(y);
        y2 = segment(y);
        SIMD.elementwise().scale(n, -1.7f, y1, off);
        SCALAR.elementwise().scale(n, -1.7f, y2, off);
        assertArrayEquals(floats(y2), floats(y1), "scale");

        y1 = segment(y);
        y2 = segment(y);
        SIMD.elementwise().fill(n, 3.5f, y1, off);
        SCALAR.elementwise().fill(n, 3.5f, y2, off);
        assertArrayEquals(floats(y2), floats(y1), "fill");

        y1 = segment(y);
        y2 = segment(y);
        SIMD.elementwise().mul(n, xs, off, y1, off, y1, off);
        SCALAR.elementwise().mul(n, xs, off, y2, off, y2, off);
        assertArrayEquals(floats(y2), floats(y1), "mul in place");

        y1 = segment(y);
        SIMD.elementwise().copy(n, y1, off, y1, off + 1); // overlapping: memmove semantics
        float[] want = y.clone();
        System.arraycopy(y, off, want, off + 1, n);
        assertArrayEquals(want, floats(y1), "overlapping copy");

        // dot: float accumulation in a different order; |err| <= 2 n eps sum |x y|.
        double ref = 0;
        double mag = 0;
        for (int i = 0; i < n; i++) {
            ref += (double) x[off + i] * y[off + i];
            mag += Math.abs((double) x[off + i] * y[off + i]);
        }
        float got = SIMD.elementwise().dot(n, xs, off, segment(y), off);
        assertTrue(Math.abs(got - ref) <= 2.0 * n * EPS * mag + 1e-30, "dot " + got + " vs " + ref);
    }

    @Test
    void addBiasMatchesBitForBit() {
        SplittableRandom r = new SplittableRandom(5);
        for (int cols : SIZES) {
            int rows = 1 + r.nextInt(9);
            int ldc = cols + r.nextInt(5);
            float[] c = random(r, rows * ldc, -1, 1);
            float[] bias = random(r, cols, -1, 1);
            MemorySegment c1 = segment(c);
            MemorySegment c2 = segment(c);
            SIMD.elementwise().addBias(rows, cols, segment(bias), 0, c1, 0, ldc);
            SCALAR.elementwise().addBias(rows, cols, segment(bias), 0, c2, 0, ldc);
            assertArrayEquals(floats(c2), floats(c1), "addBias cols=" + cols);
        }
    }

    @Test
    void reductionsWithinFloatAccumulationError() {
        SplittableRandom r = new SplittableRandom(6);
        for (int cols : SIZES) {
            for (float beta : new float[] {0f, 1f, 0.5f}) {
                int rows = 1 + r.nextInt(70);
                int ldx = cols + r.nextInt(4);
                float[] x = random(r, rows * ldx, -1, 1);
                float[] rowOut = beta == 0f ? SimdTestSupport.filled(rows, Float.NaN) : random(r, rows, -1, 1);
                float[] colOut = beta == 0f ? SimdTestSupport.filled(cols, Float.NaN) : random(r, cols, -1, 1);
                MemorySegment r1 = segment(rowOut);
                MemorySegment r2 = segment(rowOut);
                SIMD.reductions().rowSums(rows, cols, segment(x), 0, ldx, beta, r1, 0);
                SCALAR.reductions().rowSums(rows, cols, segment(x), 0, ldx, beta, r2, 0);
                float[] got = floats(r1);
                float[] want = floats(r2);
                for (int i = 0; i < rows; i++) {
                    // |err| <= 2 (cols + 1) eps (sum |x| + |beta out|); every |x| <= 1.
                    double tol = 2.0 * (cols + 1) * EPS * (cols + (beta == 0f ? 0 : Math.abs(beta * rowOut[i])));
                    assertEquals(want[i], got[i], tol, "rowSums cols=" + cols + " beta=" + beta);
                }
                MemorySegment c1 = segment(colOut);
                MemorySegment c2 = segment(colOut);
                SIMD.reductions().colSums(rows, cols, segment(x), 0, ldx, beta, c1, 0);
                SCALAR.reductions().colSums(rows, cols, segment(x), 0, ldx, beta, c2, 0);
                got = floats(c1);
                want = floats(c2);
                for (int j = 0; j < cols; j++) {
                    double tol = 2.0 * (rows + 1) * EPS * (rows + (beta == 0f ? 0 : Math.abs(beta * colOut[j])));
                    assertEquals(want[j], got[j], tol, "colSums cols=" + cols + " beta=" + beta);
                }
            }
        }
    }

    @Test
    void rejectsRunsOutsideTheSegment() {
        MemorySegment s = segment(new float[8]);
        assertThrows(IllegalArgumentException.class, () -> SIMD.elementwise().axpy(9, 1f, s, 0, s, 0));
        assertThrows(IllegalArgumentException.class, () -> SIMD.elementwise().fill(4, 1f, s, 5));
        assertThrows(IllegalArgumentException.class, () -> SIMD.elementwise().dot(-1, s, 0, s, 0));
        assertThrows(IllegalArgumentException.class, () -> SIMD.reductions().colSums(3, 3, s, 0, 3, 0f, s, 0));
    }
}
