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
}
