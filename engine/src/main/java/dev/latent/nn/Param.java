package dev.latent.nn;

import dev.latent.tensor.Tensor;

/**
 * A learnable tensor and its gradient, both views into the model's one parameter allocation.
 * {@code decay} says whether weight decay applies (weights yes, biases and batch-norm shifts no).
 * Backward passes add into {@code grad}; the trainer zeroes it before each step.
 */
public record Param(String name, Tensor value, Tensor grad, boolean decay) {

    public Param {
        value.requireSameShape(grad);
    }

    public long size() {
        return value.size();
    }
}
