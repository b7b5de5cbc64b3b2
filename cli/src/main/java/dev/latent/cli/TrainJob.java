package dev.latent.cli;

import dev.latent.model.Hyperparameters;
import java.io.PrintWriter;
import java.util.List;

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

    /** Trains; returns the exit code. */
    int run(TrainCommand.Options options, PrintWriter out) throws Exception;
}
