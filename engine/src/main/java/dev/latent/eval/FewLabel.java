package dev.latent.eval;

import dev.latent.data.Dataset;
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
}
