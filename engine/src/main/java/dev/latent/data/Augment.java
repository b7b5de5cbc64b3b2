package dev.latent.data;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * Image augmentation kernels for the self-supervised learners: each maps one image (C, H, W), a row of
 * a batch, to another of the same shape, with its parameters given explicitly (so a test can compare it
 * with a reference), and {@link Policy#apply} draws the parameters of every image of a batch from a
 * seeded generator (same seed, same bits). Pixels are floats, nominally in [0, 1]; samples outside the
 * source image read 0 (the background of digits).
 *
 * <ul>
 *   <li>{@link #affine}: out(y, x) = bilinear sample of src at the inverse-mapped point
 *       p = c + R(-theta) (q - c - t) / s, q = (y, x), c = ((H-1)/2, (W-1)/2), shift t = (ty, tx) in
 *       pixels, rotation theta (radians, counter-clockwise on screen), scale s &gt; 0. Random crops and
 *       shifts are the case theta = 0, s = 1; crop-and-resize is s &gt; 1 plus a shift.</li>
 *   <li>{@link #contrast}: out = clamp((v - mean) * gain + mean + bias, 0, 1) per channel, mean over the
 *       channel's pixels.</li>
 *   <li>{@link #elastic}: Simard et al. 2003: a displacement field of uniform(-1, 1) values smoothed by
 *       a normalized Gaussian of {@code sigma} pixels, scaled by {@code alpha}, then out(q) = bilinear src(q + d(q)).</li>
 *   <li>{@link #crop}: copies the (C, ph, pw) window at (y0, x0) of an image (inside it).</li>
 * </ul>
 */
public final class Augment {

    private Augment() {
    }

    /** Bilinear sample of channel plane {@code base} (H x W floats) at (py, px); outside reads 0. */
    static float bilinear(MemorySegment s, long base, int h, int w, double py, double px) {
        int y0 = (int) Math.floor(py);
        int x0 = (int) Math.floor(px);
        double fy = py - y0;
        double fx = px - x0;
        double v = 0;
        v += (1 - fy) * (1 - fx) * at(s, base, h, w, y0, x0);
        v += (1 - fy) * fx * at(s, base, h, w, y0, x0 + 1);
        v += fy * (1 - fx) * at(s, base, h, w, y0 + 1, x0);
        v += fy * fx * at(s, base, h, w, y0 + 1, x0 + 1);
        return (float) v;
    }

    private static float at(MemorySegment s, long base, int h, int w, int y, int x) {
        return y < 0 || x < 0 || y >= h || x >= w ? 0f : s.getAtIndex(JAVA_FLOAT, base + (long) y * w + x);
    }

    /**
     * Affine warp of image {@code i} of src (N, C*H*W) into image {@code j} of dst (same row size):
     * rotation theta (radians), scale s, shift (ty, tx) pixels, about the image centre; see the class
     * documentation. src and dst must not be the same row.
     */
    public static void affine(Tensor src, int i, Tensor dst, int j, int c, int h, int w, double theta, double scale, double ty,
                              double tx) {
        requireRow(src, i, c, h, w, "source");
        requireRow(dst, j, c, h, w, "destination");
        if (!(scale > 0) || !Double.isFinite(theta) || !Double.isFinite(ty) || !Double.isFinite(tx)) {
            throw new IllegalArgumentException("affine: need a finite rotation and shift and a scale > 0, got theta=" + theta
                    + " scale=" + scale + " shift=(" + ty + ", " + tx + ")");
        }
        double cy = (h - 1) / 2.0;
        double cx = (w - 1) / 2.0;
        double cos = Math.cos(theta) / scale;
        double sin = Math.sin(theta) / scale;
        MemorySegment s = src.segment();
        MemorySegment d = dst.segment();
        int plane = h * w;
        for (int ch = 0; ch < c; ch++) {
            long sb = src.offset() + (long) i * c * plane + (long) ch * plane;
            long db = dst.offset() + (long) j * c * plane + (long) ch * plane;
            for (int y = 0; y < h; y++) {
                double qy = y - cy - ty;
                for (int x = 0; x < w; x++) {
                    double qx = x - cx - tx;
                    // R(-theta) (qy, qx) / s, with (row, column) axes
                    double py = cy + cos * qy + sin * qx;
                    double px = cx - sin * qy + cos * qx;
                    d.setAtIndex(JAVA_FLOAT, db + (long) y * w + x, bilinear(s, sb, h, w, py, px));
                }
            }
        }
    }

    /** Contrast and brightness of image {@code j} of t (N, C*H*W), in place; see the class documentation. */
    public static void contrast(Tensor t, int j, int c, int h, int w, double gain, double bias) {
        requireRow(t, j, c, h, w, "image");
        MemorySegment s = t.segment();
        int plane = h * w;
        for (int ch = 0; ch < c; ch++) {
            long b = t.offset() + (long) j * c * plane + (long) ch * plane;
            double mean = 0;
            for (int p = 0; p < plane; p++) {
                mean += s.getAtIndex(JAVA_FLOAT, b + p);
            }
            mean /= plane;
            for (int p = 0; p < plane; p++) {
                double v = (s.getAtIndex(JAVA_FLOAT, b + p) - mean) * gain + mean + bias;
                s.setAtIndex(JAVA_FLOAT, b + p, (float) Math.min(1, Math.max(0, v)));
            }
        }
    }

    /**
     * Elastic distortion of image {@code i} of src into image {@code j} of dst with displacement fields
     * dy, dx (H*W each, already smoothed and scaled: {@link #displacement}); out(q) = bilinear src(q + d(q)).
     */
    public static void elastic(Tensor src, int i, Tensor dst, int j, int c, int h, int w, float[] dy, float[] dx) {
        requireRow(src, i, c, h, w, "source");
        requireRow(dst, j, c, h, w, "destination");
        if (dy.length != h * w || dx.length != h * w) {
            throw new IllegalArgumentException("elastic: displacement fields of " + h * w + " values expected, got " + dy.length
                    + " and " + dx.length);
        }
        int plane = h * w;
        for (int ch = 0; ch < c; ch++) {
            long sb = src.offset() + (long) i * c * plane + (long) ch * plane;
            long db = dst.offset() + (long) j * c * plane + (long) ch * plane;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int p = y * w + x;
                    dst.segment().setAtIndex(JAVA_FLOAT, db + p, bilinear(src.segment(), sb, h, w, y + dy[p], x + dx[p]));
                }
            }
        }
    }

    /**
     * A displacement field for {@link #elastic}: H*W uniform(-1, 1) draws, smoothed by a separable
     * normalized Gaussian of {@code sigma} pixels (radius ceil(3 sigma), zero outside), times
     * {@code alpha} (Simard et al.'s scale: alpha 34 with sigma 4 moves digit pixels by about 1-2 pixels).
     */
    public static float[] displacement(int h, int w, double alpha, double sigma, SplittableRandom rnd) {
        if (!(sigma > 0) || !(alpha >= 0)) {
            throw new IllegalArgumentException("elastic: need sigma > 0 and alpha >= 0, got sigma=" + sigma + " alpha=" + alpha);
        }
        double[] f = new double[h * w];
        for (int p = 0; p < f.length; p++) {
            f[p] = rnd.nextDouble(-1, 1);
        }
        int r = (int) Math.ceil(3 * sigma);
        double[] g = new double[2 * r + 1];
        double total = 0;
        for (int k = -r; k <= r; k++) {
            g[k + r] = Math.exp(-k * k / (2 * sigma * sigma));
            total += g[k + r];
        }
        for (int k = 0; k < g.length; k++) {
            g[k] /= total;
        }
        double[] tmp = new double[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double v = 0;
                for (int k = -r; k <= r; k++) {
                    int xx = x + k;
                    if (xx >= 0 && xx < w) {
                        v += g[k + r] * f[y * w + xx];
                    }
                }
                tmp[y * w + x] = v;
            }
        }
        float[] out = new float[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double v = 0;
                for (int k = -r; k <= r; k++) {
                    int yy = y + k;
                    if (yy >= 0 && yy < h) {
                        v += g[k + r] * tmp[yy * w + x];
                    }
                }
                out[y * w + x] = (float) (alpha * v);
            }
        }
        return out;
    }

    /** Copies the (C, ph, pw) window at (y0, x0) of image i of src (N, C*H*W) into row j of dst (M, C*ph*pw). */
    public static void crop(Tensor src, int i, int c, int h, int w, int y0, int x0, Tensor dst, int j, int ph, int pw) {
        requireRow(src, i, c, h, w, "source");
        requireRow(dst, j, c, ph, pw, "destination");
        if (y0 < 0 || x0 < 0 || y0 + ph > h || x0 + pw > w) {
            throw new IllegalArgumentException("crop: window " + ph + "x" + pw + " at (" + y0 + ", " + x0 + ") leaves the "
                    + h + "x" + w + " image");
        }
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < ph; y++) {
                long from = src.offset() + (long) i * c * h * w + (long) ch * h * w + (long) (y0 + y) * w + x0;
                long to = dst.offset() + (long) j * c * ph * pw + (long) ch * ph * pw + (long) y * pw;
                MemorySegment.copy(src.segment(), JAVA_FLOAT, from * 4, dst.segment(), JAVA_FLOAT, to * 4, pw);
            }
        }
    }

    private static void requireRow(Tensor t, int row, int c, int h, int w, String what) {
        if (c < 1 || h < 1 || w < 1 || t.rank() < 1 || t.rowSize() != c * h * w || row < 0 || row >= t.dim(0)) {
            throw new IllegalArgumentException("augment " + what + ": row " + row + " of images " + c + "x" + h + "x" + w
                    + " expected, got a tensor " + Tensor.format(t.shape()));
        }
    }

    /**
     * A random augmentation: per image, rotation uniform in +-maxRotation (radians), scale
     * uniform in [minScale, maxScale], shift uniform in +-maxShift pixels per axis, then (with
     * elasticAlpha &gt; 0) an elastic distortion, then contrast gain uniform in [minGain, 1/minGain] and
     * brightness uniform in +-maxBias. {@link #NONE} leaves images unchanged.
     */
    public record Policy(double maxRotation, double minScale, double maxScale, double maxShift, double minGain, double maxBias,
                         double elasticAlpha, double elasticSigma) {

        public static final Policy NONE = new Policy(0, 1, 1, 0, 1, 0, 0, 1);

        public Policy {
            if (!(maxRotation >= 0) || !(minScale > 0) || !(maxScale >= minScale) || !(maxShift >= 0) || !(minGain > 0 && minGain <= 1)
                    || !(maxBias >= 0) || !(elasticAlpha >= 0) || !(elasticSigma > 0)) {
                throw new IllegalArgumentException("augmentation needs rotation >= 0, 0 < min scale <= max scale, shift >= 0,"
                        + " gain in (0, 1], bias >= 0, elastic alpha >= 0 and sigma > 0; got " + this);
            }
        }

        /** Shifts (pixels), rotations (degrees) and scalings typical of handwriting, plus mild contrast changes. */
        public static Policy digits(double shift, double degrees, double scale) {
            return new Policy(Math.toRadians(degrees), 1 - scale, 1 + scale, shift, 0.7, 0.1, 0, 4);
        }

        public Policy withElastic(double alpha, double sigma) {
            return new Policy(maxRotation, minScale, maxScale, maxShift, minGain, maxBias, alpha, sigma);
        }

        /**
         * Writes an augmentation of image {@code from[r]} of src into row r of dst (r &lt; dst's rows),
         * drawing every parameter from rnd in a fixed order (rotation, scale, shift y, shift x, elastic
         * field, gain, bias), so the same generator state gives the same bits.
         */
        public void apply(Tensor src, int[] from, Tensor dst, int c, int h, int w, SplittableRandom rnd, float[] scratch) {
            for (int r = 0; r < from.length; r++) {
                double theta = maxRotation > 0 ? rnd.nextDouble(-maxRotation, maxRotation) : 0;
                double s = maxScale > minScale ? rnd.nextDouble(minScale, maxScale) : minScale;
                double ty = maxShift > 0 ? rnd.nextDouble(-maxShift, maxShift) : 0;
                double tx = maxShift > 0 ? rnd.nextDouble(-maxShift, maxShift) : 0;
                if (elasticAlpha > 0) {
                    // warp into the scratch row, then distort it into dst
                    Tensor tmp = Tensor.wrap(MemorySegment.ofArray(scratch), 0, 1, c * h * w);
                    affine(src, from[r], tmp, 0, c, h, w, theta, s, ty, tx);
                    float[] dy = displacement(h, w, elasticAlpha, elasticSigma, rnd);
                    float[] dx = displacement(h, w, elasticAlpha, elasticSigma, rnd);
                    elastic(tmp, 0, dst, r, c, h, w, dy, dx);
                } else {
                    affine(src, from[r], dst, r, c, h, w, theta, s, ty, tx);
                }
                double gain = minGain < 1 ? Math.exp(rnd.nextDouble(Math.log(minGain), -Math.log(minGain))) : 1;
                double bias = maxBias > 0 ? rnd.nextDouble(-maxBias, maxBias) : 0;
                if (gain != 1 || bias != 0) {
                    contrast(dst, r, c, h, w, gain, bias);
                }
            }
        }
    }
}
