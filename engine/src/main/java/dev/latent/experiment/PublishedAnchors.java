package dev.latent.experiment;

import dev.latent.data.Dataset;
import dev.latent.data.SymmetricEigen;
import dev.latent.data.Whitening;
import dev.latent.model.Classifier;
import dev.latent.eval.FewLabel;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.loss.Mse;
import dev.latent.loss.SoftmaxCrossEntropy;
import dev.latent.loss.WeightDecay;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.model.autoencoder.StackedAutoencoder;
import dev.latent.model.rbm.DeepBelief;
import dev.latent.nn.Dense;
import dev.latent.nn.Sequential;
import dev.latent.optim.Lbfgs;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.FullBatch;
import dev.latent.train.History;
import dev.latent.train.Trainer;
import dev.latent.train.TrainingListener;
import java.io.IOException;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Published results that latent reproduces on the data at hand, each with the protocol of its
 * source, so that a user can set latent's number beside the paper's:
 * <ul>
 *   <li>UFLDL's self-taught learning exercise: a 196-unit sparse autoencoder (KL rho 0.1, beta 3,
 *       weight decay 3e-3, L-BFGS 400 iterations) learns features from the digits 5-9 only;
 *       softmax regression (weight decay 1e-4, L-BFGS 100 iterations) on those features classifies
 *       the digits 0-4, trained on one half of them and tested on the other; about 98% against
 *       about 96% for softmax on raw pixels;</li>
 *   <li>UFLDL's stacked autoencoder 784-200-200-10: 87.7% before fine-tuning, 97.6% after;</li>
 *   <li>Hinton &amp; Salakhutdinov (2006): the deep autoencoder 784-1000-500-250-30 reconstructs
 *       MNIST test digits with a squared error of 3.00 per image, against 13.87 for PCA with 30
 *       components.</li>
 * </ul>
 * Those numbers come from the full MNIST (60,000 training digits); here the experiments run on
 * whatever {@link Dataset} they are given, by default the embedded 10,000.
 */
public final class PublishedAnchors {

    private PublishedAnchors() {
    }

    /** Where long runs report progress. */
    public interface Reporter {
        /** A listener for an epoch-based training run. */
        TrainingListener training(String what);

        /** A callback for an L-BFGS run of {@code iterations} iterations (may return null). */
        Lbfgs.Progress lbfgs(String what, int iterations);

        Reporter QUIET = new Reporter() {
            @Override
            public TrainingListener training(String what) {
                return TrainingListener.NONE;
            }

            @Override
            public Lbfgs.Progress lbfgs(String what, int iterations) {
                return null;
            }
        };
    }

    /** UFLDL self-taught learning settings; {@link #ufldl()} is the exercise's. */
    public record SelfTaughtSettings(int hidden, double rho, double beta, double weightDecay, int autoencoderIterations,
                                     double softmaxWeightDecay, int softmaxIterations, long seed) {
        public static SelfTaughtSettings ufldl() {
            return new SelfTaughtSettings(196, 0.1, 3, 3e-3, 400, 1e-4, 100, 1);
        }

        public SelfTaughtSettings withIterations(int autoencoder, int softmax) {
            return new SelfTaughtSettings(hidden, rho, beta, weightDecay, autoencoder, softmaxWeightDecay, softmax, seed);
        }
    }

    /**
     * The self-taught result. {@code features} and {@code raw} are test accuracies; the autoencoder
     * is returned open (the caller closes it) so that its filters can be drawn.
     */
    public record SelfTaught(int unlabeled, int train, int test, double raw, double features, double autoencoderObjective,
                             Autoencoder autoencoder) implements AutoCloseable {
        @Override
        public void close() {
            autoencoder.close();
        }
    }

    /**
     * UFLDL's self-taught learning: the images with labels 5-9 are the unlabeled set; those with
     * labels 0-4 are split in data order into a training half and a test half.
     */
    public static SelfTaught selfTaught(Dataset digits, SelfTaughtSettings s, Kernels k, Reporter reporter) {
        if (!digits.hasLabels() || digits.classes() < 10) {
            throw new IllegalArgumentException("self-taught learning needs digits labeled 0-9; " + digits.name() + " has "
                    + digits.classes() + " classes");
        }
        int[] y = digits.labels();
        int[] unlabeledRows = IntStream.range(0, y.length).filter(i -> y[i] >= 5).toArray();
        int[] labeledRows = IntStream.range(0, y.length).filter(i -> y[i] < 5).toArray();
        int half = (labeledRows.length + 1) / 2;
        int[] trainRows = java.util.Arrays.copyOfRange(labeledRows, 0, half);
        int[] testRows = java.util.Arrays.copyOfRange(labeledRows, half, labeledRows.length);
        try (Dataset unlabeled = digits.subset("digits 5-9", unlabeledRows);
             Dataset train = digits.subset("digits 0-4, first half", trainRows);
             Dataset test = digits.subset("digits 0-4, second half", testRows);
             Workspace ws = new Workspace("self-taught")) {
            Autoencoder sae = Autoencoder.builder(digits.features()).hidden(s.hidden()).activation(Activation.SIGMOID)
                    .klSparsity(s.rho(), s.beta()).weightDecay(s.weightDecay()).maxBatch(unlabeled.size()).kernels(k)
                    .build().init(s.seed());
            try {
                double objective = FullBatch.lbfgs(sae.network(), Mse.halfSumPerSample(), new WeightDecay(s.weightDecay()),
                        unlabeled.images(), unlabeled.images(), s.autoencoderIterations(),
                        reporter.lbfgs("sparse autoencoder on " + unlabeled.size() + " digits 5-9", s.autoencoderIterations()));
                Tensor trainCodes = sae.encode(train.images(), ws);
                Tensor testCodes = sae.encode(test.images(), ws);
                double raw = softmaxAccuracy(train.images(), train.labels(), test.images(), test.labels(), 5, s, k,
                        reporter.lbfgs("softmax on raw pixels", s.softmaxIterations()));
                double features = softmaxAccuracy(trainCodes, train.labels(), testCodes, test.labels(), 5, s, k,
                        reporter.lbfgs("softmax on features", s.softmaxIterations()));
                return new SelfTaught(unlabeled.size(), train.size(), test.size(), raw, features, objective, sae);
            } catch (RuntimeException e) {
                sae.close();
                throw e;
            }
        }
    }

    /**
     * Softmax regression trained by full-batch L-BFGS with weight decay on (x, y), scored on
     * (testX, testY), as UFLDL's softmaxTrain.
     */
    static double softmaxAccuracy(Tensor x, int[] y, Tensor testX, int[] testY, int classes, SelfTaughtSettings s,
                                  Kernels k, Lbfgs.Progress progress) {
        int d = x.rowSize();
        int batch = Math.max(x.dim(0), testX.dim(0));
        try (Sequential net = new Sequential("softmax", List.of(new Dense("softmax", d, classes))).build(new int[] {d}, batch, k);
             Workspace ws = new Workspace("softmax")) {
            net.init(s.seed());
            Tensor targets = Classifier.oneHot(y, classes, ws);
            FullBatch.lbfgs(net, new SoftmaxCrossEntropy(), new WeightDecay(s.softmaxWeightDecay()), x, targets,
                    s.softmaxIterations(), progress);
            return accuracy(net.forward(testX, false), testY);
        }
    }

    /** Fraction of rows whose largest logit is at the label. */
    static double accuracy(Tensor logits, int[] labels) {
        int classes = logits.rowSize();
        int right = 0;
        for (int i = 0; i < labels.length; i++) {
            int best = 0;
            for (int c = 1; c < classes; c++) {
                if (logits.get(i, c) > logits.get(i, best)) {
                    best = c;
                }
            }
            if (best == labels[i]) {
                right++;
            }
        }
        return (double) right / labels.length;
    }

    /** Stacked-autoencoder settings; {@link #ufldl()} follows UFLDL's 784-200-200-10 exercise. */
    public record StackedSettings(int[] hidden, double rho, double beta, double weightDecay, int epochs, double lr,
                                  int fineTuneSteps, long seed) {
        public static StackedSettings ufldl() {
            return new StackedSettings(new int[] {200, 200}, 0.1, 3, 3e-3, 40, 3e-3, 3000, 1);
        }

        public StackedSettings withBudget(int pretrainEpochs, int steps) {
            return new StackedSettings(hidden, rho, beta, weightDecay, pretrainEpochs, lr, steps, seed);
        }
    }

    /** Test accuracy of softmax on the frozen stack's codes and of the fine-tuned stack. */
    public record Stacked(int train, int test, double beforeFineTuning, double afterFineTuning) {
    }

    /**
     * UFLDL's stacked autoencoder: greedy pretraining of sparse autoencoders on all training images
     * (Adam here, L-BFGS there), softmax on the top codes, then end-to-end fine-tuning with every
     * training label.
     */
    public static Stacked stacked(Dataset train, Dataset test, StackedSettings s, Kernels k, Reporter reporter) {
        int classes = Math.max(train.classes(), test.classes());
        try (StackedAutoencoder stack = new StackedAutoencoder(train.features(), s.hidden(), Activation.SIGMOID, s.rho(), s.beta(),
                s.weightDecay(), k); Workspace ws = new Workspace("stacked")) {
            stack.pretrain(train.images(), Trainer.Config.of(s.epochs(), 128, s.seed()), s.lr(),
                    reporter.training("stacked autoencoder " + train.features() + "-" + join(s.hidden()) + ", greedy pretraining"));
            Tensor trainCodes = stack.features(train.images(), ws);
            Tensor testCodes = stack.features(test.images(), ws);
            SelfTaughtSettings softmax = SelfTaughtSettings.ufldl();
            double before = softmaxAccuracy(trainCodes, train.labels(), testCodes, test.labels(), classes, softmax, k,
                    reporter.lbfgs("softmax on the stack's codes", softmax.softmaxIterations()));
            Classifier.Settings ft = new Classifier.Settings(0, Activation.SIGMOID, s.fineTuneSteps(), 128, 1e-3, 1e-4);
            double after;
            try (Classifier c = stack.fineTune(train.images(), train.labels(), classes, ft, s.seed())) {
                after = c.accuracy(test.images(), test.labels());
            }
            return new Stacked(train.size(), test.size(), before, after);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String join(int[] sizes) {
        return String.join("-", IntStream.of(sizes).mapToObj(Integer::toString).toList());
    }

    /** Deep-autoencoder settings; {@link #hinton()} is 784-1000-500-250-30 with a linear code. */
    public record DeepSettings(int[] hidden, int pretrainEpochs, int epochs, double lr, int batch, long seed) {
        public static DeepSettings hinton() {
            return new DeepSettings(new int[] {1000, 500, 250, 30}, 10, 60, 1e-3, 128, 1);
        }

        /** {@code pretrain} 0 starts the deep network from random weights. */
        public DeepSettings withEpochs(int pretrain, int fineTune) {
            return new DeepSettings(hidden, pretrain, fineTune, lr, batch, seed);
        }

        public DeepSettings withSeed(long s) {
            return new DeepSettings(hidden, pretrainEpochs, epochs, lr, batch, s);
        }
    }

    /**
     * Squared reconstruction errors per test image (summed over pixels, averaged over images) of
     * the deep autoencoder and of PCA with as many components as the code; the autoencoder is
     * returned open for pictures.
     */
    public record Deep(int train, int test, double autoencoderError, double pcaError, double trainError, History history,
                       Autoencoder autoencoder) implements AutoCloseable {
        @Override
        public void close() {
            autoencoder.close();
        }
    }

    /**
     * Hinton &amp; Salakhutdinov's deep autoencoder: logistic units with a linear 30-unit code, a
     * logistic output trained on cross-entropy (their choice for MNIST); scored, as in the paper, by
     * the squared error per test image. As there, the layers are first pretrained greedily, each
     * one a shallow autoencoder on the codes of the one below (autoencoders here, where the paper
     * used RBMs, as Bengio et al. 2007), then the stack is unrolled into encoder and decoder and
     * fine-tuned end to end (Adam here, conjugate gradients there). With {@code pretrainEpochs} 0
     * the deep network starts from random weights, which is what the paper shows to fail.
     */
    public static Deep deep(Dataset train, Dataset test, DeepSettings s, Kernels k, Reporter reporter) {
        return deep(train, test, s, k, reporter, s.pretrainEpochs() > 0 ? ae -> pretrainGreedily(ae, train.images(), s, k, reporter) : null,
                "deep autoencoder ", true);
    }

    /**
     * The same deep autoencoder pretrained as in the paper: a stack of RBMs ({@link DeepBelief},
     * Bernoulli hidden units, linear ones for the 30-unit code) trained greedily, unrolled into the
     * encoder and the decoder (transposed weights), then fine-tuned exactly as {@link #deep}. With
     * {@code pca} false the record's PCA error is NaN (the caller has it from {@link #deep}).
     */
    public static Deep deepBelief(Dataset train, Dataset test, DeepSettings s, DeepBelief.Settings rbm, Kernels k, Reporter reporter,
                                  boolean pca) {
        return deep(train, test, s, k, reporter, ae -> {
            int n = train.size();
            DeepBelief.Listener progress = new DeepBelief.Listener() {
                TrainingListener current;
                long t0;

                @Override
                public void layerStart(int layer, int visible, int hidden, boolean linear, int epochs) {
                    current = reporter.training("RBM layer " + layer + " (" + visible + "-" + hidden + (linear ? ", linear hidden" : "") + ")");
                    current.onStart(1, epochs, (n + rbm.batch() - 1) / rbm.batch(), n);
                    t0 = System.nanoTime();
                }

                @Override
                public void epoch(int layer, int epoch, int epochs, double err) {
                    double seconds = (System.nanoTime() - t0) * 1e-9;
                    current.onEpoch(new dev.latent.train.EpochResult(epoch, err, Double.NaN, seconds, n / Math.max(seconds, 1e-9), false));
                    t0 = System.nanoTime();
                }
            };
            try (DeepBelief dbn = DeepBelief.pretrain(train.images(), s.hidden(), true, rbm, k, progress)) {
                dbn.unroll(ae.encoders(), decoders(ae, s.hidden().length));
            }
        }, "deep autoencoder (RBM-pretrained) ", pca);
    }

    private interface Pretraining {
        void pretrain(Autoencoder ae) throws IOException;
    }

    /** The deep network's decoder layers, one per encoder layer i, mapping its hidden units back. */
    private static List<Dense> decoders(Autoencoder deep, int layers) {
        List<dev.latent.nn.Layer> net = deep.network().layers();
        return IntStream.range(0, layers).mapToObj(i -> (Dense) net.get(2 * layers + 2 * (layers - 1 - i))).toList();
    }

    private static Deep deep(Dataset train, Dataset test, DeepSettings s, Kernels k, Reporter reporter, Pretraining pretraining,
                             String name, boolean pca) {
        Autoencoder ae = Autoencoder.builder(train.features()).hidden(s.hidden()).activation(Activation.SIGMOID)
                .codeActivation(Activation.IDENTITY).outputActivation(Activation.SIGMOID).loss("bce").maxBatch(s.batch())
                .kernels(k).build().init(s.seed());
        try {
            if (pretraining != null) {
                pretraining.pretrain(ae);
            }
            History h = ae.fit(train.images(), test.images(), Trainer.Config.of(s.epochs(), s.batch(), s.seed()), s.lr(),
                    reporter.training(name + train.features() + "-" + join(s.hidden())));
            int code = s.hidden()[s.hidden().length - 1];
            return new Deep(train.size(), test.size(), squaredError(ae, test.images()),
                    pca ? pcaError(train.images(), test.images(), code) : Double.NaN, squaredError(ae, train.images()), h, ae);
        } catch (IOException e) {
            ae.close();
            throw new java.io.UncheckedIOException(e);
        } catch (RuntimeException e) {
            ae.close();
            throw e;
        }
    }

    /**
     * Trains one shallow autoencoder per layer of {@code deep} on the codes of the layer below and
     * copies its encoder into the deep encoder's layer i and its decoder into the mirrored decoder
     * layer. Every layer's input lies in [0, 1] (pixels or logistic codes), so each shallow
     * autoencoder has a logistic output trained on cross-entropy; the top one has the deep code's
     * linear activation.
     */
    static void pretrainGreedily(Autoencoder deep, Tensor x, DeepSettings s, Kernels k, Reporter reporter) throws IOException {
        int layers = s.hidden().length;
        List<dev.latent.nn.Layer> net = deep.network().layers();
        try (Workspace ws = new Workspace("pretrain")) {
            Tensor in = x;
            for (int i = 0; i < layers; i++) {
                boolean top = i == layers - 1;
                try (Autoencoder shallow = Autoencoder.builder(in.rowSize()).hidden(s.hidden()[i]).activation(Activation.SIGMOID)
                        .codeActivation(top ? Activation.IDENTITY : Activation.SIGMOID).outputActivation(Activation.SIGMOID)
                        .loss("bce").maxBatch(s.batch()).kernels(k).build().init(s.seed() + 1 + i)) {
                    shallow.fit(in, null, Trainer.Config.of(s.pretrainEpochs(), s.batch(), s.seed() + i), s.lr(),
                            reporter.training("pretraining layer " + (i + 1) + " (" + in.rowSize() + "-" + s.hidden()[i] + ")"));
                    copy((Dense) shallow.network().layer(0), (Dense) net.get(2 * i));
                    copy((Dense) shallow.network().layer(2), (Dense) net.get(2 * layers + 2 * (layers - 1 - i)));
                    if (!top) {
                        in = shallow.encode(in, ws);
                    }
                }
            }
        }
    }

    private static void copy(Dense from, Dense to) {
        to.weight().value().copyFrom(from.weight().value());
        to.bias().value().copyFrom(from.bias().value());
    }

    /** Mean over rows of sum over features of (x - g(f(x)))^2. */
    public static double squaredError(Autoencoder ae, Tensor x) {
        try (Workspace ws = new Workspace("recon")) {
            Tensor r = ws.allocate(x.dim(0), x.rowSize());
            ae.reconstruct(x, r);
            return squaredDistance(x, r) / x.dim(0);
        }
    }

    private static double squaredDistance(Tensor a, Tensor b) {
        double s = 0;
        for (long i = 0; i < a.size(); i++) {
            double d = a.get(i) - b.get(i);
            s += d * d;
        }
        return s;
    }

    /**
     * Squared error per test row of PCA with {@code components} principal directions of the
     * training rows: x' = mu + V V^T (x - mu), in double.
     */
    public static double pcaError(Tensor train, Tensor test, int components) {
        int d = train.rowSize();
        double[] mu = Whitening.mean(train);
        SymmetricEigen e = SymmetricEigen.of(Whitening.covariance(train, mu), d);
        double[][] v = new double[components][];
        for (int c = 0; c < components; c++) {
            v[c] = e.vector(c);
        }
        double total = 0;
        double[] x = new double[d];
        int n = test.dim(0);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                x[j] = test.get(i, j) - mu[j];
            }
            double[] r = new double[d];
            for (double[] vc : v) {
                double p = 0;
                for (int j = 0; j < d; j++) {
                    p += vc[j] * x[j];
                }
                for (int j = 0; j < d; j++) {
                    r[j] += p * vc[j];
                }
            }
            for (int j = 0; j < d; j++) {
                double diff = x[j] - r[j];
                total += diff * diff;
            }
        }
        return total / n;
    }

    /** The few-label protocol's stratified split (20% test by default), shared with {@code latent demo}. */
    public static FewLabel.Split split(Dataset all, double testFraction, long seed) {
        return FewLabel.split(all.labels(), testFraction, seed);
    }
}
