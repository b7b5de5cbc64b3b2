package dev.latent.eval;

import dev.latent.data.Dataset;
import dev.latent.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The few-label protocol. A labelled data set is split once (stratified, seeded) into a pool and a
 * held-out test set. Every pool image is unlabeled data for the unsupervised learners; for each label
 * budget n (per class) and each draw seed, n labelled examples per class are drawn from the pool and a
 * method trains on them; it is scored on the test set. Results are mean and standard deviation of
 * test accuracy over the draws.
 */
public final class FewLabel {

    /** The per-class draws of one (n, seed): indices into the pool. */
    public record Split(int[] pool, int[] test) {
    }

    /** One method's accuracy at one label budget over all draws. */
    public record Result(String method, int labelsPerClass, double[] accuracies) {
        public double mean() {
            return Arrays.stream(accuracies).average().orElse(Double.NaN);
        }

        /** Sample standard deviation (n - 1), 0 for a single draw. */
        public double std() {
            if (accuracies.length < 2) {
                return 0;
            }
            double m = mean();
            double s = 0;
            for (double a : accuracies) {
                s += (a - m) * (a - m);
            }
            return Math.sqrt(s / (accuracies.length - 1));
        }
    }

    private FewLabel() {
    }

    /**
     * Stratified split: in every class, a seeded shuffle puts round(testFraction * count) examples in
     * the test set and the rest in the pool.
     */
    public static Split split(int[] labels, double testFraction, long seed) {
        if (!(testFraction > 0 && testFraction < 1)) {
            throw new IllegalArgumentException("test fraction must be in (0, 1), got " + testFraction);
        }
        int classes = Arrays.stream(labels).max().orElse(-1) + 1;
        List<Integer> pool = new ArrayList<>();
        List<Integer> test = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            int[] members = members(labels, c);
            shuffle(members, new SplittableRandom(seed * 1_000_003L + c));
            int t = (int) Math.round(testFraction * members.length);
            for (int i = 0; i < members.length; i++) {
                (i < t ? test : pool).add(members[i]);
            }
        }
        return new Split(pool.stream().mapToInt(Integer::intValue).sorted().toArray(),
                test.stream().mapToInt(Integer::intValue).sorted().toArray());
    }

    /** n examples of every class drawn from {@code candidates} (indices into labels), seeded. */
    public static int[] draw(int[] labels, int[] candidates, int perClass, long seed) {
        int classes = Arrays.stream(labels).max().orElse(-1) + 1;
        List<Integer> out = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            int cls = c;
            int[] members = Arrays.stream(candidates).filter(i -> labels[i] == cls).toArray();
            if (members.length < perClass) {
                throw new IllegalArgumentException("class " + c + " has only " + members.length + " pool examples, "
                        + perClass + " requested");
            }
            shuffle(members, new SplittableRandom(seed * 7_919L + 31L * c + 1));
            for (int i = 0; i < perClass; i++) {
                out.add(members[i]);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Labels of the given rows. */
    public static int[] labelsOf(Dataset d, int[] rows) {
        int[] out = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            out[i] = d.label(rows[i]);
        }
        return out;
    }

    private static int[] members(int[] labels, int c) {
        return java.util.stream.IntStream.range(0, labels.length).filter(i -> labels[i] == c).toArray();
    }

    private static void shuffle(int[] a, SplittableRandom r) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /**
     * z-scores both sets in place with the first set's column means and standard deviations, the
     * variance regularized by + 0.01 (Coates et al.'s scale): the first set is the unlabeled pool, so
     * no label is used. Softmax with a fixed step budget needs it for features of small magnitude
     * (sparse codes near rho = 0.1): on the demo's stacked-autoencoder codes, 400 Adam steps reach
     * 67.6% at 100 labels per class unstandardized and 82.7% standardized (3 draws), while the
     * sparse autoencoder's codes (91.7 / 91.5%) and raw pixels (87.8 / 86.9%) hardly move.
     */
    public static void standardize(Tensor train, Tensor other) {
        int n = train.dim(0);
        int d = train.rowSize();
        double[] mu = dev.latent.data.Whitening.mean(train);
        double[] var = new double[d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                double t = train.get((long) i * d + j) - mu[j];
                var[j] += t * t;
            }
        }
        float[] scale = new float[d];
        for (int j = 0; j < d; j++) {
            scale[j] = (float) (1 / Math.sqrt(var[j] / n + 0.01));
        }
        for (Tensor t : new Tensor[] {train, other}) {
            for (int i = 0; i < t.dim(0); i++) {
                for (int j = 0; j < d; j++) {
                    long at = (long) i * d + j;
                    t.set(at, (float) ((t.get(at) - mu[j]) * scale[j]));
                }
            }
        }
    }
}
