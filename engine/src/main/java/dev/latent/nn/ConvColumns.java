package dev.latent.nn;

import dev.latent.kernel.ConvGeometry;
import dev.latent.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Layout helpers that let {@link Conv2d} and {@link ConvTranspose2d} run one GEMM over the batch: NCHW
 * tensors of nb samples are moved to and from the channel-major layout (C, nb*L) with leading
 * dimension ld, sample j owning columns [j*L, (j+1)*L) (the layout of the batched im2col). All
 * offsets, lengths and leading dimensions count floats. Pure data movement, exact; nothing here
 * allocates; every access is bounds checked by the segments.
 */
final class ConvColumns {

    private ConvColumns() {
    }

    /**
     * Column-matrix floats per chunk of samples: 1 MiB, so that a chunk's columns (written by the
     * batched im2col, read by the GEMM right after) stay in the 1 MiB L2 instead of going to memory.
     * Measured on W3 (conv 32-&gt;64, K = 288, L = 49, batch 128): the whole batch at once (7 MiB of
     * columns) made im2col and col2im memory bound, slower than the per-sample code they replaced.
     */
    // -Dlatent.conv.chunkFloats for experiments (the README's kernels section)
    static final int CHUNK_FLOATS = Integer.getInteger("latent.conv.chunkFloats", 1 << 18);

    /** Samples per chunk for column matrices of {@code colFloats} (K*L) floats per sample, split evenly. */
    static int chunk(int maxBatch, long colFloats) {
        int byCache = (int) Math.max(1, Math.min(maxBatch, CHUNK_FLOATS / Math.max(1, colFloats)));
        int chunks = (maxBatch + byCache - 1) / byCache;
        return (maxBatch + chunks - 1) / chunks;
    }

    /**
     * The square geometry (channels, h, w, kernel, stride, pad) of layer {@code name}, a geometry error
     * rethrown naming the layer and its per-sample input shape {@code in}.
     */
    static ConvGeometry geometry(String name, int[] in, int channels, int h, int w, int kernel, int stride, int pad) {
        try {
            return ConvGeometry.square(channels, h, w, kernel, stride, pad);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": input " + Tensor.format(in) + ": " + e.getMessage(), e);
        }
    }

    /** weight ~ U(-r, r) drawn in memory order from rnd; bias (may be null) = 0. */
    static void initUniform(SplittableRandom rnd, double r, Param weight, Param bias) {
        Tensor w = weight.value();
        for (long i = 0; i < w.size(); i++) {
            w.set(i, (float) ((rnd.nextDouble() * 2 - 1) * r));
        }
        if (bias != null) {
            bias.value().fill(0f);
        }
    }

    /** The weight, then the bias when there is one. */
    static List<Param> params(Param weight, Param bias) {
        List<Param> ps = new ArrayList<>(2);
        ps.add(weight);
        if (bias != null) {
            ps.add(bias);
        }
        return ps;
    }

    /** Samples per chunk for a batch of b with chunk capacity {@code chunk}: b split evenly. */
    static int per(int b, int chunk) {
        int chunks = (b + chunk - 1) / chunk;
        return (b + chunks - 1) / chunks;
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
}
