package dev.latent.model;

import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.loss.SoftmaxCrossEntropy;
import dev.latent.loss.WeightDecay;
import dev.latent.nn.ActivationLayer;
import dev.latent.nn.Dense;
import dev.latent.nn.Layer;
import dev.latent.nn.Sequential;
import dev.latent.optim.Adam;
import dev.latent.optim.LearningRate;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.Trainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A small supervised network trained by backpropagation on (features, label) pairs: softmax
 * regression (no hidden layer) or an MLP with one hidden layer, softmax cross-entropy, Adam and L2
 * weight decay, a fixed budget of optimizer steps whatever the number of examples (so that 10 and
 * 1,000 labels get the same optimization effort).
 */
public final class Classifier implements AutoCloseable {

    /** Training settings; {@code hidden} 0 means softmax regression. */
    public record Settings(int hidden, Activation activation, int steps, int batch, double lr, double weightDecay) {
        public static Settings softmax() {
            return new Settings(0, Activation.SIGMOID, 400, 128, 1e-2, 1e-4);
        }

        public static Settings mlp(int hidden, Activation activation) {
            return new Settings(hidden, activation, 400, 128, 3e-3, 1e-4);
        }
    }

    private final Sequential net;
    private final int classes;

    private Classifier(Sequential net, int classes) {
        this.net = net;
        this.classes = classes;
    }

    /** Trains on rows of x (N, d) with labels in 0..classes-1. */
    public static Classifier train(Tensor x, int[] labels, int classes, Settings s, long seed, Kernels kernels) {
        int d = x.rowSize();
        return train(x, labels, classes, body(d, s), s.hidden() > 0 ? s.hidden() : d, null, s, seed, kernels);
    }

    /**
     * The body {@link #train(Tensor, int[], int, Settings, long, Kernels)} puts under the logits for
     * inputs of d values: none (softmax regression) or Dense "hidden" (d to s.hidden()) and activation
     * "act". {@link JointClassifier} builds the same layers, so that its weight-0 run is this one.
     */
    static List<Layer> body(int d, Settings s) {
        List<Layer> body = new ArrayList<>();
        if (s.hidden() > 0) {
            body.add(new Dense("hidden", d, s.hidden()));
            body.add(new ActivationLayer("act", s.activation()));
        }
        return body;
    }

    /**
     * Trains {@code body} (layers mapping a row of x to {@code width} features, possibly pretrained)
     * followed by a Dense softmax head, end to end. {@code afterInit} runs after the random
     * initialization, to copy pretrained weights into the body's parameters (fine-tuning).
     */
    public static Classifier train(Tensor x, int[] labels, int classes, List<Layer> body, int width,
                                   java.util.function.Consumer<Sequential> afterInit, Settings s, long seed, Kernels kernels) {
        int n = x.dim(0);
        int d = x.rowSize();
        if (labels.length != n) {
            throw new IllegalArgumentException(n + " feature rows but " + labels.length + " labels");
        }
        int batch = Math.min(s.batch(), n);
        Sequential net = network(d, body, width, classes, batch, kernels);
        net.init(seed);
        if (afterInit != null) {
            afterInit.accept(net);
        }
        int batchesPerEpoch = (n + batch - 1) / batch;
        int epochs = Math.max(1, (s.steps() + batchesPerEpoch - 1) / batchesPerEpoch);
        try (Workspace ws = new Workspace("labels"); Adam adam = new Adam(net.slab(), LearningRate.constant(s.lr()), 0.9, 0.999, 1e-8, 0)) {
            Tensor y = oneHot(labels, classes, ws);
            new Trainer(Trainer.Config.of(epochs, batch, seed), null)
                    .fit(net, new SoftmaxCrossEntropy(), adam, new WeightDecay(s.weightDecay()), x.reshape(n, d), y, null, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            net.close();
            throw e;
        }
        return new Classifier(net, classes);
    }

    /**
     * A classifier of the shape {@link #train(Tensor, int[], int, List, int, java.util.function.Consumer, Settings, long, Kernels)}
     * builds ({@code body}, then a Dense "logits" head of {@code classes} units), with uninitialized
     * weights: for loading saved parameters into {@code network().params()}.
     */
    public static Classifier untrained(int inputSize, List<Layer> body, int width, int classes, int maxBatch, Kernels kernels) {
        return new Classifier(network(inputSize, body, width, classes, maxBatch, kernels), classes);
    }

    private static Sequential network(int d, List<Layer> body, int width, int classes, int maxBatch, Kernels kernels) {
        return unbuilt(body, width, classes).build(new int[] {d}, maxBatch, kernels);
    }

    /** {@code body} then a Dense "logits" head of {@code classes} units, not built yet (penalties can still be attached). */
    static Sequential unbuilt(List<Layer> body, int width, int classes) {
        List<Layer> layers = new ArrayList<>(body);
        layers.add(new Dense("logits", width, classes));
        return new Sequential("classifier", layers);
    }

    /** A classifier reading the built and trained network {@code net} (body, then logits of {@code classes}); closing it closes net. */
    static Classifier of(Sequential net, int classes) {
        return new Classifier(net, classes);
    }

    /** The number of classes (the logits per row). */
    public int classes() {
        return classes;
    }

    /** Rows of one-hot targets for labels. */
    public static Tensor oneHot(int[] labels, int classes, Workspace ws) {
        Tensor y = ws.allocate(labels.length, classes);
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("label " + labels[i] + " at row " + i + " outside 0.." + (classes - 1));
            }
            y.set((long) i * classes + labels[i], 1f);
        }
        return y;
    }

    /** The predicted class of every row of x. */
    public int[] predict(Tensor x) {
        int n = x.dim(0);
        int d = x.rowSize();
        Tensor flat = x.reshape(n, d);
        int[] out = new int[n];
        for (int from = 0; from < n; from += net.maxBatch()) {
            int size = Math.min(net.maxBatch(), n - from);
            Tensor logits = net.forward(flat.rows(from, from + size), false);
            for (int i = 0; i < size; i++) {
                int best = 0;
                for (int c = 1; c < classes; c++) {
                    if (logits.get((long) i * classes + c) > logits.get((long) i * classes + best)) {
                        best = c;
                    }
                }
                out[from + i] = best;
            }
        }
        return out;
    }

    /** Softmax class probabilities (N, classes) of every row of x, in ws. */
    public Tensor probabilities(Tensor x, Workspace ws) {
        int n = x.dim(0);
        Tensor flat = x.reshape(n, x.rowSize());
        Tensor out = ws.allocate(n, classes);
        for (int from = 0; from < n; from += net.maxBatch()) {
            int size = Math.min(net.maxBatch(), n - from);
            Tensor logits = net.forward(flat.rows(from, from + size), false);
            for (int i = 0; i < size; i++) {
                long row = (long) i * classes;
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < classes; c++) {
                    max = Math.max(max, logits.get(row + c));
                }
                double sum = 0;
                for (int c = 0; c < classes; c++) {
                    sum += Math.exp(logits.get(row + c) - max);
                }
                for (int c = 0; c < classes; c++) {
                    out.set((long) (from + i) * classes + c, (float) (Math.exp(logits.get(row + c) - max) / sum));
                }
            }
        }
        return out;
    }

    /** Fraction of rows of x whose predicted class equals the label. */
    public double accuracy(Tensor x, int[] labels) {
        int[] p = predict(x);
        int right = 0;
        for (int i = 0; i < p.length; i++) {
            if (p[i] == labels[i]) {
                right++;
            }
        }
        return (double) right / p.length;
    }

    public Sequential network() {
        return net;
    }

    @Override
    public void close() {
        net.close();
    }
}
