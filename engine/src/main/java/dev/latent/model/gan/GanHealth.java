package dev.latent.model.gan;

import dev.latent.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Detects the known ways GAN training fails, from one epoch's numbers:
 * <ul>
 *   <li><b>non-finite</b>: a loss is NaN or infinite: always fatal;
 *   <li><b>discriminator collapse</b>: D's loss below {@code dLossFloor} (D separates real from fake
 *       almost perfectly) while G's loss exceeds {@code gLossCeiling} and grew since the previous epoch:
 *       G's gradient vanishes and it stops learning; fatal after {@code patience} epochs in a row;
 *   <li><b>samples alike</b> (mode collapse): the spread of the fixed-noise samples, mean over pixels of
 *       the standard deviation across samples, below {@code minDiversity} times that of real images;
 *       fatal after {@code patience} epochs in a row.
 * </ul>
 */
public final class GanHealth {

    /** A finding: a human-readable message, and whether training should stop. */
    public record Finding(String kind, String message, boolean fatal) {
    }

    private final double dLossFloor;
    private final double gLossCeiling;
    private final double minDiversity;
    private final int patience;
    private double previousG = Double.NaN;
    private int collapseRun;
    private int alikeRun;

    public GanHealth(double dLossFloor, double gLossCeiling, double minDiversity, int patience) {
        this.dLossFloor = dLossFloor;
        this.gLossCeiling = gLossCeiling;
        this.minDiversity = minDiversity;
        this.patience = patience;
    }

    /** D loss &lt; 0.05 with G loss &gt; 5 and rising; diversity &lt; 0.2 of real; stop after 3 epochs in a row. */
    public static GanHealth standard() {
        return new GanHealth(0.05, 5.0, 0.2, 3);
    }

    /** Checks one epoch; {@code diversity} is the samples' spread relative to real images (NaN if unknown). */
    public List<Finding> check(int epoch, double dLoss, double gLoss, double diversity) {
        List<Finding> out = new ArrayList<>();
        if (!Double.isFinite(dLoss) || !Double.isFinite(gLoss)) {
            out.add(new Finding("non_finite", String.format(Locale.ROOT,
                    "epoch %d: non-finite loss (D %s, G %s): training diverged; lower the learning rate", epoch, dLoss, gLoss), true));
            return out;
        }
        boolean collapse = dLoss < dLossFloor && gLoss > gLossCeiling && !(gLoss <= previousG);
        collapseRun = collapse ? collapseRun + 1 : 0;
        if (collapse) {
            out.add(new Finding("discriminator_collapse", String.format(Locale.ROOT,
                    "epoch %d: D loss %.4f ~ 0 while G loss %.2f grows (was %.2f): D wins and G gets no useful gradient"
                            + " (try a lower D learning rate, k=1, or the non-saturating G loss)", epoch, dLoss, gLoss, previousG),
                    collapseRun >= patience));
        }
        previousG = gLoss;
        boolean alike = Double.isFinite(diversity) && diversity < minDiversity;
        alikeRun = alike ? alikeRun + 1 : 0;
        if (alike) {
            out.add(new Finding("samples_alike", String.format(Locale.ROOT,
                    "epoch %d: generated samples are nearly all alike (spread %.3f of real images' spread < %.2f): mode collapse",
                    epoch, diversity, minDiversity), alikeRun >= patience));
        }
        return out;
    }

    /** Mean over features of the standard deviation across rows of x (N, d), in double. */
    public static double spread(Tensor x) {
        int n = x.dim(0);
        int d = x.rowSize();
        double total = 0;
        for (int j = 0; j < d; j++) {
            double s = 0;
            double s2 = 0;
            for (int i = 0; i < n; i++) {
                double v = x.get((long) i * d + j);
                s += v;
                s2 += v * v;
            }
            double mean = s / n;
            total += Math.sqrt(Math.max(0, s2 / n - mean * mean));
        }
        return total / d;
    }
}
