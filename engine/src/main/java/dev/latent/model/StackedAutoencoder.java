package dev.latent.model;

import dev.latent.eval.Classifier;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.nn.ActivationLayer;
import dev.latent.nn.Dense;
import dev.latent.nn.Layer;
import dev.latent.nn.Param;
import dev.latent.nn.Sequential;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.History;
import dev.latent.train.Trainer;
import dev.latent.train.TrainingListener;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A stacked autoencoder (seeds 000, 001, 003; UFLDL's 784-200-200-10): trained greedily, layer by
 * layer, each layer a sparse autoencoder on the codes of the layer below; then the encoders, topped
 * by a softmax layer, are fine-tuned end to end by backpropagation on labeled data.
 */
public final class StackedAutoencoder implements AutoCloseable {

    private final int input;
    private final int[] hidden;
    private final Activation activation;
    private final double rho;
    private final double beta;
    private final double weightDecay;
    private final Kernels kernels;
    private final List<Autoencoder> layers = new ArrayList<>();
    private final List<History> histories = new ArrayList<>();

    /**
     * @param rho, beta KL sparsity of every layer (beta 0 disables it)
     */
    public StackedAutoencoder(int input, int[] hidden, Activation activation, double rho, double beta, double weightDecay,
                              Kernels kernels) {
        if (hidden.length == 0) {
            throw new IllegalArgumentException("a stacked autoencoder needs at least one layer");
        }
        this.input = input;
        this.hidden = hidden.clone();
        this.activation = activation;
        this.rho = rho;
        this.beta = beta;
        this.weightDecay = weightDecay;
        this.kernels = kernels != null ? kernels : Kernels.current();
    }

    /** Greedy layer-wise pretraining on the rows of x: layer i learns to reconstruct layer i-1's codes. */
    public void pretrain(Tensor x, Trainer.Config config, double lr, TrainingListener listener) throws IOException {
        if (!layers.isEmpty()) {
            throw new IllegalStateException("already pretrained");
        }
        try (Workspace ws = new Workspace("stack-codes")) {
            Tensor in = x;
            for (int i = 0; i < hidden.length; i++) {
                Autoencoder.Builder b = Autoencoder.builder(in.rowSize()).hidden(hidden[i]).activation(activation)
                        .weightDecay(weightDecay).maxBatch(config.batchSize()).kernels(kernels);
                if (beta > 0) {
                    b.klSparsity(rho, beta);
                }
                Autoencoder ae = b.build().init(config.seed() + i);
                layers.add(ae);
                histories.add(ae.fit(in, null, config, lr, listener));
                if (i + 1 < hidden.length) {
                    in = ae.encode(in, ws);
                }
            }
        }
    }

    /** The top layer's codes of the rows of x (the frozen features before fine-tuning). */
    public Tensor features(Tensor x, Workspace ws) {
        requirePretrained();
        Tensor in = x;
        try (Workspace tmp = new Workspace("stack-features")) {
            for (int i = 0; i < layers.size(); i++) {
                Workspace target = i == layers.size() - 1 ? ws : tmp;
                in = layers.get(i).encode(in, target);
            }
        }
        return in;
    }

    /**
     * Fine-tunes the stack plus a softmax layer end to end on labeled rows of x, starting from the
     * pretrained encoder weights. The stack itself is not modified (each call starts afresh).
     */
    public Classifier fineTune(Tensor x, int[] labels, int classes, Classifier.Settings s, long seed) {
        requirePretrained();
        List<Layer> body = new ArrayList<>();
        int prev = input;
        for (int i = 0; i < hidden.length; i++) {
            body.add(new Dense("enc" + (i + 1), prev, hidden[i]));
            body.add(new ActivationLayer("act" + (i + 1), activation));
            prev = hidden[i];
        }
        return Classifier.train(x, labels, classes, body, prev, net -> copyWeights(net), s, seed, kernels);
    }

    private void copyWeights(Sequential net) {
        for (int i = 0; i < layers.size(); i++) {
            Dense src = layers.get(i).firstEncoder();
            Dense dst = (Dense) net.layer(2 * i);
            dst.weight().value().copyFrom(src.weight().value());
            dst.bias().value().copyFrom(src.bias().value());
        }
    }

    public List<History> histories() {
        return List.copyOf(histories);
    }

    /** Layer i's autoencoder (its first encoder holds the stack's weights). */
    public Autoencoder layer(int i) {
        return layers.get(i);
    }

    /** All encoder parameters, bottom up. */
    public List<Param> encoderParams() {
        List<Param> ps = new ArrayList<>();
        for (Autoencoder a : layers) {
            ps.addAll(a.firstEncoder().params());
        }
        return ps;
    }

    private void requirePretrained() {
        if (layers.size() != hidden.length) {
            throw new IllegalStateException("the stacked autoencoder is not pretrained: call pretrain() first");
        }
    }

    @Override
    public void close() {
        for (Autoencoder a : layers) {
            a.close();
        }
    }
}
