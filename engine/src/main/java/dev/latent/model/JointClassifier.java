package dev.latent.model;

import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.loss.Mse;
import dev.latent.loss.SoftmaxCrossEntropy;
import dev.latent.loss.WeightDecay;
import dev.latent.nn.ActivationLayer;
import dev.latent.nn.ActivityPenalty;
import dev.latent.nn.Dense;
import dev.latent.nn.GanInputTap;
import dev.latent.nn.Sequential;
import dev.latent.optim.Adam;
import dev.latent.optim.LearningRate;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.Trainer;
import java.util.Arrays;
import java.util.List;

/**
 * An MLP trained on a joint loss (seed 002: "the autoencoder's loss can be backpropagated into
 * previous layers ... used for training outside the autoencoder itself"): the network of
 * {@link Classifier} with {@link Classifier.Settings#mlp} (Dense "hidden", activation "act", Dense
 * "logits"), plus a decoder branch from the hidden activations back to the input whose reconstruction
 * error is added to the cross-entropy, so that unlabeled rows train the shared hidden layer too.
 *
 * <pre>
 * x (B, d) -&gt; hidden (d -&gt; h) -&gt; act -&gt; a (B, h) -&gt; logits (h -&gt; C) -&gt; z (B, C)
 *                                          \-&gt; decoder (h -&gt; d) -&gt; sigmoid -&gt; r (B, d)
 * </pre>
 *
 * <p>One step stacks a labelled batch (B_l rows, one-hot targets T) over a batch of B_u unlabeled rows,
 * X = [X_l; X_u] (B_l + B_u, d), and minimizes
 * {@code J = CE(z[0, B_l), T) + w R(r, X) + (lambda / 2) sum ||W||^2}:
 * <ul>
 *   <li>CE: {@link SoftmaxCrossEntropy}, the mean over the B_l labelled rows (the unlabeled rows'
 *       logits get zero gradient);
 *   <li>R: {@link Mse#mean()} over all B_l + B_u rows, {@code (1 / (B d)) sum (r - x)^2}, i.e. the mean over
 *       the batch of each row's sum of squares divided by d: a per-pixel error whose size (0.12 at
 *       initialization and 0.02 to 0.07 after 400 steps on the embedded digits) does not grow with d, so
 *       that weights w of 0.1 to 10 put w R between the scale of a fitted cross-entropy and above it
 *       (the half-sum per sample would be d / 2 = 392 times larger on digits);
 *   <li>lambda: {@link WeightDecay} with the settings' weight decay on the three weight matrices
 *       (hidden, logits, decoder; not the biases).
 * </ul>
 * dJ/da = dCE/da + w dR/da reaches the hidden layer through the {@link Sequential}'s activity-penalty
 * hook on the activation "act": the reconstruction is a penalty on a that runs the decoder (a
 * {@link Sequential} behind a {@link GanInputTap}, which hands back dR/da) and accumulates the
 * decoder's parameter gradients on the way.
 *
 * <p>Optimization is {@link Classifier}'s: Adam (b1 0.9, b2 0.999, eps 1e-8) at the settings' learning
 * rate, one Adam per network (the update is element-wise, so two slabs are one Adam), the same fixed
 * schedule of labelled batches (epochs of {@link Trainer#shuffle}(seed, epoch), enough epochs for
 * {@code s.steps()} steps, {@link Trainer#gather}). Unlabeled batches are B_u = min(s.batch(), unlabeled
 * rows) consecutive rows of their own seeded shuffles, reshuffled when fewer than B_u remain.
 *
 * <p>Deterministic: the same seed and kernel provider give the same bits. With w = 0 there is no
 * decoder and no unlabeled row, and every operation is the one {@link Classifier#train(Tensor, int[],
 * int, Classifier.Settings, long, Kernels)} runs (same layers, same initialization from the seed, same
 * batches, same loss, decay and Adam calls), so the result is bit-identical to it.
 */
public final class JointClassifier implements AutoCloseable {

    private final Sequential net;
    private final Sequential decoder;
    private final Reconstruction reconstruction;
    private final Classifier classifier;
    private final double weight;
    private final int classes;
    private double[] crossEntropyTrace = new double[0];
    private double[] reconstructionTrace = new double[0];
    private double lastCrossEntropy;

    private JointClassifier(Sequential net, Sequential decoder, Reconstruction reconstruction, double weight, int classes) {
        this.net = net;
        this.decoder = decoder;
        this.reconstruction = reconstruction;
        this.weight = weight;
        this.classes = classes;
        this.classifier = Classifier.of(net, classes);
    }

    /**
     * An initialized, untrained joint classifier for rows of d values and batches (labelled plus
     * unlabeled rows) of up to maxBatch: the classifier's weights drawn from {@code seed} exactly as
     * {@link Classifier#train(Tensor, int[], int, Classifier.Settings, long, Kernels)} draws them, the
     * decoder's (when w &gt; 0) from a seed derived from it.
     */
    public static JointClassifier initialized(int d, int classes, Classifier.Settings s, double weight, int maxBatch, long seed,
                                              Kernels kernels) {
        if (s.hidden() < 1) {
            throw new IllegalArgumentException("joint loss needs a hidden layer to share: settings have hidden = " + s.hidden());
        }
        if (!(weight >= 0) || Double.isInfinite(weight)) {
            throw new IllegalArgumentException("joint loss: reconstruction weight must be finite and >= 0, got " + weight);
        }
        if (d < 1 || classes < 2) {
            throw new IllegalArgumentException("joint loss: needs rows of >= 1 value and >= 2 classes, got d = " + d
                    + ", classes = " + classes);
        }
        Sequential net = Classifier.unbuilt(Classifier.body(d, s), s.hidden(), classes);
        Sequential decoder = null;
        Reconstruction r = null;
        try {
            if (weight > 0) {
                GanInputTap tap = new GanInputTap("decoder.tap");
                decoder = new Sequential("decoder", List.of(tap, new Dense("decoder", s.hidden(), d),
                        new ActivationLayer("decoder.act", Activation.SIGMOID))).build(new int[] {s.hidden()}, maxBatch, kernels);
                decoder.init(decoderSeed(seed));
                r = new Reconstruction(decoder, tap, (float) weight);
                net.penalize(1, r);
            }
            net.build(new int[] {d}, maxBatch, kernels);
            net.init(seed);
        } catch (RuntimeException e) {
            net.close();
            if (decoder != null) {
                decoder.close();
            }
            throw e;
        }
        return new JointClassifier(net, decoder, r, weight, classes);
    }

    /**
     * Trains on labelled rows x (N, d) with labels in 0..classes-1 and, when {@code weight} &gt; 0,
     * unlabeled rows (M, d) (may be null when weight is 0), as the class comment says.
     */
    public static JointClassifier train(Tensor x, int[] labels, Tensor unlabeled, int classes, Classifier.Settings s, double weight,
                                        long seed, Kernels kernels) {
        int n = x.dim(0);
        int d = x.rowSize();
        if (labels.length != n) {
            throw new IllegalArgumentException("joint loss: labelled rows " + Tensor.format(x.shape()) + " but " + labels.length + " labels");
        }
        if (weight > 0) {
            if (unlabeled == null || unlabeled.dim(0) < 1 || unlabeled.rowSize() != d) {
                throw new IllegalArgumentException("joint loss: unlabeled rows " + (unlabeled == null ? "missing" : Tensor.format(unlabeled.shape()))
                        + " do not match labelled rows " + Tensor.format(x.shape()) + " (need >= 1 row of " + d + " values)");
            }
        }
        int labelledBatch = Math.min(s.batch(), n);
        int unlabeledBatch = weight > 0 ? Math.min(s.batch(), unlabeled.dim(0)) : 0;
        JointClassifier j = initialized(d, classes, s, weight, labelledBatch + unlabeledBatch, seed, kernels);
        try {
            j.fit(x.reshape(n, d), labels, weight > 0 ? unlabeled.reshape(unlabeled.dim(0), d) : null, s, labelledBatch,
                    unlabeledBatch, seed);
        } catch (RuntimeException e) {
            j.close();
            throw e;
        }
        return j;
    }

    private void fit(Tensor x, int[] labels, Tensor unlabeled, Classifier.Settings s, int batch, int unlabeledBatch, long seed) {
        int n = x.dim(0);
        int d = x.rowSize();
        int batches = (n + batch - 1) / batch;
        int epochs = Math.max(1, (s.steps() + batches - 1) / batches);
        WeightDecay decay = new WeightDecay(s.weightDecay());
        crossEntropyTrace = new double[epochs * batches];
        reconstructionTrace = new double[decoder == null ? 0 : epochs * batches];
        try (Workspace ws = new Workspace("joint");
             Adam adam = new Adam(net.slab(), LearningRate.constant(s.lr()), 0.9, 0.999, 1e-8, 0);
             Adam decoderAdam = decoder == null ? null : new Adam(decoder.slab(), LearningRate.constant(s.lr()), 0.9, 0.999, 1e-8, 0)) {
            Tensor y = Classifier.oneHot(labels, classes, ws);
            Tensor bx = ws.allocate(batch + unlabeledBatch, d);
            Tensor by = ws.allocate(batch, classes);
            int[] order = new int[n];
            int[] unlabeledOrder = unlabeled == null ? new int[0] : new int[unlabeled.dim(0)];
            int unlabeledEpoch = 0;
            int unlabeledNext = unlabeledOrder.length;
            int step = 0;
            for (int epoch = 1; epoch <= epochs; epoch++) {
                Trainer.shuffle(order, seed, epoch);
                for (int bi = 0; bi < batches; bi++) {
                    int from = bi * batch;
                    int size = Math.min(batch, n - from);
                    Tensor yb = by.rows(0, size);
                    Trainer.gather(x, order, from, size, bx.rows(0, size));
                    Trainer.gather(y, order, from, size, yb);
                    if (unlabeledBatch > 0) {
                        if (unlabeledNext + unlabeledBatch > unlabeledOrder.length) {
                            Trainer.shuffle(unlabeledOrder, ~seed, ++unlabeledEpoch);
                            unlabeledNext = 0;
                        }
                        Trainer.gather(unlabeled, unlabeledOrder, unlabeledNext, unlabeledBatch, bx.rows(size, size + unlabeledBatch));
                        unlabeledNext += unlabeledBatch;
                    }
                    double l = objective(bx.rows(0, size + unlabeledBatch), yb, decay);
                    if (!Double.isFinite(l)) {
                        throw new IllegalStateException("joint loss diverged: objective " + l + " at epoch " + epoch + ", batch " + (bi + 1)
                                + " (lower the learning rate or the reconstruction weight, or check the input for NaN)");
                    }
                    crossEntropyTrace[step] = lastCrossEntropy;
                    if (reconstruction != null) {
                        reconstructionTrace[step] = reconstruction.last;
                    }
                    step++;
                    adam.step();
                    if (decoderAdam != null) {
                        decoderAdam.step();
                    }
                }
            }
        }
    }

    /**
     * The joint objective J of one batch (class comment) with its gradient left in the parameter
     * gradients of {@link #network()} and {@link #decoder()}: x (B_l + B_u, d) holds the labelled rows
     * first, y (B_l, classes) their one-hot targets; with w = 0 only x's first B_l rows may be given
     * (B_u = 0). The training step calls this, then Adam.
     */
    public double objective(Tensor x, Tensor y, WeightDecay decay) {
        int labelled = y.dim(0);
        int b = x.dim(0);
        if (x.rank() != 2 || labelled < 1 || labelled > b || y.rank() != 2 || y.dim(1) != classes || (decoder == null && b != labelled)) {
            throw new IllegalArgumentException("joint loss: batch " + Tensor.format(x.shape()) + " with targets " + Tensor.format(y.shape())
                    + (decoder == null ? " (weight 0: one target row per input row)" : " (labelled rows first, " + classes + " classes)"));
        }
        Tensor out = net.forward(x, true);
        net.zeroGrad();
        if (reconstruction != null) {
            decoder.zeroGrad();
            reconstruction.target = x;
        }
        Tensor dOut = net.outputGrad();
        double l;
        if (labelled == b) {
            l = new SoftmaxCrossEntropy().valueAndGradient(out, y, dOut);
        } else {
            l = new SoftmaxCrossEntropy().valueAndGradient(out.rows(0, labelled), y, dOut.rows(0, labelled));
            dOut.rows(labelled, b).fill(0f);
        }
        lastCrossEntropy = l;
        l += net.backward(x, dOut);
        if (decay != null) {
            l += decay.addGradient(net.kernels(), net.params());
            if (decoder != null) {
                l += decay.addGradient(decoder.kernels(), decoder.params());
            }
        }
        return l;
    }

    /**
     * The mean reconstruction error R ({@link Mse#mean()}) of rows x (N, d) through the hidden layer
     * and the decoder, in inference mode; IllegalStateException for a weight-0 classifier (no decoder).
     */
    public double reconstructionError(Tensor x) {
        if (decoder == null) {
            throw new IllegalStateException("joint loss with weight 0 has no decoder");
        }
        int n = x.dim(0);
        Tensor flat = x.reshape(n, x.rowSize());
        double sum = 0;
        for (int from = 0; from < n; from += net.maxBatch()) {
            int size = Math.min(net.maxBatch(), n - from);
            Tensor rows = flat.rows(from, from + size);
            Tensor a = net.forward(rows, false, 1);
            sum += Mse.mean().value(decoder.forward(a, false), rows) * size;
        }
        return sum / n;
    }

    /** The predicted class of every row of x. */
    public int[] predict(Tensor x) {
        return classifier.predict(x);
    }

    /** Fraction of rows of x whose predicted class equals the label. */
    public double accuracy(Tensor x, int[] labels) {
        return classifier.accuracy(x, labels);
    }

    /** The classifier (hidden, act, logits): its parameters are Classifier's of the same settings. */
    public Sequential network() {
        return net;
    }

    /** The decoder (tap, Dense "decoder", sigmoid), or null with weight 0. */
    public Sequential decoder() {
        return decoder;
    }

    public double weight() {
        return weight;
    }

    /** The cross-entropy of every training step's labelled batch, before its update. */
    public double[] crossEntropyTrace() {
        return crossEntropyTrace.clone();
    }

    /** R (unweighted) of every training step's batch, before its update; empty with weight 0. */
    public double[] reconstructionTrace() {
        return reconstructionTrace.clone();
    }

    @Override
    public void close() {
        net.close();
        if (decoder != null) {
            decoder.close();
        }
    }

    /** The decoder's initialization seed: a stream apart from the classifier's, which must stay Classifier's. */
    private static long decoderSeed(long seed) {
        return Long.rotateLeft(seed, 32) ^ 0x0DEC0DE5EEDL;
    }

    /**
     * w R as an activity penalty on the hidden activations a (B, h): runs the decoder on a against the
     * batch's inputs ({@link #target}, set before each backward), accumulates w dR/dtheta into the
     * decoder's parameter gradients and adds w dR/da into dL/da.
     */
    private static final class Reconstruction implements ActivityPenalty {

        private final Sequential decoder;
        private final GanInputTap tap;
        private final float weight;
        private final Mse mse = Mse.mean();
        private Kernels k;
        private Tensor target;
        private double last = Double.NaN;

        Reconstruction(Sequential decoder, GanInputTap tap, float weight) {
            this.decoder = decoder;
            this.tap = tap;
            this.weight = weight;
        }

        @Override
        public void build(int[] sampleShape, int maxBatch, Kernels kernels, Workspace scratch) {
            if (!Arrays.equals(sampleShape, decoder.inputShape()) || maxBatch > decoder.maxBatch()) {
                throw new IllegalStateException("reconstruction penalty: activations " + Tensor.format(sampleShape) + " x " + maxBatch
                        + " but the decoder reads " + Tensor.format(decoder.inputShape()) + " x " + decoder.maxBatch());
            }
            this.k = kernels;
        }

        @Override
        public double value(Tensor a) {
            return weight * mse.value(decoder.forward(a, false), target);
        }

        @Override
        public double addGradient(Tensor a, Tensor da) {
            Tensor r = decoder.forward(a, true);
            Tensor dr = decoder.outputGrad();
            last = mse.valueAndGradient(r, target, dr);
            k.elementwise().scale((int) dr.size(), weight, dr.segment(), dr.offset());
            decoder.backward(a, dr);
            Tensor g = tap.inputGradient();
            k.elementwise().axpy((int) g.size(), 1f, g.segment(), g.offset(), da.segment(), da.offset());
            return weight * last;
        }
    }
}
