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
import dev.latent.nn.Conv2d;
import dev.latent.nn.ConvTranspose2d;
import dev.latent.nn.Corruption;
import dev.latent.nn.Layer;
import dev.latent.nn.NoiseLayer;
import dev.latent.nn.Sequential;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.History;
import dev.latent.train.Trainer;
import dev.latent.train.TrainingListener;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A convolutional autoencoder on images (C, H, W). Encoder: for each channel count c_i, a strided
 * Conv2d(c_{i-1} -> c_i, k, s, p) and the activation (the last one the code activation), so the code
 * is a stack of c_L feature maps of size h_L x w_L with h_i = floor((h_{i-1} + 2p - k) / s) + 1.
 * Decoder: the mirror image, ConvTranspose2d(c_i -> c_{i-1}, k, s, p, op_i) and the activation, the
 * last one (to C channels) followed by the output activation; each output padding op_i in [0, s) is
 * chosen so the decoder restores h_{i-1} exactly (the builder refuses geometries where none exists).
 * Optionally denoising (a {@link Corruption} of the training input, clean targets).
 *
 * <p>Rows may be given flat, (N, C*H*W) as {@link dev.latent.data.Dataset} holds them, or as (N, C, H, W).
 * {@link #encode} writes the code maps flattened, (N, c_L*h_L*w_L) in (channel, row, column) order.
 */
public final class ConvAutoencoder implements FeatureExtractor {

    public static final String KIND = "conv-autoencoder";

    /** Builder: input shape, channel list, kernel/stride/padding, activations, loss, denoising, weight decay. */
    public static final class Builder {
        private final int[] input;
        private int[] channels = {16, 32};
        private int kernel = 3;
        private int stride = 2;
        private int padding = 1;
        private Activation activation = Activation.RELU;
        private Activation codeActivation;
        private Activation outputActivation = Activation.SIGMOID;
        private String loss = "mse_half_sum";
        private double weightDecay;
        private Corruption corruption;
        private int maxBatch = 256;
        private Kernels kernels;

        private Builder(int c, int h, int w) {
            if (c < 1 || h < 1 || w < 1) {
                throw new IllegalArgumentException("conv autoencoder input shape (C, H, W) must be positive, got ("
                        + c + ", " + h + ", " + w + ")");
            }
            this.input = new int[] {c, h, w};
        }

        /** Output channels of the encoder's conv layers, the last being the code's channels (e.g. 16, 32). */
        public Builder channels(int... c) {
            if (c.length == 0 || Arrays.stream(c).anyMatch(v -> v < 1)) {
                throw new IllegalArgumentException("conv autoencoder channels must be a non-empty list of positive counts, got "
                        + Arrays.toString(c));
            }
            this.channels = c.clone();
            return this;
        }

        /** Square kernel size, stride and zero padding of every conv layer (default 3, 2, 1). */
        public Builder geometry(int kernel, int stride, int padding) {
            if (kernel < 1 || stride < 1 || padding < 0) {
                throw new IllegalArgumentException("conv autoencoder needs kernel >= 1, stride >= 1, padding >= 0, got kernel="
                        + kernel + " stride=" + stride + " padding=" + padding);
            }
            this.kernel = kernel;
            this.stride = stride;
            this.padding = padding;
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

        /** Denoising: corrupt the training input with {@code c}; null for none. */
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

        public ConvAutoencoder build() {
            return new ConvAutoencoder(this);
        }
    }

    /** A builder for images of {@code channels} x {@code height} x {@code width}. */
    public static Builder builder(int channels, int height, int width) {
        return new Builder(channels, height, width);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Builder cfg;
    private final Sequential net;
    private final List<Conv2d> encoders = new ArrayList<>();
    private final int[] codeShape;
    private final AutoencoderNet core;

    private ConvAutoencoder(Builder b) {
        this.cfg = b;
        int depth = b.channels.length;
        // spatial sizes per encoder level: [0] the input, [i] after conv i
        int[] hs = new int[depth + 1];
        int[] ws = new int[depth + 1];
        hs[0] = b.input[1];
        ws[0] = b.input[2];
        for (int i = 1; i <= depth; i++) {
            hs[i] = convOut(hs[i - 1], b, i);
            ws[i] = convOut(ws[i - 1], b, i);
        }
        List<Layer> layers = new ArrayList<>();
        NoiseLayer noise = b.corruption == null ? null : b.corruption.layer("corrupt", 0);
        if (noise != null) {
            layers.add(noise);
        }
        for (int i = 0; i < depth; i++) {
            int in = i == 0 ? b.input[0] : b.channels[i - 1];
            Conv2d c = new Conv2d("enc" + (i + 1), in, b.channels[i], b.kernel, b.stride, b.padding, true);
            encoders.add(c);
            layers.add(c);
            boolean code = i == depth - 1;
            layers.add(new ActivationLayer(code ? "code" : "act" + (i + 1), code ? codeActivation(b) : b.activation));
        }
        int codeIndex = layers.size() - 1;
        this.codeShape = new int[] {b.channels[depth - 1], hs[depth], ws[depth]};
        for (int i = depth; i >= 1; i--) {
            int out = i == 1 ? b.input[0] : b.channels[i - 2];
            int oh = outputPad(hs[i], hs[i - 1], b);
            int ow = outputPad(ws[i], ws[i - 1], b);
            if (oh != ow) {
                throw new IllegalArgumentException("conv autoencoder: the decoder cannot mirror level " + i + " of a non-square"
                        + " input " + Tensor.format(b.input) + " with one output padding (needs " + oh + " and " + ow + ")");
            }
            layers.add(new ConvTranspose2d("dec" + i, b.channels[i - 1], out, b.kernel, b.stride, b.padding, oh, true));
            layers.add(new ActivationLayer(i == 1 ? "output" : "dact" + (i - 1), i == 1 ? b.outputActivation : b.activation));
        }
        this.net = new Sequential(KIND, layers).build(b.input, b.maxBatch, b.kernels != null ? b.kernels : Kernels.current());
        this.core = new AutoencoderNet(net, codeIndex, noise, b.loss, b.weightDecay);
    }

    private static Activation codeActivation(Builder b) {
        return b.codeActivation != null ? b.codeActivation : b.activation;
    }

    private static int convOut(int size, Builder b, int level) {
        int out = (size + 2 * b.padding - b.kernel) / b.stride + 1;
        if (size + 2 * b.padding < b.kernel || out < 1) {
            throw new IllegalArgumentException("conv autoencoder: level " + level + " gets maps of size " + size
                    + ", too small for kernel " + b.kernel + " with padding " + b.padding + " (input " + Tensor.format(b.input)
                    + ", channels " + Arrays.toString(b.channels) + ")");
        }
        return out;
    }

    /** The output padding that makes ConvTranspose2d map {@code small} back to {@code big}; refuses if none in [0, s). */
    private static int outputPad(int small, int big, Builder b) {
        int op = big - ((small - 1) * b.stride - 2 * b.padding + b.kernel);
        if (op < 0 || op >= b.stride) {
            throw new IllegalArgumentException("conv autoencoder: a transposed conv (kernel " + b.kernel + ", stride " + b.stride
                    + ", padding " + b.padding + ") cannot map size " + small + " back to " + big
                    + "; choose a kernel/stride/padding where (size + 2p - k) is a multiple of s");
        }
        return op;
    }

    /** Draws the initial weights from {@code seed}. */
    public ConvAutoencoder init(long seed) {
        net.init(seed);
        return this;
    }

    /** The rows of x as (N, C, H, W), a view; x may be flat (N, C*H*W). */
    private Tensor images(Tensor x) {
        long per = Tensor.sizeOf(cfg.input);
        if (x.rank() < 1 || x.dim(0) < 1 || x.size() != x.dim(0) * per) {
            throw new IllegalArgumentException("conv autoencoder expects rows of " + Tensor.format(cfg.input) + " (" + per
                    + " values each), got " + Tensor.format(x.shape()));
        }
        return x.reshape(x.dim(0), cfg.input[0], cfg.input[1], cfg.input[2]);
    }

    /**
     * Trains on the images x with Adam at learning rate {@code lr} (validation may be null). With
     * denoising, the corruption of epoch e is seeded by (config seed, e), as for {@link Autoencoder#fit}.
     */
    public History fit(Tensor x, Tensor validation, Trainer.Config config, double lr, TrainingListener listener) throws IOException {
        return core.fit(images(x), validation == null ? null : images(validation), config, lr, listener);
    }

    /** Writes the flattened code maps of the images x into codes (N, {@link #codeSize()}), batch by batch. */
    public void encode(Tensor x, Tensor codes) {
        core.encode(images(x), codes, codeSize());
    }

    /** New tensor in {@code ws} holding the codes of x. */
    public Tensor encode(Tensor x, Workspace ws) {
        Tensor codes = ws.allocate(x.dim(0), codeSize());
        encode(x, codes);
        return codes;
    }

    /** Writes the reconstructions of the images x into out (same shape as x). */
    public void reconstruct(Tensor x, Tensor out) {
        core.reconstruct(images(x), images(out));
    }

    /** Mean reconstruction loss (without penalties) over the images x. */
    public double reconstructionLoss(Tensor x) {
        return core.reconstructionLoss(images(x));
    }

    /** Values per code: c_L * h_L * w_L. */
    public int codeSize() {
        return (int) Tensor.sizeOf(codeShape);
    }

    /** The code maps' shape (c_L, h_L, w_L). */
    public int[] codeShape() {
        return codeShape.clone();
    }

    /** The input shape (C, H, W). */
    public int[] inputShape() {
        return cfg.input.clone();
    }

    /** The encoder's conv layers (the first one's weights are the first-layer filters). */
    public List<Conv2d> encoders() {
        return List.copyOf(encoders);
    }

    public Sequential network() {
        return net;
    }

    /** The training corruption, or null. */
    public Corruption corruption() {
        return cfg.corruption;
    }

    /** The hyperparameters as JSON: what a model file stores and {@link #fromConfig} reads back. */
    public ObjectNode configJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("kind", KIND);
        ArrayNode in = o.putArray("input_shape");
        Arrays.stream(cfg.input).forEach(in::add);
        ArrayNode ch = o.putArray("channels");
        Arrays.stream(cfg.channels).forEach(ch::add);
        o.put("kernel", cfg.kernel);
        o.put("stride", cfg.stride);
        o.put("padding", cfg.padding);
        o.put("activation", cfg.activation.toString());
        o.put("code_activation", codeActivation(cfg).toString());
        o.put("output_activation", cfg.outputActivation.toString());
        o.put("loss", cfg.loss);
        o.put("weight_decay", cfg.weightDecay);
        o.put("denoising", cfg.corruption == null ? "none" : cfg.corruption.toString());
        return o;
    }

    /** A builder holding the hyperparameters of {@link #configJson()}; errors name the source and field. */
    public static Builder fromConfig(JsonNode c, String source) {
        try {
            int[] in = ModelFiles.ints(c, "input_shape", source);
            if (in.length != 3) {
                throw new BadInputException(source + ": config field 'input_shape' must be [C, H, W], got " + Arrays.toString(in));
            }
            Builder b = builder(in[0], in[1], in[2]).channels(ModelFiles.ints(c, "channels", source))
                    .geometry(ModelFiles.required(c, "kernel", source).asInt(), ModelFiles.required(c, "stride", source).asInt(),
                            ModelFiles.required(c, "padding", source).asInt())
                    .activation(Activation.parse(ModelFiles.required(c, "activation", source).asText()))
                    .codeActivation(Activation.parse(ModelFiles.required(c, "code_activation", source).asText()))
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
            throw new BadInputException(source + ": invalid conv-autoencoder config: " + e.getMessage(), e);
        }
    }

    /**
     * The encoder as layers {@code {"type": "conv2d", "weight", "bias", "in_channels", "out_channels",
     * "kernel", "stride", "padding", "activation"}}, in order, ending at the code maps. Not servable by
     * {@link dev.latent.serve.Encoder} (dense encoders only): load this model and call {@link #encode}.
     */
    public ArrayNode encoderSpec() {
        ArrayNode a = JSON.createArrayNode();
        for (int i = 0; i < encoders.size(); i++) {
            ObjectNode l = a.addObject();
            l.put("type", "conv2d");
            l.put("weight", encoders.get(i).name() + ".weight");
            l.put("bias", encoders.get(i).name() + ".bias");
            l.put("in_channels", i == 0 ? cfg.input[0] : cfg.channels[i - 1]);
            l.put("out_channels", cfg.channels[i]);
            l.put("kernel", cfg.kernel);
            l.put("stride", cfg.stride);
            l.put("padding", cfg.padding);
            l.put("activation", (i == encoders.size() - 1 ? codeActivation(cfg) : cfg.activation).toString());
        }
        return a;
    }

    /** Writes the model to a safetensors file (atomically), kind "conv-autoencoder". */
    public void save(Path file, Map<String, String> provenance) throws IOException {
        ModelFiles.save(file, KIND, configJson(), encoderSpec(), cfg.input, net, provenance);
    }

    /** Loads a model saved by {@link #save}, bit-exactly. */
    public static ConvAutoencoder load(Path file, Kernels kernels) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.Loaded l = SafeTensors.read(file, arena);
            ModelFile.requireKind(l, KIND);
            ConvAutoencoder ae = fromConfig(ModelFile.json(l, "config"), file.toString()).kernels(kernels).build();
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

    /** Values per code: features are the flattened code maps f(x). */
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
