package dev.latent.cli;

import dev.latent.train.EpochResult;
import dev.latent.train.History;
import dev.latent.train.TrainingListener;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Training progress on stderr: on a terminal, one line redrawn in place (epoch, batch, loss,
 * samples/s); otherwise (CI, a pipe) one plain line per epoch. Each epoch line ends with the elapsed
 * time and an ETA: of this model's training, and of the whole run when a {@link Run} is shared by its
 * phases (the demo trains three models in a row). It also tells {@link Interruption} where the run is,
 * for the line a signal prints.
 */
final class ConsoleProgress implements TrainingListener {

    /**
     * The training work of a whole run, in sample-epochs planned ({@code plan}) and done, so the ETA of
     * the run is its elapsed time scaled by the work left (later phases at the rate seen so far).
     */
    static final class Run {
        private final long start = System.nanoTime();
        private final double plan;
        private double done;

        Run(double plannedSampleEpochs) {
            this.plan = plannedSampleEpochs;
        }

        String status(double addedSampleEpochs) {
            done += addedSampleEpochs;
            double elapsed = (System.nanoTime() - start) * 1e-9;
            double eta = done >= plan || done == 0 ? 0 : elapsed * (plan - done) / done;
            return "  run: " + duration(elapsed) + " elapsed, ETA " + duration(eta);
        }
    }

    private final String label;
    private final Run run;
    private final PrintStream err = System.err;
    private final boolean tty = System.console() != null && System.console().isTerminal();
    private int firstEpoch;
    private int epochs;
    private int batches;
    private int samples;
    private long lastDraw;
    private long start;

    ConsoleProgress(String label) {
        this(label, null);
    }

    ConsoleProgress(String label, Run run) {
        this.label = label;
        this.run = run;
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s < 60 ? s + "s" : s < 3600 ? (s / 60) + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s"
                : (s / 3600) + "h" + String.format(Locale.ROOT, "%02d", s / 60 % 60) + "m";
    }

    @Override
    public void onStart(int firstEpoch, int epochs, int batchesPerEpoch, int samplesPerEpoch) {
        this.firstEpoch = firstEpoch;
        this.epochs = epochs;
        this.batches = batchesPerEpoch;
        this.samples = samplesPerEpoch;
        this.start = System.nanoTime();
        Interruption.progress(label, firstEpoch, epochs, 0, batchesPerEpoch);
        err.printf(Locale.ROOT, "%s: %d epochs of %d samples in %d batches%n", label, epochs - firstEpoch + 1,
                samplesPerEpoch, batchesPerEpoch);
    }

    @Override
    public void onBatch(int epoch, int batch, double meanLoss, double samplesPerSecond) {
        Interruption.progress(label, epoch, epochs, batch, batches);
        if (!tty) {
            return;
        }
        long now = System.nanoTime();
        if (now - lastDraw < 100_000_000L && batch != batches) {
            return;
        }
        lastDraw = now;
        int width = 24;
        int done = (int) ((long) width * batch / batches);
        err.printf(Locale.ROOT, "\r%s epoch %d/%d [%s%s] loss %.4f  %,.0f samples/s ", label, epoch, epochs,
                "=".repeat(done), " ".repeat(width - done), meanLoss, samplesPerSecond);
        err.flush();
    }

    @Override
    public void onEpoch(EpochResult r) {
        Interruption.epochDone();
        if (tty) {
            err.print("\r\033[K");
        }
        double elapsed = (System.nanoTime() - start) * 1e-9;
        int done = r.epoch() - firstEpoch + 1;
        double eta = elapsed / done * (epochs - r.epoch());
        err.printf(Locale.ROOT, "%s epoch %d/%d  loss %.4f%s  %.1fs  %,.0f samples/s  %s elapsed, ETA %s%s%n", label, r.epoch(), epochs,
                r.trainLoss(), Double.isNaN(r.valLoss()) ? "" : String.format(Locale.ROOT, "  validation %.4f", r.valLoss()),
                r.seconds(), r.samplesPerSecond(), duration(elapsed), duration(eta), run == null ? "" : run.status(samples));
    }

    @Override
    public void onEnd(History history) {
        if (history.stoppedEarly()) {
            err.printf("%s: stopped early after epoch %d (no improvement)%n", label, history.last().epoch());
        }
    }
}
