package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One layer with an explicit forward and backward pass over a batch (first dimension B).
 *
 * <p>Life cycle: constructed with its hyperparameters; {@link #build} once with the per-sample input
 * shape, the largest batch it will see, the kernels, its parameters (taken from the model's
 * {@link ParamSlab}) and a workspace for scratch buffers sized for that batch; {@link #init} draws the
 * initial parameters; then any number of forward/backward calls that allocate nothing.
 *
 * <p>Backward contract: given the forward input x and output y of the same batch and dL/dy, it
 * <em>adds</em> dL/dtheta into every parameter gradient and <em>writes</em> dL/dx into dx (dx may be
 * null for the first layer, which then skips that work). dy may be overwritten (it is scratch).
 */
public interface Layer {

    /** A short name for messages and parameter names ("dense1", "conv2"). */
    String name();

    /** Per-sample output shape for a per-sample input shape; IllegalArgumentException naming both if incompatible. */
    int[] outputShape(int[] inputShape);

    /** Floats of parameters this layer takes from the slab for this input shape (0 for none). */
    default long paramCount(int[] inputShape) {
        return 0;
    }

    /** Binds kernels, parameters and scratch; called once before use. */
    void build(int[] inputShape, int maxBatch, Kernels kernels, ParamSlab slab, Workspace scratch);

    /** Draws initial parameters (no-op for parameter-free layers). */
    default void init(SplittableRandom rnd) {
    }

    /** y = layer(x); x is (B, input...), y is (B, output...), B &le; maxBatch. */
    void forward(Tensor x, Tensor y, boolean training);

    /** Adds parameter gradients, writes dx (if not null); see the interface contract. */
    void backward(Tensor x, Tensor y, Tensor dy, Tensor dx);

    /**
     * Writes dx (if not null) as {@link #backward} does, for a network whose parameters are not being
     * updated (a discriminator during the generator's step): parameter gradients may be left as they
     * are. The default adds them anyway; layers whose parameter gradients cost real work (a GEMM, an
     * im2col) skip it.
     */
    default void backwardInput(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        backward(x, y, dy, dx);
    }

    /** The parameters bound at build time (empty for parameter-free layers). */
    default List<Param> params() {
        return List.of();
    }

    /**
     * Checks that {@code t} is a batch of at most maxBatch samples of {@code sample} shape, without
     * allocating on success (it runs on every step).
     */
    static void requireBatch(String layer, String what, Tensor t, int[] sample, int maxBatch) {
        boolean ok = t.rank() == sample.length + 1 && t.dim(0) >= 1 && t.dim(0) <= maxBatch;
        for (int i = 0; ok && i < sample.length; i++) {
            ok = t.dim(i + 1) == sample[i];
        }
        if (!ok) {
            throw new IllegalArgumentException(layer + " " + what + ": expected shape (B<=" + maxBatch + ", "
                    + Tensor.format(sample).substring(1) + " but got " + Tensor.format(t.shape()));
        }
    }
}
