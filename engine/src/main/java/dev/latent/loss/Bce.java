package dev.latent.loss;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Binary cross-entropy averaged over all N elements, targets t in [0, 1].
 * <ul>
 *   <li>{@link #onProbabilities()}: y = p in (0, 1): L = -(1/N) sum [t log p + (1-t) log(1-p)],
 *       each log clamped at -100 as PyTorch does so p = 0 or 1 stays finite;
 *       dL/dp = (p - t) / (p (1 - p)) / N with p clamped into [1e-12, 1 - 1e-12] there.
 *   <li>{@link #withLogits()}: y = z, p = sigmoid(z): L = (1/N) sum [max(z, 0) - z t + log(1 + e^-|z|)]
 *       (stable for any z), dL/dz = (sigmoid(z) - t) / N.
 * </ul>
 */
public final class Bce implements Loss {

    private final boolean logits;

    private Bce(boolean logits) {
        this.logits = logits;
    }

    public static Bce onProbabilities() {
        return new Bce(false);
    }

    public static Bce withLogits() {
        return new Bce(true);
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
        MemorySegment ys = y.segment();
        MemorySegment ts = target.segment();
        long yo = y.offset();
        long to = target.offset();
        double sum = 0;
        for (long i = 0; i < n; i++) {
            double v = ys.getAtIndex(JAVA_FLOAT, yo + i);
            double t = ts.getAtIndex(JAVA_FLOAT, to + i);
            double g;
            if (logits) {
                sum += Math.max(v, 0) - v * t + Math.log1p(Math.exp(-Math.abs(v)));
                g = 1 / (1 + Math.exp(-v)) - t;
            } else {
                sum -= t * Math.max(Math.log(v), -100) + (1 - t) * Math.max(Math.log1p(-v), -100);
                double p = Math.min(Math.max(v, 1e-12), 1 - 1e-12);
                g = (p - t) / (p * (1 - p));
            }
            if (dy != null) {
                dy.segment().setAtIndex(JAVA_FLOAT, dy.offset() + i, (float) (g / n));
            }
        }
        return sum / n;
    }

    @Override
    public String toString() {
        return logits ? "bce(logits)" : "bce(probabilities)";
    }
}
