package dev.latent.train;

/** Receives progress from a {@link Trainer}: a progress bar, a log, a test. All methods are optional. */
public interface TrainingListener {

    /** Training starts (or resumes at {@code firstEpoch}, 1-based). */
    default void onStart(int firstEpoch, int epochs, int batchesPerEpoch, int samplesPerEpoch) {
    }

    /** A mini-batch finished: running mean loss of this epoch and throughput so far. */
    default void onBatch(int epoch, int batch, double meanLoss, double samplesPerSecond) {
    }

    /** An epoch finished. */
    default void onEpoch(EpochResult result) {
    }

    /** Training ended (all epochs, or early stopping). */
    default void onEnd(History history) {
    }

    TrainingListener NONE = new TrainingListener() {
    };
}
