package dev.latent.nn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.ConvGeometry;
import java.lang.foreign.MemorySegment;

/**
 * Layout helpers that let {@link Conv2d} and {@link ConvTranspose2d} run one GEMM per chunk of samples
 * instead of one per sample: a chunk of nb images becomes one column matrix (K, nb*L) with
 * leading dimension ld, sample j owning columns [j*L, (j+1)*L), and NCHW tensors are moved to and
 * from the matching channel-major layout (C, nb*L). All offsets, lengths and leading dimensions
 * count floats. Pure data movement (im2col, gather, scatter) is exact; col2im adds in the
 * reference's order per pixel. Nothing here allocates; every access is bounds checked by the
 * segments themselves.
 */
final class ConvColumns {

    private ConvColumns() {
    }

    /** The batch chunk (samples per GEMM) for layers whose column matrix has {@code colRows} x {@code l} per sample. */
    static int chunk(int maxBatch, int colRows, int l, int otherRows) {
        // Enough columns for the GEMMs to be efficient, but keep the scratch (column matrix plus the
        // channel-major matrix) within a few MiB so a chunk's columns are still in cache when reused.
        long perSample = (long) (colRows + otherRows) * l;
        int byCols = (int) Math.max(1, Math.min(maxBatch, TARGET_FLOATS / Math.max(1, perSample)));
        int chunks = (maxBatch + byCols - 1) / byCols;
        return (maxBatch + chunks - 1) / chunks;
    }

    /** Target floats of scratch per chunk (column matrix + channel-major matrix). */
    static final long TARGET_FLOATS = Long.getLong("latent.conv.chunkFloats", 1L << 20);

    /**
     * The column matrix of the image at {@code img[imgOff ...]} written into rows of leading dimension
     * {@code ld} starting at {@code cols[colsOff]} (g.colRows() rows of g.colCols() floats; padding reads 0).
     */
    static void im2col(ConvGeometry g, MemorySegment img, long imgOff, MemorySegment cols, long colsOff, long ld) {
        int outH = g.outH();
        int outW = g.outW();
        int sh = g.strideH();
        int sw = g.strideW();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int h = g.height();
        int w = g.width();
        for (int c = 0; c < g.channels(); c++) {
            long plane = imgOff + (long) c * h * w;
            for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++) {
                    long row = colsOff + ((long) (c * kh + i) * kw + j) * ld;
                    int x0 = firstInside(j, g.padW(), sw, outW);
                    int x1 = endInside(j, g.padW(), sw, w, outW);
                    for (int y = 0; y < outH; y++) {
                        int iy = y * sh - g.padH() + i;
                        long dst = row + (long) y * outW;
                        if (iy < 0 || iy >= h || x0 >= x1) {
                            zero(cols, dst, outW);
                            continue;
                        }
                        zero(cols, dst, x0);
                        long src = plane + (long) iy * w + (long) x0 * sw - g.padW() + j;
                        if (sw == 1) {
                            MemorySegment.copy(img, src * Float.BYTES, cols, (dst + x0) * Float.BYTES,
                                    (long) (x1 - x0) * Float.BYTES);
                        } else {
                            for (int x = x0; x < x1; x++, src += sw) {
                                cols.setAtIndex(JAVA_FLOAT, dst + x, img.getAtIndex(JAVA_FLOAT, src));
                            }
                        }
                        zero(cols, dst + x1, outW - x1);
                    }
                }
            }
        }
    }

    /**
     * The adjoint of {@link #im2col}: adds every column entry (rows of leading dimension {@code ld} from
     * {@code cols[colsOff]}) into the image pixel im2col would have read it from; padding is dropped.
     */
    static void col2im(ConvGeometry g, MemorySegment cols, long colsOff, long ld, MemorySegment img, long imgOff) {
        int outH = g.outH();
        int outW = g.outW();
        int sh = g.strideH();
        int sw = g.strideW();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int h = g.height();
        int w = g.width();
        for (int c = 0; c < g.channels(); c++) {
            long plane = imgOff + (long) c * h * w;
            for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++) {
                    long row = colsOff + ((long) (c * kh + i) * kw + j) * ld;
                    int x0 = firstInside(j, g.padW(), sw, outW);
                    int x1 = endInside(j, g.padW(), sw, w, outW);
                    if (x0 >= x1) {
                        continue;
                    }
                    for (int y = 0; y < outH; y++) {
                        int iy = y * sh - g.padH() + i;
                        if (iy < 0 || iy >= h) {
                            continue;
                        }
                        long src = row + (long) y * outW + x0;
                        long dst = plane + (long) iy * w + (long) x0 * sw - g.padW() + j;
                        for (int x = x0; x < x1; x++, src++, dst += sw) {
                            img.setAtIndex(JAVA_FLOAT, dst, img.getAtIndex(JAVA_FLOAT, dst) + cols.getAtIndex(JAVA_FLOAT, src));
                        }
                    }
                }
            }
        }
    }

    /**
     * Gathers nb samples of {@code rows} x {@code len} (sample-major, contiguous from {@code src[srcOff]})
     * into the channel-major matrix (rows, nb*len) with leading dimension ld at {@code dst[dstOff]}.
     */
    static void toChannelMajor(int nb, int rows, int len, MemorySegment src, long srcOff,
                               MemorySegment dst, long dstOff, long ld) {
        long bytes = (long) len * Float.BYTES;
        for (int n = 0; n < nb; n++) {
            long s = srcOff + (long) n * rows * len;
            long d = dstOff + (long) n * len;
            for (int r = 0; r < rows; r++, s += len, d += ld) {
                MemorySegment.copy(src, s * Float.BYTES, dst, d * Float.BYTES, bytes);
            }
        }
    }

    /** The inverse of {@link #toChannelMajor}: scatters (rows, nb*len) back to nb samples of rows x len. */
    static void fromChannelMajor(int nb, int rows, int len, MemorySegment src, long srcOff, long ld,
                                 MemorySegment dst, long dstOff) {
        long bytes = (long) len * Float.BYTES;
        for (int n = 0; n < nb; n++) {
            long d = dstOff + (long) n * rows * len;
            long s = srcOff + (long) n * len;
            for (int r = 0; r < rows; r++, d += len, s += ld) {
                MemorySegment.copy(src, s * Float.BYTES, dst, d * Float.BYTES, bytes);
            }
        }
    }

    private static void zero(MemorySegment seg, long at, int n) {
        for (int x = 0; x < n; x++) {
            seg.setAtIndex(JAVA_FLOAT, at + x, 0f);
        }
    }

    /** The first output column x with x*sw - pad + j >= 0 (clamped to [0, outW]). */
    private static int firstInside(int j, int pad, int sw, int outW) {
        int need = pad - j;
        return need <= 0 ? 0 : Math.min(outW, (need + sw - 1) / sw);
    }

    /** One past the last output column x with x*sw - pad + j < width (clamped to [0, outW]). */
    private static int endInside(int j, int pad, int sw, int width, int outW) {
        int limit = width + pad - j;
        if (limit <= 0) {
            return 0;
        }
        return Math.min(outW, (limit - 1) / sw + 1);
    }
}
