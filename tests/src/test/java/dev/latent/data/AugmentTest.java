package dev.latent.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.latent.prop.Prop;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The augmentation kernels ({@link Augment}) against scalar references written independently here
 * (double arrays, the warp as an explicit 2x2 matrix inverse, bilinear interpolation as a weighted
 * sum of the four neighbours), and their properties: identity parameters copy exactly, integer shifts
 * move pixels exactly, rotating by theta then by -theta about the centre returns the interior, contrast
 * with gain 1 and bias 0 is the identity and keeps the mean when nothing clips, a zero elastic field
 * copies, and a policy gives the same bits for the same seed. Float tolerance 1e-5 (outputs are
 * float casts of double sums of four terms in [0, 1]).
 */
class AugmentTest {

    static LongStream seeds() {
        return LongStream.range(0, Prop.count(20)).map(i -> Prop.seed("augment", (int) i));
    }

    /** Reference bilinear sample of img (h x w) at (py, px), zero outside. */
    static double refSample(double[] img, int h, int w, double py, double px) {
        double v = 0;
        int y0 = (int) Math.floor(py);
        int x0 = (int) Math.floor(px);
        for (int dy = 0; dy <= 1; dy++) {
            for (int dx = 0; dx <= 1; dx++) {
                int y = y0 + dy;
                int x = x0 + dx;
                double wgt = (1 - Math.abs(py - y)) * (1 - Math.abs(px - x));
                if (y >= 0 && x >= 0 && y < h && x < w) {
                    v += wgt * img[y * w + x];
                }
            }
        }
        return v;
    }

    /**
     * Reference warp: the forward map q = c + s R(theta) (p - c) + t, inverted with the explicit inverse
     * of the 2x2 matrix A = s R(theta) (rows y, x), then sampled.
     */
    static double[] refAffine(double[] img, int h, int w, double theta, double s, double ty, double tx) {
        double a = s * Math.cos(theta);
        double b = -s * Math.sin(theta);
        double c = s * Math.sin(theta);
        double d = s * Math.cos(theta);
        // A maps (dy, dx) to (a dy + b dx, c dy + d dx); screen rotation of (row, col) by theta
        double det = a * d - b * c;
        double cy = (h - 1) / 2.0;
        double cx = (w - 1) / 2.0;
        double[] out = new double[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double qy = y - cy - ty;
                double qx = x - cx - tx;
                double py = (d * qy - b * qx) / det + cy;
                double px = (-c * qy + a * qx) / det + cx;
                out[y * w + x] = refSample(img, h, w, py, px);
            }
        }
        return out;
    }

    static double[] randomImage(SplittableRandom r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextDouble();
        }
        return v;
    }

    static double mean(float[] v) {
        double s = 0;
        for (float f : v) {
            s += f;
        }
        return s / v.length;
    }

    static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void affineEqualsReference(long seed) {
        SplittableRandom r = Prop.data(seed);
        int h = 1 + r.nextInt(20);
        int w = 1 + r.nextInt(20);
        double[] img = randomImage(r, h * w);
        double theta = r.nextDouble(-1, 1);
        double s = r.nextDouble(0.5, 1.5);
        double ty = r.nextDouble(-4, 4);
        double tx = r.nextDouble(-4, 4);
        try (Workspace ws = new Workspace("augment-test")) {
            Tensor src = ws.of(floats(img), 1, h * w);
            Tensor dst = ws.allocate(1, h * w);
            Augment.affine(src, 0, dst, 0, 1, h, w, theta, s, ty, tx);
            double[] ref = refAffine(img, h, w, theta, s, ty, tx);
            for (int i = 0; i < ref.length; i++) {
                assertEquals(ref[i], dst.get(i), 1e-5, "seed " + seed + ": pixel " + i + " of " + h + "x" + w + " theta=" + theta
                        + " s=" + s + " t=(" + ty + ", " + tx + ")");
            }
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void identityCopiesAndIntegerShiftsMoveExactly(long seed) {
        SplittableRandom r = Prop.data(seed);
        int c = 1 + r.nextInt(3);
        int h = 2 + r.nextInt(15);
        int w = 2 + r.nextInt(15);
        float[] img = floats(randomImage(r, c * h * w));
        int sy = r.nextInt(-3, 4);
        int sx = r.nextInt(-3, 4);
        try (Workspace ws = new Workspace("augment-test")) {
            Tensor src = ws.of(img, 1, c * h * w);
            Tensor dst = ws.allocate(1, c * h * w);
            Augment.affine(src, 0, dst, 0, c, h, w, 0, 1, 0, 0);
            assertArrayEquals(img, dst.toArray(), "seed " + seed + ": identity");
            Augment.affine(src, 0, dst, 0, c, h, w, 0, 1, sy, sx);
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int fy = y - sy;
                        int fx = x - sx;
                        float want = fy < 0 || fx < 0 || fy >= h || fx >= w ? 0f : img[ch * h * w + fy * w + fx];
                        assertEquals(want, dst.get(ch * h * w + y * w + x), 0f, "seed " + seed + ": shift (" + sy + ", " + sx + ")");
                    }
                }
            }
            Augment.contrast(dst, 0, c, h, w, 1, 0);
            Tensor again = ws.allocate(1, c * h * w);
            Augment.affine(src, 0, again, 0, c, h, w, 0, 1, sy, sx);
            float[] a = dst.toArray();
            float[] b = again.toArray();
            for (int i = 0; i < a.length; i++) {
                assertEquals(b[i], a[i], 1e-6f, "seed " + seed + ": contrast gain 1 bias 0 changed pixel " + i);
            }
            // a zero elastic field copies
            Augment.elastic(src, 0, again, 0, c, h, w, new float[h * w], new float[h * w]);
            assertArrayEquals(img, again.toArray(), "seed " + seed + ": zero displacement");
        }
    }

    /** Rotating a smooth blob by theta and back keeps it to within interpolation error (two bilinear passes). */
    @Test
    void rotationThenInverseRestoresTheCentre() {
        int h = 28;
        float[] img = new float[h * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < h; x++) {
                img[y * h + x] = (float) Math.exp(-((y - 12.0) * (y - 12.0) + (x - 15.0) * (x - 15.0)) / 18.0);
            }
        }
        try (Workspace ws = new Workspace("augment-test")) {
            Tensor src = ws.of(img, 1, h * h);
            Tensor mid = ws.allocate(1, h * h);
            Tensor back = ws.allocate(1, h * h);
            Augment.affine(src, 0, mid, 0, 1, h, h, 0.4, 1, 0, 0);
            Augment.affine(mid, 0, back, 0, 1, h, h, -0.4, 1, 0, 0);
            double err = 0;
            for (int i = 0; i < img.length; i++) {
                err = Math.max(err, Math.abs(img[i] - back.get(i)));
            }
            // bilinear interpolation errs by at most (1/8)(|f_yy| + |f_xx|) per pass; for this blob that is
            // (1/8)(2/9) = 0.028, so two passes stay within 0.056 (measured 0.045)
            assertEquals(0, err, 0.056, "round trip error " + err);
            // and the rotated blob's centre of mass turned by 0.4 rad about the image centre
            double my = 0;
            double mx = 0;
            double m = 0;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < h; x++) {
                    double v = mid.get(y * h + x);
                    my += v * y;
                    mx += v * x;
                    m += v;
                }
            }
            double c = 13.5;
            double ey = c + Math.cos(0.4) * (12 - c) - Math.sin(0.4) * (15 - c);
            double ex = c + Math.sin(0.4) * (12 - c) + Math.cos(0.4) * (15 - c);
            assertEquals(ey, my / m, 0.05);
            assertEquals(ex, mx / m, 0.05);
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void contrastEqualsReferenceAndKeepsTheMeanWithoutClipping(long seed) {
        SplittableRandom r = Prop.data(seed);
        int h = 1 + r.nextInt(10);
        int w = 1 + r.nextInt(10);
        double[] img = randomImage(r, h * w);
        double gain = r.nextDouble(0.3, 2);
        double bias = r.nextDouble(-0.2, 0.2);
        double mean = Arrays.stream(img).average().orElseThrow();
        try (Workspace ws = new Workspace("augment-test")) {
            Tensor t = ws.of(floats(img), 1, h * w);
            Augment.contrast(t, 0, 1, h, w, gain, bias);
            for (int i = 0; i < img.length; i++) {
                double want = Math.min(1, Math.max(0, (img[i] - mean) * gain + mean + bias));
                assertEquals(want, t.get(i), 1e-6, "seed " + seed + ": pixel " + i);
            }
            // squeezed into the middle (gain < 1, no bias), nothing clips: the mean stays
            double[] mid = Arrays.stream(img).map(v -> 0.25 + 0.5 * v).toArray();
            Tensor m = ws.of(floats(mid), 1, h * w);
            Augment.contrast(m, 0, 1, h, w, 0.5, 0);
            double after = mean(m.toArray());
            assertEquals(mean(floats(mid)), after, 1e-6, "seed " + seed);
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void elasticEqualsReferenceAndCropCopiesTheWindow(long seed) {
        SplittableRandom r = Prop.data(seed);
        int h = 4 + r.nextInt(16);
        int w = 4 + r.nextInt(16);
        double[] img = randomImage(r, h * w);
        float[] dy = Augment.displacement(h, w, 20.0, 1.5, new SplittableRandom(seed));
        float[] dx = Augment.displacement(h, w, 20.0, 1.5, new SplittableRandom(~seed));
        assertArrayEquals(dy, Augment.displacement(h, w, 20.0, 1.5, new SplittableRandom(seed)), "same seed, same field");
        try (Workspace ws = new Workspace("augment-test")) {
            Tensor src = ws.of(floats(img), 1, h * w);
            Tensor dst = ws.allocate(1, h * w);
            Augment.elastic(src, 0, dst, 0, 1, h, w, dy, dx);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int p = y * w + x;
                    assertEquals(refSample(img, h, w, y + dy[p], x + dx[p]), dst.get(p), 1e-5, "seed " + seed + ": pixel " + p);
                }
            }
            int ph = 1 + r.nextInt(h);
            int pw = 1 + r.nextInt(w);
            int y0 = r.nextInt(h - ph + 1);
            int x0 = r.nextInt(w - pw + 1);
            Tensor patch = ws.allocate(2, ph * pw);
            Augment.crop(src, 0, 1, h, w, y0, x0, patch, 1, ph, pw);
            for (int y = 0; y < ph; y++) {
                for (int x = 0; x < pw; x++) {
                    assertEquals((float) img[(y0 + y) * w + x0 + x], patch.get(ph * pw + y * pw + x), 0f, "seed " + seed);
                }
            }
            assertThrows(IllegalArgumentException.class, () -> Augment.crop(src, 0, 1, h, w, h - ph + 1, 0, patch, 0, ph, pw));
        }
    }

    /** A policy draws its parameters from the generator only: the same seed gives the same bits, another seed others. */
    @Test
    void policyIsReproducible() {
        Augment.Policy p = Augment.Policy.digits(3, 15, 0.15).withElastic(34, 4);
        SplittableRandom r = new SplittableRandom(11);
        float[] imgs = floats(randomImage(r, 5 * 784));
        try (Workspace ws = new Workspace("augment-test")) {
            Tensor src = ws.of(imgs, 5, 784);
            Tensor a = ws.allocate(3, 784);
            Tensor b = ws.allocate(3, 784);
            int[] from = {4, 0, 2};
            float[] scratch = new float[784];
            p.apply(src, from, a, 1, 28, 28, new SplittableRandom(42), scratch);
            p.apply(src, from, b, 1, 28, 28, new SplittableRandom(42), scratch);
            assertArrayEquals(a.toArray(), b.toArray());
            p.apply(src, from, b, 1, 28, 28, new SplittableRandom(43), scratch);
            assertFalse(Arrays.equals(a.toArray(), b.toArray()), "another seed, the same augmentation");
            Augment.Policy.NONE.apply(src, from, b, 1, 28, 28, new SplittableRandom(1), scratch);
            assertArrayEquals(src.row(4).toArray(), b.row(0).toArray(), "NONE copies");
            assertThrows(IllegalArgumentException.class, () -> new Augment.Policy(0, 2, 1, 0, 1, 0, 0, 1));
        }
    }
}
