package dev.latent.loss;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Squared error. Two normalizations:
 * <ul>
 *   <li>{@link #halfSumPerSample()}: the seeds' {@code J = 1/2 sum_i (a_i - x_i)^2} per sample, averaged
 *       over the batch (UFLDL): L = (1/B) sum_b 1/2 ||y_b - t_b||^2, dL/dy = (y - t) / B;
 *   <li>{@link #mean()}: PyTorch's MSELoss: L = (1/N) sum (y - t)^2 over all N elements,
 *       dL/dy = 2 (y - t) / N.
 * </ul>
 */
public final class Mse implements Loss {

    private final boolean halfSum;

    private Mse(boolean halfSum) {
        this.halfSum = halfSum;
    }

    public static Mse halfSumPerSample() {
        return new Mse(true);
    }

    public static Mse mean() {
        return new Mse(false);
    }

    @Override
    public double valueAndGradient(Tensor y, Tensor target, Tensor dy) {
        Loss.requireShapes(toString(), y, target, dy);
        return run(y, target, dy);
    }

    @Override
    public double value(Tensor y, Tensor target) {
        Loss.requireShapes(toString(), y, target, null);
        return run(y, target, null);
    }

    private double run(Tensor y, Tensor target, Tensor dy) {
        long n = y.size();
        int b = y.dim(0);
        double scale = halfSum ? 0.5 / b : 1.0 / n;
        float gscale = (float) (halfSum ? 1.0 / b : 2.0 / n);
        MemorySegment ys = y.segment();
        MemorySegment ts = target.segment();
        long yo = y.offset();
        long to = target.offset();
        double sum = 0;
        if (dy == null) {
            for (long i = 0; i < n; i++) {
                double d = ys.getAtIndex(JAVA_FLOAT, yo + i) - ts.getAtIndex(JAVA_FLOAT, to + i);
                sum += d * d;
            }
        } else {
            MemorySegment ds = dy.segment();
            long d0 = dy.offset();
            for (long i = 0; i < n; i++) {
                float d = ys.getAtIndex(JAVA_FLOAT, yo + i) - ts.getAtIndex(JAVA_FLOAT, to + i);
                sum += (double) d * d;
                ds.setAtIndex(JAVA_FLOAT, d0 + i, gscale * d);
            }
        }
        return sum * scale;
    }

    @Override
    public String toString() {
        return halfSum ? "mse(1/2 sum per sample)" : "mse(mean)";
    }
}
