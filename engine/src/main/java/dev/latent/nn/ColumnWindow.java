package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;

/**
 * The copy shared by {@link Slice} and {@link ZeroPad}, which are each other's backward: a window of
 * {@code width} columns at column {@code narrowAt} of a wide (B, wide) tensor against a narrow
 * (B, width) tensor. One kernel copy per row; nothing allocated.
 */
final class ColumnWindow {

    private ColumnWindow() {
    }

    /** narrow[b, j] = wide[b, at + j] for j in [0, width). */
    static void gather(Kernels k, Tensor wide, int at, Tensor narrow) {
        int rows = wide.dim(0);
        int w = wide.dim(1);
        int width = narrow.dim(1);
        for (int b = 0; b < rows; b++) {
            k.elementwise().copy(width, wide.segment(), wide.offset() + (long) b * w + at, narrow.segment(),
                    narrow.offset() + (long) b * width);
        }
    }

    /** wide = 0, then wide[b, at + j] = narrow[b, j]. */
    static void scatter(Kernels k, Tensor narrow, Tensor wide, int at) {
        int rows = wide.dim(0);
        int w = wide.dim(1);
        int width = narrow.dim(1);
        k.elementwise().fill(rows * w, 0f, wide.segment(), wide.offset());
        for (int b = 0; b < rows; b++) {
            k.elementwise().copy(width, narrow.segment(), narrow.offset() + (long) b * width, wide.segment(),
                    wide.offset() + (long) b * w + at);
        }
    }

    /** The per-sample shape [d] of a rank-1 layer, or an IllegalArgumentException naming the layer. */
    static int requireVector(String layer, int[] in) {
        if (in.length != 1 || in[0] < 1) {
            throw new IllegalArgumentException(layer + ": expects a per-sample vector [d] with d >= 1 but got " + Tensor.format(in));
        }
        return in[0];
    }
}
