package dev.latent.nn;

import dev.latent.tensor.Tensor;

/** The batch check of outputs and gradients, whose batch must equal the input's (not just fit maxBatch). */
final class Batches {

    private Batches() {
    }

    /**
     * {@link Layer#requireBatch} with maxBatch = b, and the batch must be exactly b: a shorter output
     * buffer would otherwise pass and be written past its end (caught only by the kernels' bounds
     * checks, with a message that names no layer).
     */
    static void requireExact(String layer, String what, Tensor t, int[] sample, int b) {
        Layer.requireBatch(layer, what, t, sample, b);
        if (t.dim(0) != b) {
            throw new IllegalArgumentException(layer + " " + what + ": expected shape (B=" + b + ", "
                    + Tensor.format(sample).substring(1) + " but got " + Tensor.format(t.shape()));
        }
    }
}
