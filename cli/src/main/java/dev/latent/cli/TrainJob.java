package dev.latent.cli;

import java.io.PrintWriter;

/**
 * One model kind that {@code latent train --model NAME} can train: it reads the common options and its
 * own {@code --set key=value} hyperparameters, trains, writes its model file and pictures, and prints a
 * short summary. Register an implementation in {@link TrainCommand#JOBS}.
 */
interface TrainJob {

    /** The --model name. */
    String name();

    /** One line for --help. */
    String description();

    /** Whether this kind takes {@code --denoise} (input corruption in training). */
    default boolean denoises() {
        return false;
    }

    /** Trains; returns the exit code. */
    int run(TrainCommand.Options options, PrintWriter out) throws Exception;
}
