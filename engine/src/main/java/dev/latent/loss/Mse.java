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
        // Four partial sums (element i into sum i % 4, added in a fixed order at the end): one running
        // double sum is a chain of dependent adds, 4 cycles an element, which made this loop 5% of a W1
        // step (784 x 256 outputs). The order is fixed, so the value does not depend on the provider.
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        long i = 0;
        if (dy == null) {
            for (; i + 4 <= n; i += 4) {
                double d0 = ys.getAtIndex(JAVA_FLOAT, yo + i) - ts.getAtIndex(JAVA_FLOAT, to + i);
                double d1 = ys.getAtIndex(JAVA_FLOAT, yo + i + 1) - ts.getAtIndex(JAVA_FLOAT, to + i + 1);
                double d2 = ys.getAtIndex(JAVA_FLOAT, yo + i + 2) - ts.getAtIndex(JAVA_FLOAT, to + i + 2);
                double d3 = ys.getAtIndex(JAVA_FLOAT, yo + i + 3) - ts.getAtIndex(JAVA_FLOAT, to + i + 3);
                s0 += d0 * d0;
                s1 += d1 * d1;
                s2 += d2 * d2;
                s3 += d3 * d3;
            }
            for (; i < n; i++) {
                double d = ys.getAtIndex(JAVA_FLOAT, yo + i) - ts.getAtIndex(JAVA_FLOAT, to + i);
                s0 += d * d;
            }
        } else {
            MemorySegment ds = dy.segment();
            long d0 = dy.offset();
            for (; i + 4 <= n; i += 4) {
                float e0 = ys.getAtIndex(JAVA_FLOAT, yo + i) - ts.getAtIndex(JAVA_FLOAT, to + i);
                float e1 = ys.getAtIndex(JAVA_FLOAT, yo + i + 1) - ts.getAtIndex(JAVA_FLOAT, to + i + 1);
                float e2 = ys.getAtIndex(JAVA_FLOAT, yo + i + 2) - ts.getAtIndex(JAVA_FLOAT, to + i + 2);
                float e3 = ys.getAtIndex(JAVA_FLOAT, yo + i + 3) - ts.getAtIndex(JAVA_FLOAT, to + i + 3);
                s0 += (double) e0 * e0;
                s1 += (double) e1 * e1;
                s2 += (double) e2 * e2;
                s3 += (double) e3 * e3;
                ds.setAtIndex(JAVA_FLOAT, d0 + i, gscale * e0);
                ds.setAtIndex(JAVA_FLOAT, d0 + i + 1, gscale * e1);
                ds.setAtIndex(JAVA_FLOAT, d0 + i + 2, gscale * e2);
                ds.setAtIndex(JAVA_FLOAT, d0 + i + 3, gscale * e3);
            }
            for (; i < n; i++) {
                float d = ys.getAtIndex(JAVA_FLOAT, yo + i) - ts.getAtIndex(JAVA_FLOAT, to + i);
                s0 += (double) d * d;
                ds.setAtIndex(JAVA_FLOAT, d0 + i, gscale * d);
            }
        }
        double sum = (s0 + s1) + (s2 + s3);
        return sum * scale;
    }

    @Override
    public String toString() {
        return halfSum ? "mse(1/2 sum per sample)" : "mse(mean)";
    }
}
