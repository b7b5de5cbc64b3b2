package dev.latent.kernel.simd;

import dev.latent.kernel.ConvGeometry;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A gather table for one geometry: im2col and col2im over heap arrays. The image is first copied
 * into a zero-bordered buffer (Hp = H + 2 padH, Wp = W + 2 padW) so that every window lies inside
 * it; then column-matrix row (c, i, j) is {@code cols[r, l] = padded[c, i + oy(l) sh, j + ox(l) sw]}
 * for l = oy * outW + ox, i.e. one flat loop over L through the precomputed offsets
 * {@code tab[l] = oy sh Wp + ox sw}: no padding branches and no short inner loops. That loop is a vector
 * gather through the table (and col2im's a gather, add and scatter: within one row of cols the table's
 * offsets are distinct, so no lane collides with another and every pixel still receives its terms in
 * the reference's order). Not thread safe (its buffers): {@link SimdIm2col} keeps one per thread and
 * geometry.
 */
final class SimdConvGather {

    private static final VectorSpecies<Float> F = SimdShape.FLOAT;
    private static final int LANES = SimdShape.LANES;

    private final ConvGeometry g;
    private final int hp;
    private final int wp;
    private final boolean padded;
    private final int[] tab;
    /** im2col's zero-bordered copy of the image: only the interior is ever written. */
    private final float[] pad;
    /** col2im's zero-bordered accumulator (its border collects the dropped terms). */
    private final float[] acc;

    /** The geometry this table serves. */
    ConvGeometry geometry() {
        return g;
    }

    SimdConvGather(ConvGeometry g) {
        this.g = g;
        this.hp = g.height() + 2 * g.padH();
        this.wp = g.width() + 2 * g.padW();
        this.padded = g.padH() != 0 || g.padW() != 0;
        this.tab = new int[g.colCols()];
        int outW = g.outW();
        for (int l = 0; l < tab.length; l++) {
            tab[l] = (l / outW) * g.strideH() * wp + (l % outW) * g.strideW();
        }
        int size = padded ? Math.multiplyExact(g.channels(), Math.multiplyExact(hp, wp)) : 0;
        this.pad = new float[size];
        this.acc = new float[size];
    }

    /**
     * The column matrix of the image at {@code img[imgOff ...]} written into rows of leading dimension
     * {@code ld} starting at {@code cols[colsOff]} (g.colRows() rows of g.colCols() floats; padding reads 0).
     */
    void im2col(float[] img, int imgOff, float[] cols, int colsOff, int ld) {
        int h = g.height();
        int w = g.width();
        float[] src = img;
        int srcOff = imgOff;
        if (padded) {
            // The border of pad is never written here, so it stays 0.
            for (int c = 0; c < g.channels(); c++) {
                for (int y = 0; y < h; y++) {
                    System.arraycopy(img, imgOff + (c * h + y) * w, pad, (c * hp + y + g.padH()) * wp + g.padW(), w);
                }
            }
            src = pad;
            srcOff = 0;
        }
        int[] t = tab;
        int l = t.length;
        int kh = g.kernelH();
        int kw = g.kernelW();
        // The kw rows (c, i, 0 .. kw-1) read kw neighbouring pixels at each table offset: one index
        // load serves all of them.
        int bound = l - l % LANES;
        for (int c = 0, r = 0; c < g.channels(); c++) {
            for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++, r++) {
                    int base = srcOff + (c * hp + i) * wp + j;
                    int dst = colsOff + r * ld;
                    int q = 0;
                    for (; q < bound; q += LANES) {
                        FloatVector.fromArray(F, src, base, t, q).intoArray(cols, dst + q);
                    }
                    for (; q < l; q++) {
                        cols[dst + q] = src[base + t[q]];
                    }
                }
            }
        }
    }

    /**
     * The adjoint of {@link #im2col}: {@code img[imgOff ...] += } every column entry (rows of leading
     * dimension {@code ld} from {@code cols[colsOff]}) at the pixel im2col would have read it from;
     * padding is dropped. Per pixel the terms are summed in the reference's order (row by row of
     * cols), then added to img once, so a zeroed img receives exactly the reference's col2im.
     */
    void col2im(float[] cols, int colsOff, int ld, float[] img, int imgOff) {
        int h = g.height();
        int w = g.width();
        float[] acc = img;
        int accOff = imgOff;
        if (padded) {
            acc = this.acc;
            Arrays.fill(acc, 0f);
            accOff = 0;
        }
        int[] t = tab;
        int l = t.length;
        int kh = g.kernelH();
        int kw = g.kernelW();
        int bound = l - l % LANES;
        for (int c = 0, r = 0; c < g.channels(); c++) {
            for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++, r++) {
                    int base = accOff + (c * hp + i) * wp + j;
                    int src = colsOff + r * ld;
                    int q = 0;
                    for (; q < bound; q += LANES) {
                        FloatVector.fromArray(F, acc, base, t, q).add(FloatVector.fromArray(F, cols, src + q))
                                .intoArray(acc, base, t, q);
                    }
                    for (; q < l; q++) {
                        acc[base + t[q]] += cols[src + q];
                    }
                }
            }
        }
        if (padded) {
            for (int c = 0; c < g.channels(); c++) {
                for (int y = 0; y < h; y++) {
                    int d = imgOff + (c * h + y) * w;
                    int s = (c * hp + y + g.padH()) * wp + g.padW();
                    for (int x = 0; x < w; x++) {
                        img[d + x] += acc[s + x];
                    }
                }
            }
        }
    }
}
