package dev.latent.model.autoencoder;

import dev.latent.model.FeatureExtractor;
import dev.latent.model.ModelFiles;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.loss.KlSparsity;
import dev.latent.loss.L1Activity;
import dev.latent.loss.Loss;
import dev.latent.loss.Mse;
import dev.latent.nn.ActivationLayer;
import dev.latent.nn.ActivityPenalty;
import dev.latent.nn.Dense;
import dev.latent.nn.Corruption;
import dev.latent.nn.Layer;
import dev.latent.nn.NoiseLayer;
import dev.latent.nn.Sequential;
import dev.latent.nn.TiedDense;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.History;
import dev.latent.train.Trainer;
import dev.latent.train.TrainingListener;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.io.ModelFile;
import dev.latent.io.SafeTensors;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
 * ending in Dense(h_1 -> n) and the output activation.
 */
public final class Autoencoder implements FeatureExtractor {

    /** Builder: sizes, activations, tying, sparsity, denoising, weight decay, batch size, kernels. */
    public static final class Builder {
        private int input;
        private int[] hidden = {196};
        private Activation activation = Activation.SIGMOID;
        private Activation codeActivation;
        private Activation outputActivation = Activation.SIGMOID;
        private boolean tied;
        private String sparsity = "none";
        private double rho;
        private double beta;
        private double weightDecay;
        private int maxBatch = 256;
        private Kernels kernels;
        private String loss = "mse_half_sum";
        private Corruption corruption;

        private Builder(int input) {
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
                    throw new IllegalArgumentException("hidden sizes must be >= 1, got " + java.util.Arrays.toString(sizes));
                }
            }
            this.hidden = sizes.clone();
            return this;
        }

        public Builder activation(Activation a) {
            this.activation = a;
            return this;
        }

        /** The code layer's activation (default: the hidden activation). */
        public Builder codeActivation(Activation a) {
            this.codeActivation = a;
            return this;
        }

        public Builder outputActivation(Activation a) {
            this.outputActivation = a;
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

        /**
         * Denoising: corrupt the training input with {@code c} (e.g. {@code Corruption.masking(0.3)}),
         * reconstruct the clean input; null for a plain autoencoder.
         */
        public Builder denoising(Corruption c) {
            this.corruption = c;
            return this;
        }

        public Builder weightDecay(double lambda) {
            this.weightDecay = lambda;
            return this;
        }

        public Builder maxBatch(int b) {
            this.maxBatch = b;
            return this;
        }

        public Builder kernels(Kernels k) {
            this.kernels = k;
            return this;
        }

        /** The reconstruction loss: "mse_half_sum" (the seeds' 1/2 sum per sample), "mse_mean" or "bce". */
        public Builder loss(String name) {
            lossOf(name);
            this.loss = name;
            return this;
        }

        public Autoencoder build() {
            return new Autoencoder(this);
        }
    }

    public static Builder builder(int input) {
        return new Builder(input);
    }

    static Loss lossOf(String name) {
        return switch (name) {
            case "mse_half_sum" -> Mse.halfSumPerSample();
            case "mse_mean" -> Mse.mean();
            case "bce" -> dev.latent.loss.Bce.onProbabilities();
            default -> throw new IllegalArgumentException("unknown loss '" + name + "'; expected mse_half_sum, mse_mean or bce");
        };
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Largest max_batch a model file may ask for (buffers are sized by it before the tensors are read). */
    static final int MAX_BATCH = 1 << 14;

    private final Builder cfg;
    private final Sequential net;
    private final List<Dense> encoders = new ArrayList<>();
    private final int codeIndex;
    private final AutoencoderNet core;

    private Autoencoder(Builder b) {
        this.cfg = b;
        List<Layer> layers = new ArrayList<>();
        NoiseLayer noise = b.corruption == null ? null : b.corruption.layer("corrupt", 0);
        if (noise != null) {
            layers.add(noise);
        }
        int prev = b.input;
        for (int i = 0; i < b.hidden.length; i++) {
            Dense d = new Dense("enc" + (i + 1), prev, b.hidden[i]);
            encoders.add(d);
            layers.add(d);
            boolean code = i == b.hidden.length - 1;
            Activation a = code && b.codeActivation != null ? b.codeActivation : b.activation;
            layers.add(new ActivationLayer((code ? "code" : "act" + (i + 1)), a));
            prev = b.hidden[i];
        }
        int codeAt = layers.size() - 1;
        for (int i = b.hidden.length - 1; i >= 0; i--) {
            int out = i == 0 ? b.input : b.hidden[i - 1];
            layers.add(b.tied ? new TiedDense("dec" + (i + 1), encoders.get(i), true) : new Dense("dec" + (i + 1), b.hidden[i], out));
            layers.add(new ActivationLayer(i == 0 ? "output" : "dact" + i, i == 0 ? b.outputActivation : b.activation));
        }
        this.codeIndex = codeAt;
        Sequential s = new Sequential("autoencoder", layers);
        ActivityPenalty penalty = switch (b.sparsity) {
            case "kl" -> new KlSparsity(b.rho, b.beta);
            case "l1" -> new L1Activity(b.beta);
            default -> null;
        };
        if (penalty != null) {
            s.penalize(codeAt, penalty);
        }
        this.net = s.build(new int[] {b.input}, b.maxBatch, b.kernels != null ? b.kernels : Kernels.current());
        this.core = new AutoencoderNet(net, codeAt, noise, b.loss, b.weightDecay);
    }

    /** Draws the initial weights from {@code seed}. */
    public Autoencoder init(long seed) {
        net.init(seed);
        return this;
    }

    /**
     * Trains on the rows of x (N, n) with Adam at learning rate {@code lr}. With denoising, the
     * corruption of epoch e is drawn from a generator seeded by (config seed, e), so a resumed run
     * corrupts exactly as an uninterrupted one.
     */
    public History fit(Tensor x, Tensor validation, Trainer.Config config, double lr, TrainingListener listener) throws IOException {
        return core.fit(x, validation, config, lr, listener);
    }

    /** The training corruption, or null for a plain autoencoder. */
    public Corruption corruption() {
        return cfg.corruption;
    }

    /** Writes the codes f(x) of the rows of x (N, n) into codes (N, m), batch by batch. */
    public void encode(Tensor x, Tensor codes) {
        core.encode(x, codes, codeSize());
    }

    /** New tensor in {@code ws} holding the codes of x. */
    public Tensor encode(Tensor x, Workspace ws) {
        Tensor codes = ws.allocate(x.dim(0), codeSize());
        encode(x, codes);
        return codes;
    }

    /** Writes the reconstructions g(f(x)) of the rows of x into out (N, n). */
    public void reconstruct(Tensor x, Tensor out) {
        core.reconstruct(x, out);
    }

    /** Mean reconstruction loss (the training loss without penalties) over the rows of x. */
    public double reconstructionLoss(Tensor x) {
        return core.reconstructionLoss(x);
    }

    /** The code size m. */
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
        return List.copyOf(encoders);
    }

    public Sequential network() {
        return net;
    }

    /** The hyperparameters as strings (for reports). */
    public Map<String, String> config() {
        Map<String, String> m = new LinkedHashMap<>();
        configJson().fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString()));
        return m;
    }

    /** The hyperparameters as JSON: what a model file stores and {@link #fromConfig} reads back. */
    public ObjectNode configJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("kind", "autoencoder");
        o.put("input", cfg.input);
        ArrayNode h = o.putArray("hidden");
        for (int v : cfg.hidden) {
            h.add(v);
        }
        o.put("activation", cfg.activation.toString());
        o.put("code_activation", (cfg.codeActivation != null ? cfg.codeActivation : cfg.activation).toString());
        o.put("output_activation", cfg.outputActivation.toString());
        o.put("tied", cfg.tied);
        o.put("sparsity", cfg.sparsity);
        o.put("rho", cfg.rho);
        o.put("beta", cfg.beta);
        o.put("weight_decay", cfg.weightDecay);
        o.put("loss", cfg.loss);
        o.put("denoising", cfg.corruption == null ? "none" : cfg.corruption.toString());
        o.put("max_batch", cfg.maxBatch);
        return o;
    }

    /** A builder holding the hyperparameters of {@link #configJson()}; field errors name the field. */
    public static Builder fromConfig(JsonNode c, String source) {
        try {
            Builder b = builder(required(c, "input", source).asInt());
            JsonNode h = required(c, "hidden", source);
            int[] sizes = new int[h.size()];
            for (int i = 0; i < sizes.length; i++) {
                sizes[i] = h.get(i).asInt();
            }
            b.hidden(sizes).activation(Activation.parse(required(c, "activation", source).asText()))
                    .codeActivation(Activation.parse(required(c, "code_activation", source).asText()))
                    .outputActivation(Activation.parse(required(c, "output_activation", source).asText()))
                    .tied(required(c, "tied", source).asBoolean()).weightDecay(required(c, "weight_decay", source).asDouble())
                    .loss(required(c, "loss", source).asText());
            // The batch the networks were built for: a GEMM's bits can depend on its row count, so a
            // loaded model encodes in the same chunks to give the same bits. Files before it: 256.
            JsonNode maxBatch = c.get("max_batch");
            if (maxBatch != null) {
                if (!maxBatch.isIntegralNumber() || maxBatch.asLong() < 1 || maxBatch.asLong() > MAX_BATCH) {
                    throw new IllegalArgumentException("max_batch must be an integer in 1.." + MAX_BATCH + ", got " + maxBatch);
                }
                b.maxBatch(maxBatch.asInt());
            }
            switch (required(c, "sparsity", source).asText()) {
                case "kl" -> b.klSparsity(required(c, "rho", source).asDouble(), required(c, "beta", source).asDouble());
                case "l1" -> b.l1Sparsity(required(c, "beta", source).asDouble());
                case "none" -> { }
                default -> throw new IllegalArgumentException("sparsity must be none, kl or l1");
            }
            // absent in files written before denoising existed
            JsonNode denoising = c.get("denoising");
            if (denoising != null && !denoising.isNull() && !"none".equals(denoising.asText())) {
                try {
                    b.denoising(Corruption.parse(denoising.asText()));
                } catch (IllegalArgumentException e) {
                    throw new dev.latent.io.BadInputException(source + ": config field 'denoising': " + e.getMessage(), e);
                }
            }
            return b;
        } catch (dev.latent.io.BadInputException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new dev.latent.io.BadInputException(source + ": invalid autoencoder config: " + e.getMessage(), e);
        }
    }

    private static JsonNode required(JsonNode c, String field, String source) {
        return ModelFiles.required(c, field, source);
    }

    /**
     * The encoder as a list of dense layers for {@link dev.latent.serve.Encoder}: each
     * {@code {"weight": name, "bias": name, "activation": text}} in order, ending at the code layer.
     */
    public ArrayNode encoderSpec() {
        ArrayNode a = JSON.createArrayNode();
        for (int i = 0; i < encoders.size(); i++) {
            ObjectNode l = a.addObject();
            l.put("type", "dense");
            l.put("weight", encoders.get(i).name() + ".weight");
            l.put("bias", encoders.get(i).name() + ".bias");
            boolean code = i == encoders.size() - 1;
            l.put("activation", (code && cfg.codeActivation != null ? cfg.codeActivation : cfg.activation).toString());
        }
        return a;
    }

    /**
     * Writes the model to a safetensors file (atomically): every parameter under its layer name, and in
     * {@code __metadata__} the format, the config, the encoder spec and the provenance.
     */
    public void save(Path file, Map<String, String> provenance) throws IOException {
        ModelFiles.save(file, "autoencoder", configJson(), encoderSpec(), new int[] {cfg.input}, net, provenance);
    }

    /** Loads a model saved by {@link #save}, bit-exactly. */
    public static Autoencoder load(Path file, Kernels kernels) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.Loaded l = SafeTensors.read(file, arena);
            ModelFile.requireKind(l, "autoencoder");
            JsonNode config = ModelFile.json(l, "config");
            Autoencoder ae = fromConfig(config, file.toString()).kernels(kernels).build();
            try {
                ModelFiles.loadInto(ae.net, l, "autoencoder");
                return ae;
            } catch (RuntimeException e) {
                ae.close();
                throw e;
            }
        }
    }

    @Override
    public String kind() {
        return "autoencoder";
    }

    @Override
    public int[] inputShape() {
        return new int[] {cfg.input};
    }

    /** The code size m: features are the codes f(x). */
    @Override
    public int featureSize() {
        return codeSize();
    }

    @Override
    public void features(Tensor x, Tensor out) {
        requireShapes(x, out);
        encode(x, out);
    }

    @Override
    public void close() {
        net.close();
    }
}
