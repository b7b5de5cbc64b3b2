package dev.latent.eval;

import dev.latent.model.Classifier;
import dev.latent.model.gan.Gan;
import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;

/**
 * The few-label protocol with a trained discriminator as the feature extractor: for each label budget
 * n (per class) and draw, a softmax classifier ({@link Classifier.Settings#softmax()}) trains on n
 * labelled pool examples per class and is scored on the held-out test rows, once on D's features
 * ({@link Gan#discriminatorFeatures}, standardized per feature with the pool's mean and standard
 * deviation) and once on raw pixels (the baseline). The GAN should have seen only pool images.
 */
public final class GanFewLabel {

    private GanFewLabel() {
    }

    /** Results for "gan-d" and "pixels" at every budget, {@code draws} draws each. */
    public static List<FewLabel.Result> run(Gan gan, Tensor images01, int[] labels, FewLabel.Split split, int[] budgets,
                                            int draws, long seed, Kernels kernels) {
        int classes = java.util.Arrays.stream(labels).max().orElse(-1) + 1;
        List<FewLabel.Result> out = new ArrayList<>();
        try (Workspace ws = new Workspace("gan-fewlabel")) {
            Tensor features = gan.discriminatorFeatures(images01, ws);
            standardize(features, split.pool());
            int[] testLabels = pick(labels, split.test());
            Tensor dTest = rows(features, split.test(), ws);
            Tensor pTest = rows(images01, split.test(), ws);
            for (int n : budgets) {
                double[] dAcc = new double[draws];
                double[] pAcc = new double[draws];
                for (int r = 0; r < draws; r++) {
                    long s = seed * 1_000L + n * 17L + r;
                    int[] chosen = FewLabel.draw(labels, split.pool(), n, s);
                    int[] y = pick(labels, chosen);
                    try (Workspace w = new Workspace("draw")) {
                        try (Classifier c = Classifier.train(rows(features, chosen, w), y, classes, Classifier.Settings.softmax(), s, kernels)) {
                            dAcc[r] = c.accuracy(dTest, testLabels);
                        }
                        try (Classifier c = Classifier.train(rows(images01, chosen, w), y, classes, Classifier.Settings.softmax(), s, kernels)) {
                            pAcc[r] = c.accuracy(pTest, testLabels);
                        }
                    }
                }
                out.add(new FewLabel.Result("gan-d", n, dAcc));
                out.add(new FewLabel.Result("pixels", n, pAcc));
            }
        }
        return out;
    }

    /** Per-column z-score with the statistics of the given rows (std floored at 1e-6). */
    static void standardize(Tensor x, int[] statRows) {
        int d = x.rowSize();
        int n = x.dim(0);
        for (int j = 0; j < d; j++) {
            double s = 0;
            double s2 = 0;
            for (int i : statRows) {
                double v = x.get((long) i * d + j);
                s += v;
                s2 += v * v;
            }
            double mean = s / statRows.length;
            double std = Math.sqrt(Math.max(s2 / statRows.length - mean * mean, 0));
            float inv = (float) (1 / Math.max(std, 1e-6));
            for (int i = 0; i < n; i++) {
                long at = (long) i * d + j;
                x.set(at, (float) ((x.get(at) - mean) * inv));
            }
        }
    }

    private static Tensor rows(Tensor x, int[] index, Workspace ws) {
        int d = x.rowSize();
        Tensor out = ws.allocate(index.length, d);
        for (int i = 0; i < index.length; i++) {
            out.row(i).copyFrom(x.row(index[i]));
        }
        return out;
    }

    private static int[] pick(int[] labels, int[] index) {
        int[] out = new int[index.length];
        for (int i = 0; i < index.length; i++) {
            out[i] = labels[index[i]];
        }
        return out;
    }
}
