package dev.latent.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The one line a run prints on stderr when SIGINT (Ctrl-C) or SIGTERM stops it: where it stopped (the
 * model being trained, the epoch and batch), what the checkpoint on disk holds, and the exact command
 * that continues from it ({@code --resume}), or that there is no checkpoint and the command to run again:
 *
 * <pre>
 * latent train: stopped by a signal (SIGINT or SIGTERM) in autoencoder epoch 3/20, batch 40/79;
 *   out/checkpoint.safetensors holds epoch 2; resume with: ./latent train --model autoencoder --resume
 * </pre>
 * (one line). {@link Main#main} installs it as a shutdown hook around the command; training progress
 * ({@link ConsoleProgress}, the GAN's) reports here as it goes, and {@code train} names the checkpoint of
 * the kinds that write one. The checkpoint needs nothing from the hook: it is written atomically after
 * every epoch, so a signal leaves the previous one or the new one, whole. {@link Main#run} (the tests'
 * entry point) installs nothing; its callers see no hook.
 */
final class Interruption {

    private static volatile List<String> args;
    private static volatile boolean running;
    private static volatile String stage;
    private static volatile int epoch;
    private static volatile int epochs;
    private static volatile int batch;
    private static volatile int batches;
    private static volatile Path checkpoint;
    private static volatile boolean resuming;
    private static volatile boolean epochFinished;
    private static volatile boolean resumable = true;

    private Interruption() {
    }

    /** Installs the hook for a command line that is about to run. */
    static void install(String[] commandLine) {
        args = List.of(commandLine);
        running = true;
        Runtime.getRuntime().addShutdownHook(new Thread(Interruption::print, "latent-interrupted"));
    }

    /** The command returned: an exit from now on is not an interruption. */
    static void finished() {
        running = false;
    }

    /** Training progress: {@code what} is in epoch {@code e} of {@code of}, batch {@code b} of {@code bs} (0 when unknown). */
    static void progress(String what, int e, int of, int b, int bs) {
        stage = what;
        epoch = e;
        epochs = of;
        batch = b;
        batches = bs;
    }

    /** An epoch finished (its checkpoint, if the run keeps one, is on disk). */
    static void epochDone() {
        epochFinished = true;
    }

    /**
     * The run checkpoints to {@code file} after every epoch and continues from it with {@code --resume};
     * {@code resume}: this run itself continues from the file (else a file there before its first epoch
     * is an older run's, not one to resume).
     */
    static void checkpointsTo(Path file, boolean resume) {
        if (!resumable) {
            return;
        }
        checkpoint = file;
        resuming = resume;
    }

    /**
     * Whether {@link #checkpointsTo} is heeded. A command that runs several trainings in a row
     * ({@code latent tour}) has no {@code --resume}: while it is off, the line a signal prints names no
     * checkpoint and says to run the command again.
     */
    static void resumable(boolean heeded) {
        resumable = heeded;
        if (!heeded) {
            checkpoint = null;
            resuming = false;
        }
    }

    private static void print() {
        if (!running || args == null) {
            return;
        }
        PrintStream err = System.err;
        if (System.console() != null && System.console().isTerminal()) {
            err.print("\r\033[K"); // over a progress bar drawn in place
        }
        err.println(line(args, stage, epoch, epochs, batch, batches, checkpoint, resuming || epochFinished, launcher()));
        err.flush();
    }

    /**
     * The line for a run of {@code commandLine} stopped at the given progress (see the class comment);
     * {@code ours}: a checkpoint at {@code ckpt} belongs to this run (it resumed, or finished an epoch).
     */
    static String line(List<String> commandLine, String what, int e, int of, int b, int bs, Path ckpt, boolean ours, String launcher) {
        String command = commandLine.stream().filter(a -> !a.startsWith("-")).findFirst().orElse("");
        StringBuilder s = new StringBuilder("latent ").append(command).append(": stopped by a signal (SIGINT or SIGTERM)");
        if (what != null) {
            s.append(" in ").append(what).append(String.format(Locale.ROOT, " epoch %d/%d", e, of));
            if (b > 0) {
                s.append(bs > 0 ? String.format(Locale.ROOT, ", batch %d/%d", b, bs) : ", batch " + b);
            }
        }
        if (ckpt == null) {
            return s.append("; this command keeps no checkpoint, so its work is lost (the files it finished are whole);"
                    + " run it again with: ").append(shell(launcher, commandLine)).toString();
        }
        List<String> resume = new ArrayList<>(commandLine);
        if (!resume.contains("--resume")) {
            resume.add("--resume");
        }
        String held = ours ? checkpointEpoch(ckpt) : null;
        if (held == null) {
            return s.append("; no checkpoint of this run yet (").append(ckpt).append(" is written after each epoch); run it again with: ")
                    .append(shell(launcher, commandLine)).toString();
        }
        return s.append("; ").append(ckpt).append(" holds epoch ").append(held).append("; resume with: ")
                .append(shell(launcher, resume)).toString();
    }

    /** The epoch the checkpoint holds, or null when there is none (or it cannot be read now). */
    private static String checkpointEpoch(Path ckpt) {
        if (!Files.isRegularFile(ckpt)) {
            return null;
        }
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            return dev.latent.io.SafeTensors.read(ckpt, a).metadata().get("epoch");
        } catch (java.io.IOException | RuntimeException unreadable) {
            return null;
        }
    }

    /** How the user started latent: ./latent (or its path) when run by the script, else latent. */
    private static String launcher() {
        String home = System.getProperty("latent.home");
        if (home == null || home.isBlank()) {
            return "latent";
        }
        Path script = Path.of(home).toAbsolutePath().normalize();
        return script.equals(Path.of("").toAbsolutePath().normalize()) ? "./latent" : script.resolve("latent").toString();
    }

    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./=:,+@%-]+");

    /** The command line as a shell would need it typed: each argument quoted unless it is plain. */
    static String shell(String launcher, List<String> commandLine) {
        StringBuilder s = new StringBuilder(launcher);
        for (String a : commandLine) {
            s.append(' ').append(PLAIN.matcher(a).matches() ? a : "'" + a.replace("'", "'\\''") + "'");
        }
        return s.toString();
    }
}
