package dev.latent.loss;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Softmax cross-entropy on logits z (B, C) against target distributions t (B, C) (one-hot labels,
 * or any rows summing to 1): L = -(1/B) sum_b sum_c t_bc log softmax(z_b)_c, with the log-sum-exp
 * shifted by each row's max; dL/dz = (softmax(z) - t) / B.
 */
public final class SoftmaxCrossEntropy implements Loss {

    @Override
    public double valueAndGradient(Tensor z, Tensor target, Tensor dz) {
        Loss.requireShapes(toString(), z, target, dz);
        return run(z, target, dz);
    }

    @Override
    public double value(Tensor z, Tensor target) {
        Loss.requireShapes(toString(), z, target, null);
        return run(z, target, null);
    }

    private double run(Tensor z, Tensor target, Tensor dz) {
        if (z.rank() != 2) {
            throw new IllegalArgumentException(this + ": expects logits (B, C), got " + Tensor.format(z.shape()));
        }
        int b = z.dim(0);
        int c = z.dim(1);
        MemorySegment zs = z.segment();
        MemorySegment ts = target.segment();
        double total = 0;
        for (int r = 0; r < b; r++) {
            long zr = z.offset() + (long) r * c;
            long tr = target.offset() + (long) r * c;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) {
                max = Math.max(max, zs.getAtIndex(JAVA_FLOAT, zr + j));
            }
            double sum = 0;
            for (int j = 0; j < c; j++) {
                sum += Math.exp(zs.getAtIndex(JAVA_FLOAT, zr + j) - max);
            }
            double logSum = Math.log(sum) + max;
            for (int j = 0; j < c; j++) {
                double zj = zs.getAtIndex(JAVA_FLOAT, zr + j);
                double t = ts.getAtIndex(JAVA_FLOAT, tr + j);
                total -= t * (zj - logSum);
                if (dz != null) {
                    dz.segment().setAtIndex(JAVA_FLOAT, dz.offset() + (long) r * c + j,
                            (float) ((Math.exp(zj - logSum) - t) / b));
                }
            }
        }
        return total / b;
    }

    @Override
    public String toString() {
        return "softmax cross-entropy";
    }
}
