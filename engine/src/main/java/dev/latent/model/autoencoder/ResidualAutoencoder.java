package dev.latent.model.autoencoder;

import dev.latent.model.FeatureExtractor;
import dev.latent.model.ModelFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.io.BadInputException;
import dev.latent.io.ModelFile;
import dev.latent.io.SafeTensors;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.nn.ActivationLayer;
import dev.latent.nn.Corruption;
import dev.latent.nn.Dense;
import dev.latent.nn.Layer;
import dev.latent.nn.NoiseLayer;
import dev.latent.nn.Residual;
import dev.latent.nn.Sequential;
import dev.latent.nn.Slice;
import dev.latent.nn.ZeroPad;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.History;
import dev.latent.train.Trainer;
import dev.latent.train.TrainingListener;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A residual autoencoder whose layers also see a shared input (seed 002: "an autoencoder with several
 * residual layers, where each layer uses a shared input layer ... facilitate[s] a quite fast
 * convergence"). With input x (n) and width m, the encoder is K blocks:
 * <pre>
 *   h_1 = f(U_1 x + b_1)
 *   h_k = h_{k-1} + f(W_k h_{k-1} + U_k x + b_k)      k = 2..K   (identity skip + a path to x)
 * </pre>
 * and the code is h_K (m values); the decoder is x^ = g(D h_K + c). Every block is one short path
 * from the input and one from the loss, so the gradient reaches each layer without passing through
 * the others.
 *
 * <p>In the layer chain the state is [h; x] (m + n values): ZeroPad lifts x to [0; x]; block 1 is a
 * {@link Residual} of Slice(x), Dense(n -> m), f, ZeroPad(0, n), so the state becomes [h_1; x];
 * block k is a Residual of Dense(m + n -> m) on the whole state (its weight is [W_k | U_k]), f,
 * ZeroPad(0, n); Slice(0, m) takes the code. The service {@link dev.latent.serve.Encoder} reads the
 * blocks as a dense layer and "shared_input_residual" layers.
 */
public final class ResidualAutoencoder implements FeatureExtractor {

    public static final String KIND = "residual-autoencoder";

    /** Builder: width, blocks, activations, loss, weight decay, denoising, batch size, kernels. */
    public static final class Builder {
        private final int input;
        private int width = 64;
        private int blocks = 3;
        private Activation activation = Activation.SIGMOID;
        private Activation outputActivation = Activation.SIGMOID;
        private String loss = "mse_half_sum";
        private double weightDecay;
        private Corruption corruption;
        private int maxBatch = 256;
        private Kernels kernels;

        private Builder(int input) {
            if (input < 1) {
                throw new IllegalArgumentException("residual autoencoder input size must be >= 1, got " + input);
            }
            this.input = input;
        }

        /** The code size m, the width of every block. */
        public Builder width(int m) {
            if (m < 1) {
                throw new IllegalArgumentException("residual autoencoder width must be >= 1, got " + m);
            }
            this.width = m;
            return this;
        }

        /** The number of encoder blocks K >= 1. */
        public Builder blocks(int k) {
            if (k < 1) {
                throw new IllegalArgumentException("residual autoencoder needs at least one block, got " + k);
            }
            this.blocks = k;
            return this;
        }

        public Builder activation(Activation a) {
            this.activation = a;
            return this;
        }

        public Builder outputActivation(Activation a) {
            this.outputActivation = a;
            return this;
        }

        /** "mse_half_sum" (default), "mse_mean" or "bce", as for {@link Autoencoder.Builder#loss}. */
        public Builder loss(String name) {
            Autoencoder.lossOf(name);
            this.loss = name;
            return this;
        }

        public Builder weightDecay(double lambda) {
            this.weightDecay = lambda;
            return this;
        }

        /** Denoising: corrupt the training input (the shared input the blocks see, too); null for none. */
        public Builder denoising(Corruption c) {
            this.corruption = c;
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

        public ResidualAutoencoder build() {
            return new ResidualAutoencoder(this);
        }
    }

    public static Builder builder(int input) {
        return new Builder(input);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Builder cfg;
    private final Sequential net;
    private final List<Dense> blockDense = new ArrayList<>();
    private final AutoencoderNet core;

    private ResidualAutoencoder(Builder b) {
        this.cfg = b;
        int n = b.input;
        int m = b.width;
        List<Layer> layers = new ArrayList<>();
        NoiseLayer noise = b.corruption == null ? null : b.corruption.layer("corrupt", 0);
        if (noise != null) {
            layers.add(noise);
        }
        layers.add(new ZeroPad("lift", m, 0));
        for (int k = 1; k <= b.blocks; k++) {
            String name = "block" + k;
            List<Layer> inner = new ArrayList<>();
            Dense d;
            if (k == 1) {
                inner.add(new Slice(name + ".input", m, m + n));
                d = new Dense(name + ".dense", n, m);
            } else {
                d = new Dense(name + ".dense", m + n, m);
            }
            blockDense.add(d);
            inner.add(d);
            inner.add(new ActivationLayer(name + ".act", b.activation));
            inner.add(new ZeroPad(name + ".pad", 0, n));
            layers.add(new Residual(name, inner));
        }
        layers.add(new Slice("code", 0, m));
        int codeIndex = layers.size() - 1;
        layers.add(new Dense("dec", m, n));
        layers.add(new ActivationLayer("output", b.outputActivation));
        this.net = new Sequential(KIND, layers).build(new int[] {n}, b.maxBatch, b.kernels != null ? b.kernels : Kernels.current());
        this.core = new AutoencoderNet(net, codeIndex, noise, b.loss, b.weightDecay);
    }

    /** Draws the initial weights from {@code seed}. */
    public ResidualAutoencoder init(long seed) {
        net.init(seed);
        return this;
    }

    /** Trains on the rows of x (N, n) with Adam at learning rate {@code lr}; denoising seeded per epoch as in {@link Autoencoder#fit}. */
    public History fit(Tensor x, Tensor validation, Trainer.Config config, double lr, TrainingListener listener) throws IOException {
        return core.fit(x, validation, config, lr, listener);
    }

    /** Writes the codes h_K of the rows of x (N, n) into codes (N, m), batch by batch. */
    public void encode(Tensor x, Tensor codes) {
        core.encode(x, codes, codeSize());
    }

    /** New tensor in {@code ws} holding the codes of x. */
    public Tensor encode(Tensor x, Workspace ws) {
        Tensor codes = ws.allocate(x.dim(0), codeSize());
        encode(x, codes);
        return codes;
    }

    /** Writes the reconstructions of the rows of x into out (N, n). */
    public void reconstruct(Tensor x, Tensor out) {
        core.reconstruct(x, out);
    }

    /** Mean reconstruction loss (without penalties) over the rows of x. */
    public double reconstructionLoss(Tensor x) {
        return core.reconstructionLoss(x);
    }

    public int codeSize() {
        return cfg.width;
    }

    public int inputSize() {
        return cfg.input;
    }

    /** Block 1's dense layer: its weight rows are filters on the input, as an autoencoder's first layer. */
    public Dense firstEncoder() {
        return blockDense.getFirst();
    }

    public Sequential network() {
        return net;
    }

    /** The hyperparameters as JSON: what a model file stores and {@link #fromConfig} reads back. */
    public ObjectNode configJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("kind", KIND);
        o.put("input", cfg.input);
        o.put("width", cfg.width);
        o.put("blocks", cfg.blocks);
        o.put("activation", cfg.activation.toString());
        o.put("output_activation", cfg.outputActivation.toString());
        o.put("loss", cfg.loss);
        o.put("weight_decay", cfg.weightDecay);
        o.put("denoising", cfg.corruption == null ? "none" : cfg.corruption.toString());
        return o;
    }

    /** A builder holding the hyperparameters of {@link #configJson()}; errors name the source and field. */
    public static Builder fromConfig(JsonNode c, String source) {
        try {
            Builder b = builder(ModelFiles.required(c, "input", source).asInt())
                    .width(ModelFiles.required(c, "width", source).asInt())
                    .blocks(ModelFiles.required(c, "blocks", source).asInt())
                    .activation(Activation.parse(ModelFiles.required(c, "activation", source).asText()))
                    .outputActivation(Activation.parse(ModelFiles.required(c, "output_activation", source).asText()))
                    .loss(ModelFiles.required(c, "loss", source).asText())
                    .weightDecay(ModelFiles.required(c, "weight_decay", source).asDouble());
            String d = ModelFiles.required(c, "denoising", source).asText();
            if (!"none".equals(d)) {
                b.denoising(Corruption.parse(d));
            }
            return b;
        } catch (BadInputException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new BadInputException(source + ": invalid residual-autoencoder config: " + e.getMessage(), e);
        }
    }

    /**
     * The encoder for {@link dev.latent.serve.Encoder}: block 1 as {@code {"type": "dense", ...}} (it reads
     * x alone), blocks 2..K as {@code {"type": "shared_input_residual", "weight", "bias", "activation"}}:
     * h = h + f(W [h; x] + b) with W of shape (m, m + n), x the encoder's input.
     */
    public ArrayNode encoderSpec() {
        ArrayNode a = JSON.createArrayNode();
        for (int k = 0; k < blockDense.size(); k++) {
            ObjectNode l = a.addObject();
            l.put("type", k == 0 ? "dense" : "shared_input_residual");
            l.put("weight", blockDense.get(k).name() + ".weight");
            l.put("bias", blockDense.get(k).name() + ".bias");
            l.put("activation", cfg.activation.toString());
        }
        return a;
    }

    /** Writes the model to a safetensors file (atomically), kind "residual-autoencoder". */
    public void save(Path file, Map<String, String> provenance) throws IOException {
        ModelFiles.save(file, KIND, configJson(), encoderSpec(), new int[] {cfg.input}, net, provenance);
    }

    /** Loads a model saved by {@link #save}, bit-exactly. */
    public static ResidualAutoencoder load(Path file, Kernels kernels) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.Loaded l = SafeTensors.read(file, arena);
            ModelFile.requireKind(l, KIND);
            ResidualAutoencoder ae = fromConfig(ModelFile.json(l, "config"), file.toString()).kernels(kernels).build();
            try {
                ModelFiles.loadInto(ae.net, l, KIND);
                return ae;
            } catch (RuntimeException e) {
                ae.close();
                throw e;
            }
        }
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public int[] inputShape() {
        return new int[] {inputSize()};
    }

    /** The code size: features are the codes f(x). */
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
