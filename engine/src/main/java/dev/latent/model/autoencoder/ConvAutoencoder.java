package dev.latent.model.autoencoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.io.BadInputException;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.model.Hyperparameters;
import dev.latent.model.Hyperparameters.Param;
import dev.latent.model.ModelFiles;
import dev.latent.nn.ActivationLayer;
import dev.latent.nn.Conv2d;
import dev.latent.nn.ConvTranspose2d;
import dev.latent.nn.Corruption;
import dev.latent.nn.Layer;
import dev.latent.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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
 * Training, encoding, config and model files: {@link AutoencoderCore}.
 */
public final class ConvAutoencoder extends AutoencoderCore<ConvAutoencoder> {

    public static final String KIND = "conv-autoencoder";

    public static final Param<int[]> CHANNELS = Param.ints("channels", new int[] {16, 32}, 1, 1 << 16,
            "output channels of the encoder's conv layers, the last the code's");
    public static final Param<Integer> KERNEL = Param.integer("kernel", 3, 1, 1 << 10, "square kernel side of every conv layer");
    public static final Param<Integer> STRIDE = Param.integer("stride", 2, 1, 1 << 10, "stride of every conv layer");
    public static final Param<Integer> PADDING = Param.integer("padding", 1, 0, 1 << 10, "zero padding of every conv layer");
    public static final Param<Activation> CODE_ACTIVATION = Autoencoder.CODE_ACTIVATION;
    /** Its keys, then the shared ones (activation relu, no weight decay). */
    public static final Hyperparameters HYPERPARAMETERS = Hyperparameters.of(CHANNELS, KERNEL, STRIDE, PADDING, CODE_ACTIVATION)
            .plus(shared(Activation.RELU, 0));

    /** Builder: input shape, channel list, kernel/stride/padding, code activation; the shared options of {@link AutoencoderCore.Builder}. */
    public static final class Builder extends AutoencoderCore.Builder<Builder, ConvAutoencoder> {
        private final int[] input;
        private int[] channels = {16, 32};
        private int kernel = 3;
        private int stride = 2;
        private int padding = 1;
        private Activation codeActivation;

        private Builder(int c, int h, int w) {
            super(Activation.RELU);
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

        /** The code layer's activation (default: the hidden activation). */
        public Builder codeActivation(Activation a) {
            this.codeActivation = a;
            return this;
        }

        private Activation code() {
            return codeActivation != null ? codeActivation : activation;
        }

        @Override
        public Builder apply(Hyperparameters.Values v) {
            return channels(v.get(CHANNELS)).geometry(v.get(KERNEL), v.get(STRIDE), v.get(PADDING)).applyShared(v)
                    .codeActivation(v.get(CODE_ACTIVATION));
        }

        @Override
        public ConvAutoencoder build() {
            return new ConvAutoencoder(this);
        }
    }

    /** A builder for images of {@code channels} x {@code height} x {@code width}. */
    public static Builder builder(int channels, int height, int width) {
        return new Builder(channels, height, width);
    }

    private final Builder cfg;
    private final List<Conv2d> encoders;
    private final int[] codeShape;

    private ConvAutoencoder(Builder b) {
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
        List<Conv2d> enc = new ArrayList<>();
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < depth; i++) {
            int in = i == 0 ? b.input[0] : b.channels[i - 1];
            Conv2d c = new Conv2d("enc" + (i + 1), in, b.channels[i], b.kernel, b.stride, b.padding, true);
            enc.add(c);
            layers.add(c);
            boolean code = i == depth - 1;
            layers.add(new ActivationLayer(code ? "code" : "act" + (i + 1), code ? b.code() : b.activation));
        }
        int codeIndex = layers.size() - 1;
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
        this.cfg = b;
        this.encoders = List.copyOf(enc);
        this.codeShape = new int[] {b.channels[depth - 1], hs[depth], ws[depth]};
        super(KIND, b, b.input, layers, codeIndex, null);
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


    /** Values per code: c_L * h_L * w_L. */
    @Override
    public int codeSize() {
        return (int) Tensor.sizeOf(codeShape);
    }

    /** The code maps' shape (c_L, h_L, w_L). */
    public int[] codeShape() {
        return codeShape.clone();
    }

    /** The encoder's conv layers (the first one's weights are the first-layer filters). */
    public List<Conv2d> encoders() {
        return encoders;
    }

    @Override
    void putConfig(ObjectNode o) {
        ArrayNode in = o.putArray("input_shape");
        Arrays.stream(cfg.input).forEach(in::add);
        Hyperparameters.writeTo(o).put(CHANNELS, cfg.channels).put(KERNEL, cfg.kernel).put(STRIDE, cfg.stride)
                .put(PADDING, cfg.padding).put(CODE_ACTIVATION, cfg.code());
    }

    /** A builder holding the hyperparameters of {@link #configJson()}; errors name the source and field. */
    public static Builder fromConfig(JsonNode c, String source) {
        return readConfig(KIND, source, () -> {
            int[] in = ModelFiles.ints(c, "input_shape", source);
            if (in.length != 3) {
                throw new BadInputException(source + ": config field 'input_shape' must be [C, H, W], got " + Arrays.toString(in));
            }
            return builder(in[0], in[1], in[2]).read(HYPERPARAMETERS, c, source);
        });
    }

    /**
     * The encoder as layers {@code {"type": "conv2d", "weight", "bias", "in_channels", "out_channels",
     * "kernel", "stride", "padding", "activation"}}, in order, ending at the code maps. Not servable by
     * {@code serve.Encoder} (dense encoders only): load this model and call {@link #encode}.
     */
    @Override
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
            l.put("activation", (i == encoders.size() - 1 ? cfg.code() : cfg.activation).toString());
        }
        return a;
    }

    /** Loads a model saved by {@link #save}, bit-exactly (files without max_batch: 256). */
    public static ConvAutoencoder load(Path file, Kernels kernels) throws IOException {
        return load(file, kernels, KIND, ConvAutoencoder::fromConfig);
    }
}
