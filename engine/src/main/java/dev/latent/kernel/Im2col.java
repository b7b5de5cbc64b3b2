package dev.latent.kernel;

import java.lang.foreign.MemorySegment;

/**
 * The im2col / col2im pair that turns a 2-D convolution into one GEMM (Caffe's layout).
 *
 * <p>The column matrix of one CHW image under geometry g is row-major with g.colRows() =
 * C*kh*kw rows and g.colCols() = outH*outW columns:
 * {@code cols[(c*kh + i)*kw + j, y*outW + x] = img[c, y*sh - ph + i, x*sw - pw + j]}, reading 0 where
 * the image coordinate falls in the padding. Column and image runs must not overlap.
 */
public interface Im2col {

    /** Writes the whole column matrix of the image at {@code img[imgOff ...]} (overwrites, never reads cols). */
    void im2col(ConvGeometry g, MemorySegment img, long imgOff, MemorySegment cols, long colsOff);

    /**
     * The adjoint of im2col: {@code img[c, y, x] += sum of every cols entry that im2col would have read
     * from (c, y, x)}. Accumulates into img; entries mapped to the padding are dropped.
     */
    void col2im(ConvGeometry g, MemorySegment cols, long colsOff, MemorySegment img, long imgOff);

    /**
     * im2col of a batch into one column matrix, so that one GEMM covers the batch: the nb images are
     * contiguous CHW from {@code img[imgOff]} (image j at {@code imgOff + j * g.imageSize()}), and the
     * column matrix of image j is written to columns [j*L, (j+1)*L) (L = g.colCols()) of the g.colRows()
     * rows of leading dimension ld &ge; max(1, nb*L) at {@code cols[colsOff]}:
     * {@code cols[colsOff + r*ld + j*L + l] = im2col(img_j)[r, l]}. Overwrites exactly those elements
     * (the columns between nb*L and ld are untouched); pure data movement, so every provider gives the
     * same bits.
     */
    void im2colBatch(ConvGeometry g, int nb, MemorySegment img, long imgOff, MemorySegment cols, long colsOff, int ld);

    /**
     * The batched adjoint, <em>overwriting</em> the images: image j (CHW at
     * {@code imgOff + j * g.imageSize()}) becomes col2im of columns [j*L, (j+1)*L) of the rows of leading
     * dimension ld at {@code cols[colsOff]} (layout of {@link #im2colBatch}). Each pixel is +0 plus its
     * column entries added one by one in row order of the column matrix (then column order), so every
     * provider gives the same bits; entries mapped to the padding are dropped.
     */
    void col2imBatch(ConvGeometry g, int nb, MemorySegment cols, long colsOff, int ld, MemorySegment img, long imgOff);

    /** The argument checks of the batched kernels (nb &ge; 0, ld &ge; max(1, nb*L), runs inside their segments). */
    static void checkBatch(String op, ConvGeometry g, int nb, MemorySegment img, long imgOff, MemorySegment cols,
                           long colsOff, int ld) {
        Bounds.count(op + " nb", nb);
        long width = (long) nb * g.colCols();
        if (width > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": nb * L = " + width + " columns is too many");
        }
        Bounds.run(op + " images", img, imgOff, (long) nb * g.imageSize());
        Bounds.matrix(op + " columns", cols, colsOff, nb == 0 ? 0 : g.colRows(), (int) width, ld);
    }
}
