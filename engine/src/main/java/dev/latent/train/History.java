package dev.latent.train;

import java.util.List;

/** Every epoch's result, in order; {@code stoppedEarly} when patience ran out. */
public record History(List<EpochResult> epochs, boolean stoppedEarly) {

    public History {
        epochs = List.copyOf(epochs);
    }

    public EpochResult last() {
        return epochs.getLast();
    }

    /** The lowest validation loss seen (or training loss when there was no validation set). */
    public double best() {
        return epochs.stream().mapToDouble(e -> Double.isNaN(e.valLoss()) ? e.trainLoss() : e.valLoss()).min().orElse(Double.NaN);
    }
}
