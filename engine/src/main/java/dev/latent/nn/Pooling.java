package dev.latent.nn;

import dev.latent.tensor.Tensor;

/** Shape rules shared by the pooling layers (no padding, floor mode). */
final class Pooling {

    private Pooling() {
    }

    /** (C, H, W) -> (C, (H - k) / s + 1, (W - k) / s + 1); IllegalArgumentException naming the layer otherwise. */
    static int[] outputShape(String layer, int[] in, int kernel, int stride) {
        if (in.length != 3 || in[0] < 1 || in[1] < kernel || in[2] < kernel) {
            throw new IllegalArgumentException(layer + ": expects per-sample input [C, H, W] with H, W >= kernel "
                    + kernel + " but got " + Tensor.format(in));
        }
        return new int[] {in[0], (in[1] - kernel) / stride + 1, (in[2] - kernel) / stride + 1};
    }
}
