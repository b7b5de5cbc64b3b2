package dev.latent.optim;

/** A learning-rate schedule: the rate for optimizer step t (0-based). */
@FunctionalInterface
public interface LearningRate {

    double at(long step);

    /** The same rate at every step. */
    static LearningRate constant(double lr) {
        requirePositive(lr);
        return t -> lr;
    }

    /** lr * gamma^(floor(t / every)): step decay. */
    static LearningRate step(double lr, long every, double gamma) {
        requirePositive(lr);
        if (every < 1 || !(gamma > 0)) {
            throw new IllegalArgumentException("step schedule needs every >= 1 and gamma > 0, got " + every + ", " + gamma);
        }
        return t -> lr * Math.pow(gamma, Math.floorDiv(t, every));
    }

    /**
     * Cosine annealing from lr to minLr over {@code total} steps (then minLr):
     * lr_t = minLr + (lr - minLr) (1 + cos(pi t / total)) / 2.
     */
    static LearningRate cosine(double lr, double minLr, long total) {
        requirePositive(lr);
        if (total < 1 || minLr < 0 || minLr > lr) {
            throw new IllegalArgumentException("cosine schedule needs total >= 1 and 0 <= minLr <= lr, got total="
                    + total + " minLr=" + minLr);
        }
        return t -> t >= total ? minLr : minLr + (lr - minLr) * (1 + Math.cos(Math.PI * t / total)) / 2;
    }

    private static void requirePositive(double lr) {
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("learning rate must be finite and > 0, got " + lr);
        }
    }
}
