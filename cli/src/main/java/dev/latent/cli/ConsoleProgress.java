package dev.latent.cli;

import dev.latent.train.EpochResult;
import dev.latent.train.History;
import dev.latent.train.TrainingListener;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Training progress on stderr: on a terminal, one line redrawn in place (epoch, batch, loss,
 * samples/s); otherwise (CI, a pipe) one plain line per epoch.
 */
final class ConsoleProgress implements TrainingListener {

    private final String label;
    private final PrintStream err = System.err;
    private final boolean tty = System.console() != null && System.console().isTerminal();
    private int epochs;
    private int batches;
    private long lastDraw;

    ConsoleProgress(String label) {
        this.label = label;
    }

    @Override
    public void onStart(int firstEpoch, int epochs, int batchesPerEpoch, int samplesPerEpoch) {
        this.epochs = epochs;
        this.batches = batchesPerEpoch;
        err.printf(Locale.ROOT, "%s: %d epochs of %d samples in %d batches%n", label, epochs - firstEpoch + 1,
                samplesPerEpoch, batchesPerEpoch);
    }

    @Override
    public void onBatch(int epoch, int batch, double meanLoss, double samplesPerSecond) {
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
        if (tty) {
            err.print("\r\033[K");
        }
        err.printf(Locale.ROOT, "%s epoch %d/%d  loss %.4f%s  %.1fs  %,.0f samples/s%n", label, r.epoch(), epochs,
                r.trainLoss(), Double.isNaN(r.valLoss()) ? "" : String.format(Locale.ROOT, "  validation %.4f", r.valLoss()),
                r.seconds(), r.samplesPerSecond());
    }

    @Override
    public void onEnd(History history) {
        if (history.stoppedEarly()) {
            err.printf("%s: stopped early after epoch %d (no improvement)%n", label, history.last().epoch());
        }
    }
}
