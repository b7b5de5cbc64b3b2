package dev.latent.model.autoencoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.loss.KlSparsity;
import dev.latent.loss.L1Activity;
import dev.latent.model.Hyperparameters;
import dev.latent.model.Hyperparameters.Param;
import dev.latent.model.ModelFiles;
import dev.latent.nn.ActivationLayer;
import dev.latent.nn.ActivityPenalty;
import dev.latent.nn.Corruption;
import dev.latent.nn.Dense;
import dev.latent.nn.Layer;
import dev.latent.nn.TiedDense;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An autoencoder: encoder f: R^n -> R^m and decoder g: R^m -> R^n trained to minimize L(x, g(f(x)))
 * on unlabeled data (seed 000). Compressive when m &lt; n; overcomplete with a sparsity penalty (KL on
 * the mean code activation, or L1 on the codes); deep when the encoder has several layers (the
 * decoder mirrors it); tied when each decoder weight is the transpose of its encoder weight.
 * {@link #encode} returns the code layer, the representation later layers and classifiers read
 * (seed 002). Denoising when given a {@link Corruption}: the training input is corrupted (masking or
 * Gaussian noise) while the loss target stays the clean input; encode and reconstruct never corrupt.
 *
 * <p>Layout of the network: (with denoising) the corruption layer, the identity outside training; for
 * each encoder size h_i: Dense(h_{i-1} -> h_i), activation (the code
 * layer's activation may differ, e.g. linear as in Hinton and Salakhutdinov); then the mirror image,
 * ending in Dense(h_1 -> n) and the output activation. Training, encoding, config and model files:
 * {@link AutoencoderCore}.
 */
public final class Autoencoder extends AutoencoderCore<Autoencoder> {

    public static final String KIND = "autoencoder";

    public static final Param<int[]> HIDDEN = Param.ints("hidden", new int[] {196}, 1, 1 << 20,
            "encoder layer sizes, the last the code size (deep: 1000,500,250,30)");
    public static final Param<Activation> CODE_ACTIVATION = Param.parsed("code_activation", "activation", ACTIVATIONS, null,
            Activation::parse, "the code layer's activation (default: activation)");
    public static final Param<Boolean> TIED = Param.bool("tied", false, "decoder weights are the encoder's transposed");
    public static final Param<String> SPARSITY = Param.choice("sparsity", "kl", List.of("kl", "l1", "none"),
            "penalty on the code: KL on its mean activation, or L1");
    public static final Param<Double> RHO = Param.real("rho", 0.1, 0, 1, "KL sparsity target mean activation");
    public static final Param<Double> BETA = Param.real("beta", 3.0, 0, Double.MAX_VALUE,
            "sparsity weight (default 3 for kl, 1e-3 for l1)");
    /** Its keys, then the shared ones; the defaults are {@code latent train}'s (KL sparsity, weight decay 3e-3). */
    public static final Hyperparameters HYPERPARAMETERS = Hyperparameters.of(HIDDEN, CODE_ACTIVATION, TIED, SPARSITY, RHO, BETA)
            .plus(shared(Activation.SIGMOID, 3e-3));
    /** The L1 weight when {@code sparsity=l1} is given without {@code beta}. */
    private static final double L1_BETA = 1e-3;

    /** Builder: sizes, code activation, tying, sparsity; the shared options of {@link AutoencoderCore.Builder}. */
    public static final class Builder extends AutoencoderCore.Builder<Builder, Autoencoder> {
        private final int input;
        private int[] hidden = {196};
        private Activation codeActivation;
        private boolean tied;
        private String sparsity = "none";
        private double rho;
        private double beta;

        private Builder(int input) {
            super(Activation.SIGMOID);
            if (input < 1) {
                throw new IllegalArgumentException("autoencoder input size must be >= 1, got " + input);
            }
            this.input = input;
        }

        /** Encoder layer sizes, the last being the code size m (e.g. 196, or 1000, 500, 250, 30). */
        public Builder hidden(int... sizes) {
            if (sizes.length == 0) {
                throw new IllegalArgumentException("an autoencoder needs at least one hidden layer");
            }
            for (int s : sizes) {
                if (s < 1) {
                    throw new IllegalArgumentException("hidden sizes must be >= 1, got " + Arrays.toString(sizes));
                }
            }
            this.hidden = sizes.clone();
            return this;
        }

        /** The code layer's activation (default: the hidden activation). */
        public Builder codeActivation(Activation a) {
            this.codeActivation = a;
            return this;
        }

        public Builder tied(boolean t) {
            this.tied = t;
            return this;
        }

        /** KL-divergence sparsity on the code's mean activation (UFLDL: rho 0.05..0.1, beta 3). */
        public Builder klSparsity(double rho, double beta) {
            new KlSparsity(rho, beta); // validates
            this.sparsity = "kl";
            this.rho = rho;
            this.beta = beta;
            return this;
        }

        /** L1 activity sparsity beta * sum |a| on the code (seed 003). */
        public Builder l1Sparsity(double beta) {
            new L1Activity(beta); // validates
            this.sparsity = "l1";
            this.beta = beta;
            return this;
        }

        private Activation code() {
            return codeActivation != null ? codeActivation : activation;
        }

        @Override
        public Builder apply(Hyperparameters.Values v) {
            hidden(v.get(HIDDEN)).applyShared(v).codeActivation(v.get(CODE_ACTIVATION)).tied(v.get(TIED));
            return switch (v.get(SPARSITY)) {
                case "kl" -> klSparsity(v.get(RHO), v.get(BETA));
                case "l1" -> l1Sparsity(v.given(BETA) ? v.get(BETA) : L1_BETA);
                default -> this;
            };
        }

        @Override
        public Autoencoder build() {
            return new Autoencoder(this);
        }
    }

    public static Builder builder(int input) {
        return new Builder(input);
    }

    private final Builder cfg;
    private final List<Dense> encoders;

    private Autoencoder(Builder b) {
        List<Dense> enc = new ArrayList<>();
        List<Layer> layers = new ArrayList<>();
        int prev = b.input;
        for (int i = 0; i < b.hidden.length; i++) {
            Dense d = new Dense("enc" + (i + 1), prev, b.hidden[i]);
            enc.add(d);
            layers.add(d);
            boolean code = i == b.hidden.length - 1;
            layers.add(new ActivationLayer(code ? "code" : "act" + (i + 1), code ? b.code() : b.activation));
            prev = b.hidden[i];
        }
        int codeAt = layers.size() - 1;
        for (int i = b.hidden.length - 1; i >= 0; i--) {
            int out = i == 0 ? b.input : b.hidden[i - 1];
            layers.add(b.tied ? new TiedDense("dec" + (i + 1), enc.get(i), true) : new Dense("dec" + (i + 1), b.hidden[i], out));
            layers.add(new ActivationLayer(i == 0 ? "output" : "dact" + i, i == 0 ? b.outputActivation : b.activation));
        }
        ActivityPenalty penalty = switch (b.sparsity) {
            case "kl" -> new KlSparsity(b.rho, b.beta);
            case "l1" -> new L1Activity(b.beta);
            default -> null;
        };
        this.cfg = b;
        this.encoders = List.copyOf(enc);
        super(KIND, b, new int[] {b.input}, layers, codeAt, penalty);
    }

    /** The code size m. */
    @Override
    public int codeSize() {
        return cfg.hidden[cfg.hidden.length - 1];
    }

    public int inputSize() {
        return cfg.input;
    }

    /** The first encoder layer (its weight rows w_i are the filters of seed 003). */
    public Dense firstEncoder() {
        return encoders.getFirst();
    }

    public List<Dense> encoders() {
        return encoders;
    }

    @Override
    void putConfig(ObjectNode o) {
        o.put("input", cfg.input);
        Hyperparameters.writeTo(o).put(HIDDEN, cfg.hidden).put(CODE_ACTIVATION, cfg.code()).put(TIED, cfg.tied)
                .put(SPARSITY, cfg.sparsity).put(RHO, cfg.rho).put(BETA, cfg.beta);
    }

    /** A builder holding the hyperparameters of {@link #configJson()}; field errors name the field. */
    public static Builder fromConfig(JsonNode c, String source) {
        return readConfig("autoencoder", source,
                () -> builder(ModelFiles.required(c, "input", source).asInt()).read(HYPERPARAMETERS, c, source));
    }

    /**
     * The encoder as a list of dense layers for {@code serve.Encoder}: each
     * {@code {"type": "dense", "weight": name, "bias": name, "activation": text}} in order, ending at the code layer.
     */
    @Override
    public ArrayNode encoderSpec() {
        ArrayNode a = JSON.createArrayNode();
        for (int i = 0; i < encoders.size(); i++) {
            boolean code = i == encoders.size() - 1;
            a.addObject().put("type", "dense").put("weight", encoders.get(i).name() + ".weight")
                    .put("bias", encoders.get(i).name() + ".bias").put("activation", (code ? cfg.code() : cfg.activation).toString());
        }
        return a;
    }

    /** Loads a model saved by {@link #save}, bit-exactly. */
    public static Autoencoder load(Path file, Kernels kernels) throws IOException {
        return load(file, kernels, KIND, Autoencoder::fromConfig);
    }
}
