package dev.latent.train;

/**
 * One epoch's numbers. {@code trainLoss} is the mean objective over the epoch's batches (data loss +
 * penalties + weight decay); {@code valLoss} the data loss on the validation set (NaN without one).
 */
public record EpochResult(int epoch, double trainLoss, double valLoss, double seconds, double samplesPerSecond,
                          boolean improved) {
}
