package dev.latent.eval;

import dev.latent.model.Classifier;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.nn.ActivationLayer;
import dev.latent.nn.Dense;
import dev.latent.nn.Layer;
import dev.latent.nn.Sequential;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.List;

/**
 * A quality number for generated images: the {@link FrechetDistance} between real and generated
 * images in the feature space of a small classifier trained on the real images' labels (an MLP
 * pixels -> hidden -> features -> classes, ReLU, softmax cross-entropy, Adam; the features are its
 * penultimate ReLU layer). The real statistics are computed once. Lower is better; the distance of
 * a real set to itself is 0. Images are rows (N, pixels) in [0, 1].
 */
public final class FrechetScorer implements AutoCloseable {

    /** Sizes and budget of the feature classifier. */
    public record Settings(int hidden, int features, int steps, int batch, double lr) {
        /** 784 -> 256 -> 64 -> 10, 1500 Adam steps of 128. */
        public static Settings standard() {
            return new Settings(256, 64, 1500, 128, 2e-3);
        }

        /** A cheaper network for tests: 128 -> 32, 600 steps. */
        public static Settings small() {
            return new Settings(128, 32, 600, 128, 3e-3);
        }
    }

    private static final int FEATURE_LAYER = 3;

    private final Classifier classifier;
    private final FrechetDistance.Stats real;
    private final double trainAccuracy;

    private FrechetScorer(Classifier classifier, FrechetDistance.Stats real, double trainAccuracy) {
        this.classifier = classifier;
        this.real = real;
        this.trainAccuracy = trainAccuracy;
    }

    /** Trains the feature classifier on (images, labels) and keeps the statistics of the images' features. */
    public static FrechetScorer train(Tensor images01, int[] labels, int classes, Settings s, long seed, Kernels kernels) {
        int d = images01.rowSize();
        List<Layer> body = List.of(new Dense("fd.hidden", d, s.hidden()), new ActivationLayer("fd.relu1", Activation.RELU),
                new Dense("fd.features", s.hidden(), s.features()), new ActivationLayer("fd.relu2", Activation.RELU));
        Classifier c = Classifier.train(images01, labels, classes, body, s.features(), null,
                new Classifier.Settings(0, Activation.RELU, s.steps(), s.batch(), s.lr(), 1e-4), seed, kernels);
        try {
            double acc = c.accuracy(images01, labels);
            FrechetScorer f = new FrechetScorer(c, null, acc);
            return new FrechetScorer(c, f.stats(images01), acc);
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** Mean and covariance of the feature rows of images (N, pixels). */
    public FrechetDistance.Stats stats(Tensor images01) {
        try (Workspace ws = new Workspace("frechet")) {
            return FrechetDistance.stats(features(images01, ws));
        }
    }

    /** The penultimate-layer features (N, features) of images, in ws. */
    public Tensor features(Tensor images01, Workspace ws) {
        Sequential net = classifier.network();
        int n = images01.dim(0);
        Tensor out = ws.allocate(n, net.outputShape(FEATURE_LAYER)[0]);
        for (int from = 0; from < n; from += net.maxBatch()) {
            int size = Math.min(net.maxBatch(), n - from);
            out.rows(from, from + size).copyFrom(net.forward(images01.rows(from, from + size), false, FEATURE_LAYER));
        }
        return out;
    }

    /** The feature classifier (trained on the real images' labels), e.g. to label generated images. */
    public Classifier classifier() {
        return classifier;
    }

    /** d^2 between the real images' features and those of {@code images01}. */
    public double distance(Tensor images01) {
        return FrechetDistance.distance(real, stats(images01));
    }

    /** The classifier's accuracy on the real images it was trained on (a sanity check of the features). */
    public double trainAccuracy() {
        return trainAccuracy;
    }

    public FrechetDistance.Stats realStats() {
        return real;
    }

    @Override
    public void close() {
        classifier.close();
    }
}
