package dev.latent.model.autoencoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.model.Hyperparameters;
import dev.latent.model.Hyperparameters.Param;
import dev.latent.model.ModelFiles;
import dev.latent.nn.ActivationLayer;
import dev.latent.nn.Dense;
import dev.latent.nn.Layer;
import dev.latent.nn.Residual;
import dev.latent.nn.Slice;
import dev.latent.nn.ZeroPad;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
 * blocks as a dense layer and "shared_input_residual" layers. Training, encoding, config and model
 * files: {@link AutoencoderCore}.
 */
public final class ResidualAutoencoder extends AutoencoderCore<ResidualAutoencoder> {

    public static final String KIND = "residual-autoencoder";

    public static final Param<Integer> WIDTH = Param.integer("width", 64, 1, 1 << 20, "the code size m, the width of every block");
    public static final Param<Integer> BLOCKS = Param.integer("blocks", 3, 1, 1 << 10, "encoder blocks K");
    /** Its keys, then the shared ones (activation sigmoid, no weight decay). */
    public static final Hyperparameters HYPERPARAMETERS = Hyperparameters.of(WIDTH, BLOCKS).plus(shared(Activation.SIGMOID, 0));

    /** Builder: width and blocks; the shared options of {@link AutoencoderCore.Builder}. */
    public static final class Builder extends AutoencoderCore.Builder<Builder, ResidualAutoencoder> {
        private final int input;
        private int width = 64;
        private int blocks = 3;

        private Builder(int input) {
            super(Activation.SIGMOID);
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

        @Override
        public Builder apply(Hyperparameters.Values v) {
            return width(v.get(WIDTH)).blocks(v.get(BLOCKS)).applyShared(v);
        }

        @Override
        public ResidualAutoencoder build() {
            return new ResidualAutoencoder(this);
        }
    }

    public static Builder builder(int input) {
        return new Builder(input);
    }

    private final Builder cfg;
    private final List<Dense> blockDense;

    private ResidualAutoencoder(Builder b) {
        int n = b.input;
        int m = b.width;
        List<Dense> dense = new ArrayList<>();
        List<Layer> layers = new ArrayList<>();
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
            dense.add(d);
            inner.add(d);
            inner.add(new ActivationLayer(name + ".act", b.activation));
            inner.add(new ZeroPad(name + ".pad", 0, n));
            layers.add(new Residual(name, inner));
        }
        layers.add(new Slice("code", 0, m));
        int codeIndex = layers.size() - 1;
        layers.add(new Dense("dec", m, n));
        layers.add(new ActivationLayer("output", b.outputActivation));
        this.cfg = b;
        this.blockDense = List.copyOf(dense);
        super(KIND, b, new int[] {n}, layers, codeIndex, null);
    }

    @Override
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

    @Override
    void putConfig(ObjectNode o) {
        o.put("input", cfg.input);
        Hyperparameters.writeTo(o).put(WIDTH, cfg.width).put(BLOCKS, cfg.blocks);
    }

    /** A builder holding the hyperparameters of {@link #configJson()}; errors name the source and field. */
    public static Builder fromConfig(JsonNode c, String source) {
        return readConfig("residual-autoencoder", source,
                () -> builder(ModelFiles.required(c, "input", source).asInt()).read(HYPERPARAMETERS, c, source));
    }

    /**
     * The encoder for {@code serve.Encoder}: block 1 as {@code {"type": "dense", ...}} (it reads
     * x alone), blocks 2..K as {@code {"type": "shared_input_residual", "weight", "bias", "activation"}}:
     * h = h + f(W [h; x] + b) with W of shape (m, m + n), x the encoder's input.
     */
    @Override
    public ArrayNode encoderSpec() {
        ArrayNode a = JSON.createArrayNode();
        for (int k = 0; k < blockDense.size(); k++) {
            a.addObject().put("type", k == 0 ? "dense" : "shared_input_residual").put("weight", blockDense.get(k).name() + ".weight")
                    .put("bias", blockDense.get(k).name() + ".bias").put("activation", cfg.activation.toString());
        }
        return a;
    }

    /** Loads a model saved by {@link #save}, bit-exactly (files without max_batch: 256). */
    public static ResidualAutoencoder load(Path file, Kernels kernels) throws IOException {
        return load(file, kernels, KIND, ResidualAutoencoder::fromConfig);
    }
}
