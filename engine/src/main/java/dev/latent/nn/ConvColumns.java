package dev.latent.nn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.ConvGeometry;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Layout helpers that let {@link Conv2d} and {@link ConvTranspose2d} run one GEMM per chunk of samples
 * instead of one per sample: a chunk of nb images becomes one column matrix (K, nb*L) with
 * leading dimension ld, sample j owning columns [j*L, (j+1)*L), and NCHW tensors are moved to and
 * from the matching channel-major layout (C, nb*L). All offsets, lengths and leading dimensions
 * count floats. Pure data movement (im2col, gather, scatter) is exact; col2im adds in the
 * reference's order per pixel. Nothing here allocates; every access is bounds checked (arrays,
 * segments).
 */
final class ConvColumns {

    private ConvColumns() {
    }

    /**
     * The batch chunk (samples per GEMM) for a layer whose column matrix has {@code colRows} x {@code l}
     * floats per sample, whose channel-major matrix has {@code otherRows} x {@code l} and whose staged
     * image has {@code imageSize} floats.
     */
    static int chunk(int maxBatch, int colRows, int l, int otherRows, int imageSize) {
        // Enough columns for the GEMMs to be efficient, but keep the scratch within a few MiB so a
        // chunk's columns are still in cache when they are reused.
        long perSample = (long) (colRows + otherRows) * l + imageSize;
        int byCols = (int) Math.max(1, Math.min(maxBatch, TARGET_FLOATS / Math.max(1, perSample)));
        int chunks = (maxBatch + byCols - 1) / byCols;
        return (maxBatch + chunks - 1) / chunks;
    }

    /** Target floats of scratch per chunk (column matrix + channel-major matrix). */
    static final long TARGET_FLOATS = Long.getLong("latent.conv.chunkFloats", 1L << 20);

    /**
     * The column matrix of the image at {@code img[imgOff ...]} written into rows of leading dimension
     * {@code ld} starting at {@code cols[colsOff]} (g.colRows() rows of g.colCols() floats; padding reads 0).
     * Heap arrays: the layers stage their chunk through them (one bulk copy each way), which is several
     * times faster than element-wise segment access for these short, strided runs.
     */
    static void im2col(ConvGeometry g, float[] img, int imgOff, float[] cols, int colsOff, int ld) {
        int outH = g.outH();
        int outW = g.outW();
        int sh = g.strideH();
        int sw = g.strideW();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int h = g.height();
        int w = g.width();
        int pw = g.padW();
        for (int c = 0; c < g.channels(); c++) {
            int plane = imgOff + c * h * w;
            for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++) {
                    int row = colsOff + ((c * kh + i) * kw + j) * ld;
                    int x0 = firstInside(j, pw, sw, outW);
                    int x1 = endInside(j, pw, sw, w, outW);
                    for (int y = 0; y < outH; y++) {
                        int iy = y * sh - g.padH() + i;
                        int dst = row + y * outW;
                        if (iy < 0 || iy >= h || x0 >= x1) {
                            Arrays.fill(cols, dst, dst + outW, 0f);
                            continue;
                        }
                        for (int x = 0; x < x0; x++) {
                            cols[dst + x] = 0f;
                        }
                        int src = plane + iy * w - pw + j;
                        if (sw == 1) {
                            System.arraycopy(img, src + x0, cols, dst + x0, x1 - x0);
                        } else {
                            for (int x = x0; x < x1; x++) {
                                cols[dst + x] = img[src + x * sw];
                            }
                        }
                        for (int x = x1; x < outW; x++) {
                            cols[dst + x] = 0f;
                        }
                    }
                }
            }
        }
    }

    /**
     * The adjoint of {@link #im2col}: adds every column entry (rows of leading dimension {@code ld} from
     * {@code cols[colsOff]}) into the image pixel im2col would have read it from; padding is dropped.
     * Per pixel the terms are added in the reference's order (c, i, j, y, x).
     */
    static void col2im(ConvGeometry g, float[] cols, int colsOff, int ld, float[] img, int imgOff) {
        int outH = g.outH();
        int outW = g.outW();
        int sh = g.strideH();
        int sw = g.strideW();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int h = g.height();
        int w = g.width();
        int pw = g.padW();
        for (int c = 0; c < g.channels(); c++) {
            int plane = imgOff + c * h * w;
            for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++) {
                    int row = colsOff + ((c * kh + i) * kw + j) * ld;
                    int x0 = firstInside(j, pw, sw, outW);
                    int x1 = endInside(j, pw, sw, w, outW);
                    if (x0 >= x1) {
                        continue;
                    }
                    for (int y = 0; y < outH; y++) {
                        int iy = y * sh - g.padH() + i;
                        if (iy < 0 || iy >= h) {
                            continue;
                        }
                        int src = row + y * outW;
                        int dst = plane + iy * w - pw + j;
                        for (int x = x0; x < x1; x++) {
                            img[dst + x * sw] += cols[src + x];
                        }
                    }
                }
            }
        }
    }

    /** Floats [off, off + n) of {@code seg} into {@code dst[0 ..]}. */
    static void load(MemorySegment seg, long off, float[] dst, int n) {
        MemorySegment.copy(seg, JAVA_FLOAT, off * Float.BYTES, dst, 0, n);
    }

    /** {@code src[0 .. n)} into floats [off, off + n) of {@code seg}. */
    static void store(float[] src, int n, MemorySegment seg, long off) {
        MemorySegment.copy(src, 0, seg, JAVA_FLOAT, off * Float.BYTES, n);
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
