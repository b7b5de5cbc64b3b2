package dev.latent.kernel.simd;

import static dev.latent.kernel.simd.SimdTestSupport.SCALAR;
import static dev.latent.kernel.simd.SimdTestSupport.SIMD;
import static dev.latent.kernel.simd.SimdTestSupport.SIZES;
import static dev.latent.kernel.simd.SimdTestSupport.floats;
import static dev.latent.kernel.simd.SimdTestSupport.random;
import static dev.latent.kernel.simd.SimdTestSupport.segment;
import static dev.latent.kernel.simd.SimdTestSupport.ulps;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.latent.kernel.Activation;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Activations, softmax and im2col against the scalar (double-precision) reference. */
class SimdActivationsTest {

    private static final List<Activation> ALL = List.of(Activation.SIGMOID, Activation.TANH, Activation.RELU,
            Activation.leakyRelu(0.2f), Activation.SOFTPLUS, Activation.IDENTITY);

    /** Forward: transcendental kinds within 4 ulps of the double formula (+ 1e-7 absolute near 0), others exact. */
    @Test
    void forwardWithinDocumentedUlps() {
        SplittableRandom r = new SplittableRandom(42);
        for (Activation f : ALL) {
            double worst = 0;
            for (int n : SIZES) {
                float[] z = random(r, n, -20, 20);
                z[0] = n % 2 == 0 ? 95f : -95f; // e^-z overflows float: sigmoid / softplus must stay finite
                MemorySegment a1 = segment(new float[n]);
                MemorySegment a2 = segment(new float[n]);
                SIMD.activations().forward(f, n, segment(z), 0, a1, 0);
                SCALAR.activations().forward(f, n, segment(z), 0, a2, 0);
                float[] got = floats(a1);
                float[] want = floats(a2);
                for (int i = 0; i < n; i++) {
                    assertTrue(Float.isFinite(got[i]), f + "(" + z[i] + ") = " + got[i]);
                    if (Math.abs(got[i] - want[i]) <= 1e-7) {
                        continue;
                    }
                    double u = ulps(got[i], want[i]);
                    worst = Math.max(worst, u);
                    if (u > 4) {
                        fail(f + "(" + z[i] + ") = " + got[i] + ", reference " + want[i] + ": " + u + " ulps");
                    }
                }
            }
            if (f.kind() == Activation.Kind.RELU || f.kind() == Activation.Kind.LEAKY_RELU
                    || f.kind() == Activation.Kind.IDENTITY) {
                assertEquals(0, worst, f + " must be exact");
            }
        }
    }

    /** Backward: a few float roundings where the reference rounds once: within 4 ulps (+ 1e-7 absolute). */
    @Test
    void backwardWithinFewUlpsAndInPlace() {
        SplittableRandom r = new SplittableRandom(43);
        for (Activation f : ALL) {
            for (int n : SIZES) {
                float[] z = random(r, n, -6, 6);
                float[] a = new float[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (float) (f.kind() == Activation.Kind.TANH ? Math.tanh(z[i]) : 1 / (1 + Math.exp(-z[i])));
                }
                float[] da = random(r, n, -1, 1);
                MemorySegment d1 = segment(da); // in place: dz aliases da
                MemorySegment d2 = segment(new float[n]);
                SIMD.activations().backward(f, n, segment(z), 0, segment(a), 0, d1, 0, d1, 0);
                SCALAR.activations().backward(f, n, segment(z), 0, segment(a), 0, segment(da), 0, d2, 0);
                float[] got = floats(d1);
                float[] want = floats(d2);
                for (int i = 0; i < n; i++) {
                    if (Math.abs(got[i] - want[i]) > 1e-7 && ulps(got[i], want[i]) > 4) {
                        fail(f + "' at z=" + z[i] + ": " + got[i] + " vs " + want[i]);
                    }
                }
            }
        }
    }

    /** Softmax rows sum to 1 within float error; each entry within 8 ulps or 1e-7 of the double reference. */
    @Test
    void softmaxAndLogSoftmaxStable() {
        SplittableRandom r = new SplittableRandom(44);
        for (int cols : SIZES) {
            int rows = 1 + r.nextInt(5);
            int ld = cols + r.nextInt(3);
            float[] x = random(r, rows * ld, -30, 30);
            x[0] = 1e30f; // huge logits stay finite after the max shift
            for (boolean log : new boolean[] {false, true}) {
                MemorySegment y1 = segment(x); // in place
                MemorySegment y2 = segment(new float[rows * ld]);
                if (log) {
                    SIMD.softmax().logSoftmax(rows, cols, y1, 0, ld, y1, 0, ld);
                    SCALAR.softmax().logSoftmax(rows, cols, segment(x), 0, ld, y2, 0, ld);
                } else {
                    SIMD.softmax().softmax(rows, cols, y1, 0, ld, y1, 0, ld);
                    SCALAR.softmax().softmax(rows, cols, segment(x), 0, ld, y2, 0, ld);
                }
                float[] got = floats(y1);
                float[] want = floats(y2);
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < cols; j++) {
                        float g = got[i * ld + j];
                        float w = want[i * ld + j];
                        // log: error of (x - max) - logSum is 2 roundings of values up to |x - max|.
                        double tol = log ? 4 * Math.ulp(Math.abs(w) + 60f) : Math.max(1e-7, 8 * Math.ulp(w));
                        if (!(Math.abs(g - w) <= tol)) {
                            fail((log ? "log" : "") + "softmax cols=" + cols + " [" + i + "," + j + "] " + g + " vs " + w);
                        }
                    }
                }
            }
        }
    }

    /** im2col / col2im equal the reference bit for bit (col2im keeps its per-pixel summation order). */
    @Test
    void im2colAndCol2imExact() {
        SplittableRandom r = new SplittableRandom(45);
        int[][] geoms = {
            {1, 5, 5, 3, 3, 1, 1, 0, 0}, {3, 28, 28, 5, 5, 1, 1, 2, 2}, {2, 13, 17, 3, 4, 2, 3, 1, 2},
            {4, 8, 8, 4, 4, 2, 2, 1, 1}, {1, 7, 31, 7, 1, 1, 1, 3, 0}, {2, 3, 3, 5, 5, 1, 1, 2, 2},
            {3, 65, 65, 3, 3, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1, 0, 0}, {1, 4, 4, 1, 1, 3, 3, 2, 2},
        };
        for (int[] gg : geoms) {
            var g = new dev.latent.kernel.ConvGeometry(gg[0], gg[1], gg[2], gg[3], gg[4], gg[5], gg[6], gg[7], gg[8]);
            int colsLen = g.colRows() * g.colCols();
            float[] img = random(r, g.imageSize(), -1, 1);
            MemorySegment c1 = segment(SimdTestSupport.filled(colsLen, Float.NaN));
            MemorySegment c2 = segment(new float[colsLen]);
            SIMD.im2col().im2col(g, segment(img), 0, c1, 0);
            SCALAR.im2col().im2col(g, segment(img), 0, c2, 0);
            assertArrayEquals(floats(c2), floats(c1), "im2col " + g);
            float[] cols = random(r, colsLen, -1, 1);
            float[] base = random(r, g.imageSize(), -1, 1);
            MemorySegment i1 = segment(base);
            MemorySegment i2 = segment(base);
            SIMD.im2col().col2im(g, segment(cols), 0, i1, 0);
            SCALAR.im2col().col2im(g, segment(cols), 0, i2, 0);
            assertArrayEquals(floats(i2), floats(i1), "col2im " + g);
        }
    }
}
