package dev.latent.cli;

import dev.latent.model.Hyperparameters;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/**
 * One model kind that {@code latent train --kind NAME} can train: it reads the common options and its
 * own {@code --set key=value} hyperparameters (its model's declared keys, the ones its model file's
 * config stores, plus the job's own), trains, writes its model file and pictures, and prints a short
 * summary. Register an implementation in {@link TrainCommand#JOBS}.
 */
interface TrainJob {

    /** The --kind name. */
    String name();

    /** The kind its model file declares ({@code __metadata__.kind}); the --model name unless it differs. */
    default String kind() {
        return name();
    }

    /** One line for --help. */
    String description();

    /** The {@code --set} keys: parsed and checked before {@link #run}, listed by {@code train --help}. */
    Hyperparameters hyperparameters();

    /** Whether this kind takes {@code --denoise} (input corruption in training). */
    default boolean denoises() {
        return false;
    }

    /**
     * The files this kind writes in {@code --out} beside report.html, for {@code train --help}: names, a
     * pattern such as {@code samples-epoch-NNN.png}, and a condition in brackets (e.g. "(with labels)").
     */
    List<String> writes();

    /**
     * Whether this kind writes {@code --out}/checkpoint.safetensors after every epoch and continues from it
     * with {@code --resume} (the other kinds refuse {@code --resume}).
     */
    default boolean checkpoints() {
        return false;
    }

    /**
     * A small instance of this kind for {@code latent tour}, which trains it as {@code latent train} does
     * with these options: a few epochs, small widths, fewer patches, all through the kind's own
     * {@code --set} keys. The default, for a kind that names none: one epoch of its defaults.
     */
    default Tour tour() {
        return new Tour(1, 128, Map.of(), 30);
    }

    /**
     * The options of a kind's tour run: {@code --epochs}, {@code --batch}, the {@code --set} values, and
     * about how many seconds it takes on two shared cores (the tour's ETA weighs the kinds by it).
     */
    record Tour(int epochs, int batch, Map<String, String> set, double seconds) {
    }

    /** Trains; returns the exit code. */
    int run(TrainCommand.Options options, PrintWriter out) throws Exception;
}
