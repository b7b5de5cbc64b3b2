package dev.latent.loss;

import dev.latent.tensor.Tensor;

/**
 * A data loss L(y, t) over a batch: prediction y and target t of the same shape (B, ...). One pass
 * computes the value and writes dL/dy into dy (same shape; dy may be the model's output-gradient
 * buffer). Values are accumulated in double.
 */
public interface Loss {

    /** Writes dL/dy into dy and returns L. */
    double valueAndGradient(Tensor y, Tensor target, Tensor dy);

    /** L only. */
    double value(Tensor y, Tensor target);

    /** Throws IllegalArgumentException naming the loss and both shapes unless y, t (and dy) agree. */
    static void requireShapes(String loss, Tensor y, Tensor target, Tensor dy) {
        if (y.rank() != target.rank() || y.size() != target.size() || (dy != null && dy.size() != y.size())) {
            throw new IllegalArgumentException(loss + ": prediction " + Tensor.format(y.shape()) + " vs target "
                    + Tensor.format(target.shape()) + (dy == null ? "" : " vs gradient " + Tensor.format(dy.shape())));
        }
        for (int i = 0; i < y.rank(); i++) {
            if (y.dim(i) != target.dim(i)) {
                throw new IllegalArgumentException(loss + ": prediction " + Tensor.format(y.shape()) + " vs target "
                        + Tensor.format(target.shape()));
            }
        }
    }
}
