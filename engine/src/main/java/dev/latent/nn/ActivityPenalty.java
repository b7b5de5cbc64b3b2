package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;

/**
 * A penalty on a layer's output activations a (B, ...), such as sparsity: it adds its value to the
 * objective and its gradient into dL/da before backpropagation continues through that layer (seed
 * 003: {@code delta_i = f'(z_i) (sum_j w_ji delta_j + beta)}).
 */
public interface ActivityPenalty {

    /** Sizes scratch for a per-sample activation shape and batches up to maxBatch; called once. */
    void build(int[] sampleShape, int maxBatch, Kernels kernels, Workspace scratch);

    /** The penalty of the batch a, averaged over the batch as the data loss is. */
    double value(Tensor a);

    /** Adds dPenalty/da into da (same shape as a) and returns the penalty value. */
    double addGradient(Tensor a, Tensor da);
}
