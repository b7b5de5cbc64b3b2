package dev.latent.eval;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.data.Dataset;
import dev.latent.kernel.Kernels;
import dev.latent.model.Classifier;
import dev.latent.model.FeatureExtractor;
import dev.latent.model.JointClassifier;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * The few-label protocol, the one every table of latent uses (demo, fewlabel, the k-means and DCGAN
 * jobs). A labelled data set is split once (stratified, seeded: {@link #split}) into a pool and a
 * held-out test set. Every pool image is unlabeled data for the unsupervised learners. For each label
 * budget n (per class) and draw d, n labelled examples per class are drawn from the whole pool with
 * seed {@link #drawSeed}(n, d); every method of the table trains on the same draw (its head seeded with
 * {@link #headSeed}(n, d)) and is scored on the whole test set. Frozen features are standardized with
 * the pool's column statistics ({@link #standardize}, no label used) and read by the logistic head
 * ({@link LogisticHead}: multinomial logistic regression trained to convergence, its L2 strength chosen by
 * cross-validation on the draw alone); the MLP baseline's weight decay is chosen the same way ({@link #mlp}). The joint-loss
 * MLP ({@link #joint}) also reads every pool image as unlabeled data, its reconstruction weight chosen the same way. Results ({@link Result}: mean and sample standard deviation
 * of test accuracy over the draws) print as one table ({@link #printTable}) and one JSON schema
 * ({@link #json}: name, labels_per_class, accuracy_mean, accuracy_std, accuracies).
 */
public final class FewLabel {

    /** One labelled draw: {@code rows} index the pool, {@code labels} are theirs, {@code seed} seeds the head. */
    public record Draw(int labelsPerClass, int index, int[] rows, int[] labels, long seed) {
    }

    /** A row of the table: trains on a draw and returns its test accuracy. */
    @FunctionalInterface
    public interface Method {
        double accuracy(Draw draw);
    }

    /** A method with its row name and a short name for progress lines. */
    public record Row(String name, String shortName, Method method) {
    }

    /** The per-class draws of one (n, seed): indices into the pool. */
    public record Split(int[] pool, int[] test) {
    }

    /** One method's accuracy at one label budget over all draws. */
    public record Result(String name, int labelsPerClass, double[] accuracies) {
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

    /** The seed of draw d at n labels per class. */
    public static long drawSeed(int labelsPerClass, int d) {
        return 1000L * labelsPerClass + d;
    }

    /** The seed of the heads trained on draw d at n labels per class. */
    public static long headSeed(int labelsPerClass, int d) {
        return 17L * d + labelsPerClass;
    }

    /**
     * Runs every row on the same draws: for each budget n and draw d, {@code n} labelled pool rows per
     * class ({@link #draw} from all of the pool with {@link #drawSeed}); {@code progress} gets one line per
     * draw. Results are in the order budgets x rows.
     */
    public static List<Result> run(int[] poolLabels, int[] budgets, int draws, List<Row> rows, Consumer<String> progress) {
        if (draws < 1) {
            throw new IllegalArgumentException("draws must be >= 1, got " + draws);
        }
        int[] all = IntStream.range(0, poolLabels.length).toArray();
        List<Result> out = new ArrayList<>();
        for (int n : budgets) {
            if (n < 1) {
                throw new IllegalArgumentException("labels per class must be >= 1, got " + n);
            }
            double[][] acc = new double[rows.size()][draws];
            for (int d = 0; d < draws; d++) {
                int[] chosen = draw(poolLabels, all, n, drawSeed(n, d));
                int[] y = new int[chosen.length];
                for (int i = 0; i < chosen.length; i++) {
                    y[i] = poolLabels[chosen[i]];
                }
                Draw draw = new Draw(n, d, chosen, y, headSeed(n, d));
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "few-label: %d labels/class, draw %d/%d:", n, d + 1, draws));
                for (int m = 0; m < rows.size(); m++) {
                    acc[m][d] = rows.get(m).method().accuracy(draw);
                    if (!Double.isFinite(acc[m][d])) {
                        throw new IllegalStateException(rows.get(m).name() + ": accuracy " + acc[m][d] + " at " + n + " labels/class, draw " + d);
                    }
                    line.append(String.format(Locale.ROOT, "  %s %.3f", rows.get(m).shortName(), acc[m][d]));
                }
                progress.accept(line.toString());
            }
            for (int m = 0; m < rows.size(); m++) {
                out.add(new Result(rows.get(m).name(), n, acc[m]));
            }
        }
        return out;
    }

    /**
     * The logistic head ({@link LogisticHead}, lambda cross-validated on the draw alone, folds seeded with
     * the draw's seed) trained on the drawn rows of {@code pool} (pool size x d) and scored on {@code test}
     * (rows of d with testLabels). Features are used as they are: standardize them first ({@link #frozen}).
     */
    public static Method head(Tensor pool, Tensor test, int[] testLabels, int classes, Kernels kernels) {
        return head(pool, test, testLabels, classes, LogisticHead.Settings.defaults(), kernels);
    }

    /** As {@link #head(Tensor, Tensor, int[], int, Kernels)} with head settings {@code s}. */
    public static Method head(Tensor pool, Tensor test, int[] testLabels, int classes, LogisticHead.Settings s, Kernels kernels) {
        checkShapes(pool, test, testLabels);
        return draw -> fit(pool, draw, classes, s, kernels).accuracy(test, testLabels, kernels);
    }

    /**
     * The logistic head of a draw: trained on the drawn rows of {@code pool} and the draw's labels only,
     * lambda cross-validated on them with folds seeded by the draw's seed.
     */
    public static LogisticHead.Fit fit(Tensor pool, Draw draw, int classes, LogisticHead.Settings s, Kernels kernels) {
        try (Workspace ws = new Workspace("few-label-draw")) {
            Tensor x = gather(pool, draw.rows(), ws);
            return LogisticHead.train(x, draw.labels(), classes, s, draw.seed(), kernels);
        }
    }

    /**
     * Frozen features: standardizes {@code poolFeatures} and {@code testFeatures} in place with the
     * pool's statistics ({@link #standardize}) and returns the logistic head on them.
     */
    public static Method frozen(Tensor poolFeatures, Tensor testFeatures, int[] testLabels, int classes, Kernels kernels) {
        standardize(poolFeatures, testFeatures);
        return head(poolFeatures, testFeatures, testLabels, classes, kernels);
    }

    /**
     * Raw pixels (or any input left untouched): standardized copies in {@code ws} ({@link #standardize}),
     * read by the logistic head like any frozen features.
     */
    public static Method pixels(Tensor poolImages, Tensor testImages, int[] testLabels, int classes, Kernels kernels, Workspace ws) {
        Tensor p = ws.allocate(poolImages.dim(0), poolImages.rowSize());
        Tensor t = ws.allocate(testImages.dim(0), testImages.rowSize());
        p.copyFrom(poolImages.reshape(poolImages.dim(0), poolImages.rowSize()));
        t.copyFrom(testImages.reshape(testImages.dim(0), testImages.rowSize()));
        return frozen(p, t, testLabels, classes, kernels);
    }

    /**
     * Weight decays of the MLP baseline, strongest first, cross-validated like the logistic head's lambda;
     * the last (1e-4, the old fixed value) at 1 label per class.
     */
    public static final double[] MLP_DECAYS = {1e-3, 1e-4};

    /**
     * Folds of the MLP's cross-validation: min(3, labels per class). Each MLP fit is 400 Adam steps
     * whatever the draw's size, so 5 folds x 3 decays (16 fits a draw) made one draw of 100 labels per
     * class cost about a minute on 2 cores; 3 folds x 2 decays (7 fits) keep the demo affordable.
     */
    public static final int MLP_FOLDS = 3;

    /**
     * Backprop alone: an MLP ({@code s}, its weight decay replaced) trained on the drawn rows of
     * {@code pool} as they are and scored on {@code test}; the weight decay is chosen from
     * {@link #MLP_DECAYS} by the same stratified k-fold cross-validation on the draw alone
     * ({@link CrossValidation}, k = {@link #MLP_FOLDS} = min(3, labels per class), folds seeded with the
     * draw's seed).
     */
    public static Method mlp(Tensor pool, Tensor test, int[] testLabels, int classes, Classifier.Settings s, Kernels kernels) {
        checkShapes(pool, test, testLabels);
        return draw -> {
            try (Workspace ws = new Workspace("few-label-draw")) {
                Tensor x = gather(pool, draw.rows(), ws);
                double decay = mlpDecay(x, draw, classes, s, kernels);
                try (Classifier c = Classifier.train(x, draw.labels(), classes, withDecay(s, decay), draw.seed(), kernels)) {
                    return c.accuracy(test, testLabels);
                }
            }
        };
    }

    /** The MLP's weight decay for a draw (x its rows): {@link #chooseDecay} over {@link #MLP_DECAYS}, as {@link #mlp} and {@link #joint} use it. */
    private static double mlpDecay(Tensor x, Draw draw, int classes, Classifier.Settings s, Kernels kernels) {
        return chooseDecay(x, draw.labels(), classes, draw.labelsPerClass(), MLP_DECAYS, s, draw.seed(), kernels,
                (settings, xt, yt) -> Classifier.train(xt, yt, classes, settings, draw.seed(), kernels));
    }

    /** Trains a classifier of given settings on (x, labels): the fits {@link #chooseDecay} cross-validates. */
    @FunctionalInterface
    public interface Trainable {
        Classifier train(Classifier.Settings s, Tensor x, int[] labels);
    }

    /**
     * The weight decay of {@code decays} (strongest first) of best pooled held-out accuracy over the
     * min({@link #MLP_FOLDS}, labels per class) stratified folds of the draw (x, labels) alone ({@link #choose});
     * the last value when there are fewer than 2 labels per class.
     */
    public static double chooseDecay(Tensor x, int[] labels, int classes, int labelsPerClass, double[] decays,
                                     Classifier.Settings s, long seed, Kernels kernels, Trainable trainer) {
        return choose(x, labels, labelsPerClass, decays, decays[decays.length - 1], seed, (decay, xt, yt, xh) -> {
            try (Classifier m = trainer.train(withDecay(s, decay), xt, yt)) {
                return m.predict(xh);
            }
        });
    }

    /** Fits a model with one grid value on (xTrain, yTrain) and returns its predicted classes of the rows of xHeld. */
    @FunctionalInterface
    public interface GridFit {
        int[] predict(double value, Tensor xTrain, int[] yTrain, Tensor xHeld);
    }

    /**
     * The value of {@code grid} (strongest regularization first: ties go to the earlier value) of best
     * pooled held-out accuracy over k = min({@link #MLP_FOLDS}, {@link CrossValidation#foldsFor}(labels per
     * class)) stratified folds of the draw (x, labels) alone, folds seeded with {@code seed}
     * ({@link CrossValidation#choose}); {@code fallback} when k &lt; 2 (1 label per class). Each fold
     * fits every grid value once: k x grid fits.
     */
    public static double choose(Tensor x, int[] labels, int labelsPerClass, double[] grid, double fallback, long seed, GridFit fit) {
        int k = Math.min(MLP_FOLDS, CrossValidation.foldsFor(labelsPerClass));
        if (k < 2) {
            return fallback;
        }
        try (Workspace ws = new Workspace("grid-cv")) {
            CrossValidation.Choice c = CrossValidation.choose(labels, k, seed, grid.length, (train, held) -> {
                Tensor xt = gather(x, train, ws);
                Tensor xh = gather(x, held, ws);
                int[] yt = LogisticHead.pick(labels, train);
                int[] yh = LogisticHead.pick(labels, held);
                int[] right = new int[grid.length];
                for (int g = 0; g < grid.length; g++) {
                    right[g] = LogisticHead.rightAnswers(fit.predict(grid[g], xt, yt, xh), yh);
                }
                return right;
            });
            return grid[c.index()];
        }
    }

    /**
     * Reconstruction weights w of the joint loss ({@link JointClassifier}), strongest first. R is the
     * per-pixel mean squared error ({@code Mse.mean}); measured on the embedded digits (one draw of 10
     * labels per class, 784-196-10, 400 steps): R falls from 0.12 to 0.019 / 0.044 / 0.067 at w = 10 / 1 /
     * 0.1 while the draw's cross-entropy falls from 1.5 to 0.005. So w R at the end is 0.19 / 0.044 /
     * 0.007: from a term that dominates the fitted cross-entropy to one about equal to it, a decade
     * apart; a finer or wider grid costs k more fits of 400 steps per value.
     */
    public static final double[] JOINT_WEIGHTS = {10, 1, 0.1};

    /** The joint loss's weight at 1 label per class, where there are no folds: the middle of {@link #JOINT_WEIGHTS}. */
    public static final double JOINT_WEIGHT_ONE_LABEL = 1;

    /**
     * Backprop on the joint loss ({@link JointClassifier}: the MLP of {@code s} with a decoder from its
     * hidden layer, cross-entropy on the draw + w x reconstruction error on the draw and on unlabeled
     * batches from the whole pool). The rows of {@code pool} are all unlabeled data (no label is read,
     * as for every unsupervised row of the table); only the draw's rows carry labels. Weight decay is
     * the one {@link #mlp} chooses for the draw ({@link #chooseDecay} with the same folds, so the same
     * value); then w is chosen from {@link #JOINT_WEIGHTS} by the same cross-validation on the draw alone
     * ({@link #choose}; {@link #JOINT_WEIGHT_ONE_LABEL} at 1 label per class), and the model trained on the
     * whole draw is scored on {@code test}. Cost per draw with 2 or more labels per class: the MLP's
     * k x 2 decay fits plus k x 3 + 1 joint fits (k = min(3, labels per class)), each 400 steps.
     */
    public static Method joint(Tensor pool, Tensor test, int[] testLabels, int classes, Classifier.Settings s, Kernels kernels) {
        checkShapes(pool, test, testLabels);
        return draw -> {
            try (Workspace ws = new Workspace("few-label-draw")) {
                Tensor x = gather(pool, draw.rows(), ws);
                double decay = mlpDecay(x, draw, classes, s, kernels);
                Classifier.Settings sd = withDecay(s, decay);
                double w = choose(x, draw.labels(), draw.labelsPerClass(), JOINT_WEIGHTS, JOINT_WEIGHT_ONE_LABEL, draw.seed(),
                        (weight, xt, yt, xh) -> {
                            try (JointClassifier j = JointClassifier.train(xt, yt, pool, classes, sd, weight, draw.seed(), kernels)) {
                                return j.predict(xh);
                            }
                        });
                try (JointClassifier j = JointClassifier.train(x, draw.labels(), pool, classes, sd, w, draw.seed(), kernels)) {
                    return j.accuracy(test, testLabels);
                }
            }
        };
    }

    /** s with weight decay {@code decay}. */
    public static Classifier.Settings withDecay(Classifier.Settings s, double decay) {
        return new Classifier.Settings(s.hidden(), s.activation(), s.steps(), s.batch(), s.lr(), decay);
    }

    private static void checkShapes(Tensor pool, Tensor test, int[] testLabels) {
        if (test.dim(0) != testLabels.length || test.rowSize() != pool.rowSize()) {
            throw new IllegalArgumentException("head: pool rows of " + pool.rowSize() + ", test " + Tensor.format(test.shape())
                    + " with " + testLabels.length + " labels");
        }
    }

    /**
     * The features of a model (any kind, through the feature interface) of the pool and test images, in
     * tensors of {@code ws}, as {@link #frozen} features. The model's input shape must match the images'.
     */
    public static Method frozen(FeatureExtractor model, Tensor poolImages, Tensor testImages, int[] testLabels, int classes,
                                Kernels kernels, Workspace ws) {
        if (poolImages.rowSize() != model.inputSize()) {
            throw new dev.latent.io.BadInputException(model.kind() + " model reads inputs of shape " + Tensor.format(model.inputShape())
                    + " (" + model.inputSize() + " values), the images have " + poolImages.rowSize());
        }
        return frozen(model.features(poolImages, ws), model.features(testImages, ws), testLabels, classes, kernels);
    }

    /** Rows {@code rows} of src, copied into a new tensor of ws. */
    public static Tensor gather(Tensor src, int[] rows, Workspace ws) {
        Tensor t = ws.allocate(rows.length, src.rowSize());
        for (int i = 0; i < rows.length; i++) {
            t.row(i).copyFrom(src.row(rows[i]));
        }
        return t;
    }

    /** The table: one line per row name, one column per budget, accuracy in percent as mean +- std. */
    public static void printTable(PrintWriter out, List<Result> results) {
        List<Integer> ns = results.stream().map(Result::labelsPerClass).distinct().toList();
        List<String> names = results.stream().map(Result::name).distinct().toList();
        int w = names.stream().mapToInt(String::length).max().orElse(10);
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s", "test accuracy (mean +- std)"));
        for (int n : ns) {
            head.append(String.format(Locale.ROOT, "  %15s", n + " labels/class"));
        }
        out.println(head);
        for (String m : names) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s", m));
            for (int n : ns) {
                Result r = results.stream().filter(x -> x.name().equals(m) && x.labelsPerClass() == n).findFirst().orElseThrow();
                line.append(String.format(Locale.ROOT, "  %8.1f +- %4.1f", 100 * r.mean(), 100 * r.std()));
            }
            out.println(line);
        }
        out.flush();
    }

    /** The results as the one JSON schema: [{name, labels_per_class, accuracy_mean, accuracy_std, accuracies}]. */
    public static ArrayNode json(List<Result> results) {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        for (Result r : results) {
            ObjectNode o = a.addObject();
            o.put("name", r.name());
            o.put("labels_per_class", r.labelsPerClass());
            o.put("accuracy_mean", r.mean());
            o.put("accuracy_std", r.std());
            ArrayNode acc = o.putArray("accuracies");
            for (double v : r.accuracies()) {
                acc.add(v);
            }
        }
        return a;
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
     * no label is used. The logistic head's 1 / sqrt(d) scaling assumes unit-variance columns. Before it,
     * softmax with a fixed step budget needed it for features of small magnitude
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
