package dev.latent.model.autoencoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.io.BadInputException;
import dev.latent.io.ModelFile;
import dev.latent.io.SafeTensors;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.loss.Bce;
import dev.latent.loss.Loss;
import dev.latent.loss.Mse;
import dev.latent.loss.WeightDecay;
import dev.latent.model.FeatureExtractor;
import dev.latent.model.FeatureGraph;
import dev.latent.model.Hyperparameters;
import dev.latent.model.Hyperparameters.Param;
import dev.latent.model.ModelFiles;
import dev.latent.nn.ActivityPenalty;
import dev.latent.nn.Corruption;
import dev.latent.nn.Layer;
import dev.latent.nn.NoiseLayer;
import dev.latent.nn.Sequential;
import dev.latent.optim.Adam;
import dev.latent.optim.LearningRate;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.EpochResult;
import dev.latent.train.History;
import dev.latent.train.Trainer;
import dev.latent.train.TrainingListener;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * What the autoencoder kinds (dense {@link Autoencoder}, {@link ConvAutoencoder},
 * {@link ResidualAutoencoder}) do the same way, written once: the shared builder options (activation,
 * output activation, loss, weight decay, denoising, max batch, kernels), training the network to
 * reconstruct its input (corrupting the input first when denoising), running it to the code layer
 * or to the output batch by batch, the reconstruction loss, the config JSON's shared fields, save and
 * load. Each kind supplies its layers, its code size, its extra config fields and its encoder spec.
 *
 * <p>Rows may be given flat, (N, prod(inputShape)), or in the per-sample input shape. Every kind's
 * config stores {@code max_batch}: the batch the network was built for decides how encode chunks its
 * input, and a GEMM's bits can depend on its row count, so a loaded model gives the same bits only
 * when rebuilt for the same batch. Files written before a kind stored it load with 256, the builders'
 * default then. The shared hyperparameters are declared once here ({@link #ACTIVATION} ...); each kind
 * lists them after its own in its {@code HYPERPARAMETERS}, which {@code --set}, the config JSON and
 * {@code fromConfig} all go through. A param's default is what {@code latent train} uses when
 * {@code --set} does not give the key; the builders keep their own defaults for code that builds a
 * model directly.
 */
public abstract sealed class AutoencoderCore<M extends AutoencoderCore<M>> implements FeatureExtractor
        permits Autoencoder, ConvAutoencoder, ResidualAutoencoder {

    /** Largest max_batch a model file may ask for (buffers are sized by it before the tensors are read). */
    public static final int MAX_BATCH = 1 << 14;
    /** The max_batch of files that do not store one (written before the field existed). */
    static final int DEFAULT_MAX_BATCH = 256;

    static final ObjectMapper JSON = new ObjectMapper();

    /** The activations {@link Activation#parse} reads. */
    static final String ACTIVATIONS = "sigmoid|tanh|relu|softplus|linear";

    /** The hidden layers' activation (conv-autoencoder: relu). */
    public static final Param<Activation> ACTIVATION = Param.parsed("activation", "activation", ACTIVATIONS, Activation.SIGMOID,
            Activation::parse, "the hidden layers' activation");
    public static final Param<Activation> OUTPUT_ACTIVATION = Param.parsed("output_activation", "activation", ACTIVATIONS,
            Activation.SIGMOID, Activation::parse, "the reconstruction's activation");
    public static final Param<String> LOSS = Param.choice("loss", "mse_half_sum", java.util.List.of("mse_half_sum", "mse_mean", "bce"),
            "reconstruction loss (mse_half_sum: the seeds' 1/2 sum per sample)");
    public static final Param<Double> WEIGHT_DECAY = Param.real("weight_decay", 0.0, 0, Double.MAX_VALUE,
            "L2 penalty lambda/2 ||W||^2 on the weights");
    /** Also {@code --denoise}; absent in files written before denoising existed. */
    public static final Param<String> DENOISING = Param.parsed("denoising", "corruption", "none|masking:FRACTION|gaussian:SIGMA",
            "none", s -> "none".equals(s) ? s : Corruption.parse(s).toString(),
            "corrupt the training input, reconstruct the clean one (--denoise)").absentInOldFiles("none");

    /** The shared params, in the order a config lists them after the kind's own. */
    static Param<?>[] shared(Activation defaultActivation, double defaultWeightDecay) {
        return new Param<?>[] {ACTIVATION.withDefault(defaultActivation), OUTPUT_ACTIVATION, LOSS,
                WEIGHT_DECAY.withDefault(defaultWeightDecay), DENOISING};
    }

    /**
     * The options every autoencoder kind takes; {@code B} is the kind's builder, so that chained calls
     * keep its type, and {@code M} the model it builds.
     */
    public abstract static sealed class Builder<B extends Builder<B, M>, M extends AutoencoderCore<M>>
            permits Autoencoder.Builder, ConvAutoencoder.Builder, ResidualAutoencoder.Builder {
        Activation activation;
        Activation outputActivation = Activation.SIGMOID;
        String loss = "mse_half_sum";
        double weightDecay;
        Corruption corruption;
        int maxBatch = DEFAULT_MAX_BATCH;
        Kernels kernels;

        Builder(Activation defaultActivation) {
            this.activation = defaultActivation;
        }

        @SuppressWarnings("unchecked")
        private B self() {
            return (B) this;
        }

        /** The hidden layers' activation. */
        public B activation(Activation a) {
            this.activation = a;
            return self();
        }

        public B outputActivation(Activation a) {
            this.outputActivation = a;
            return self();
        }

        /** The reconstruction loss: "mse_half_sum" (the seeds' 1/2 sum per sample, default), "mse_mean" or "bce". */
        public B loss(String name) {
            lossOf(name);
            this.loss = name;
            return self();
        }

        public B weightDecay(double lambda) {
            this.weightDecay = lambda;
            return self();
        }

        /**
         * Denoising: corrupt the training input with {@code c} (e.g. {@code Corruption.masking(0.3)}),
         * reconstruct the clean input; null for a plain autoencoder.
         */
        public B denoising(Corruption c) {
            this.corruption = c;
            return self();
        }

        /** The largest batch the network is built for (default 256); encode and reconstruct run in chunks of it. */
        public B maxBatch(int b) {
            this.maxBatch = b;
            return self();
        }

        public B kernels(Kernels k) {
            this.kernels = k;
            return self();
        }

        public abstract M build();

        /**
         * Sets the kind's options from hyperparameter values (given or defaulted), as {@code --set}
         * parsed them or {@code fromConfig} read them from a file.
         */
        public abstract B apply(Hyperparameters.Values v);

        /** Sets the shared options from {@code v}. */
        B applyShared(Hyperparameters.Values v) {
            activation(v.get(ACTIVATION));
            outputActivation(v.get(OUTPUT_ACTIVATION));
            loss(v.get(LOSS));
            weightDecay(v.get(WEIGHT_DECAY));
            String d = v.get(DENOISING);
            return denoising("none".equals(d) ? null : Corruption.parse(d));
        }

        /** Writes the shared fields into a config object (after the kind's own). */
        void putShared(ObjectNode o) {
            Hyperparameters.writeTo(o).put(ACTIVATION, activation).put(OUTPUT_ACTIVATION, outputActivation).put(LOSS, loss)
                    .put(WEIGHT_DECAY, weightDecay).put(DENOISING, corruption == null ? "none" : corruption.toString());
            o.put("max_batch", maxBatch);
        }

        /**
         * Reads a config: the kind's and the shared hyperparameters, then {@code max_batch}, which may
         * be absent (files written before it was stored: 256). Errors name the source and field.
         */
        B read(Hyperparameters params, JsonNode c, String source) {
            apply(params.read(c, source));
            JsonNode mb = c.get("max_batch");
            if (mb != null) {
                if (!mb.isIntegralNumber() || mb.asLong() < 1 || mb.asLong() > MAX_BATCH) {
                    throw new BadInputException(source + ": config field 'max_batch' must be an integer in 1.." + MAX_BATCH
                            + ", got " + mb);
                }
                maxBatch(mb.asInt());
            }
            return self();
        }
    }

    /**
     * Runs {@code read} (a kind's config to its builder) and reports any invalid value as a
     * {@link BadInputException} naming the source and the kind; the kinds' {@code fromConfig} share it.
     */
    static <B> B readConfig(String kind, String source, java.util.function.Supplier<B> read) {
        try {
            return read.get();
        } catch (BadInputException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new BadInputException(source + ": invalid " + kind + " config: " + e.getMessage(), e);
        }
    }

    static Loss lossOf(String name) {
        return switch (name) {
            case "mse_half_sum" -> Mse.halfSumPerSample();
            case "mse_mean" -> Mse.mean();
            case "bce" -> Bce.onProbabilities();
            default -> throw new IllegalArgumentException("unknown loss '" + name + "'; expected mse_half_sum, mse_mean or bce");
        };
    }

    private final String kind;
    private final Builder<?, M> cfg;
    private final int[] inputShape;
    private final Sequential net;
    private final int codeIndex;
    private final NoiseLayer noise;

    /**
     * Builds the network: the corruption layer when denoising (the identity outside training), then
     * {@code layers}; {@code codeIndex} indexes {@code layers} (the layer whose output is the code),
     * {@code penalty} (null for none) applies to that output.
     */
    AutoencoderCore(String kind, Builder<?, M> b, int[] inputShape, List<Layer> layers, int codeIndex, ActivityPenalty penalty) {
        this.kind = kind;
        this.cfg = b;
        this.inputShape = inputShape.clone();
        List<Layer> all = new ArrayList<>();
        this.noise = b.corruption == null ? null : b.corruption.layer("corrupt", 0);
        if (noise != null) {
            all.add(noise);
        }
        all.addAll(layers);
        this.codeIndex = codeIndex + (noise != null ? 1 : 0);
        Sequential s = new Sequential(kind, all);
        if (penalty != null) {
            s.penalize(this.codeIndex, penalty);
        }
        this.net = s.build(this.inputShape, b.maxBatch, b.kernels != null ? b.kernels : Kernels.current());
    }

    @SuppressWarnings("unchecked")
    private M self() {
        return (M) this;
    }

    /** Draws the initial weights from {@code seed}. */
    public M init(long seed) {
        net.init(seed);
        return self();
    }

    /** The rows of x in the network's input shape, a view; x may be flat. */
    private Tensor rows(Tensor x) {
        long per = Tensor.sizeOf(inputShape);
        if (x.rank() < 1 || x.dim(0) < 1 || x.size() != x.dim(0) * per) {
            throw new IllegalArgumentException(kind + " expects rows of " + Tensor.format(inputShape) + " (" + per
                    + " values each), got " + Tensor.format(x.shape()));
        }
        int[] shape = new int[inputShape.length + 1];
        shape[0] = x.dim(0);
        System.arraycopy(inputShape, 0, shape, 1, inputShape.length);
        return x.reshape(shape);
    }

    /**
     * Trains on the rows of x with Adam at learning rate {@code lr}, targets equal to the inputs
     * (validation may be null). With denoising, the corruption of epoch e is drawn from a generator
     * seeded by (config seed, e), so a resumed run corrupts exactly as an uninterrupted one.
     */
    public History fit(Tensor x, Tensor validation, Trainer.Config config, double lr, TrainingListener listener) throws IOException {
        try (Adam adam = adam(lr)) {
            return fit(x, validation, config, adam, listener);
        }
    }

    /** A fresh Adam (lr, betas 0.9 / 0.999, eps 1e-8) on this model's parameters, as {@link #fit} uses; the caller closes it. */
    public Adam adam(double lr) {
        return new Adam(net.slab(), LearningRate.constant(lr), 0.9, 0.999, 1e-8, 0);
    }

    /**
     * {@link #fit} with the caller's optimizer (from {@link #adam}), whose state (moments and step count)
     * carries over between calls: with {@link Trainer.Config#onlyEpoch} one epoch per call continues one run.
     */
    public History fit(Tensor x, Tensor validation, Trainer.Config config, Adam adam, TrainingListener listener) throws IOException {
        Tensor in = rows(x);
        Tensor val = validation == null ? null : rows(validation);
        TrainingListener l = noise == null ? listener : reseedingPerEpoch(noise, config.seed(), listener);
        WeightDecay decay = cfg.weightDecay > 0 ? new WeightDecay(cfg.weightDecay) : null;
        return new Trainer(config, l).fit(net, lossOf(cfg.loss), adam, decay, in, in, val, val);
    }

    /** Writes the codes of the rows of x, flattened, into codes (N, {@link #codeSize()}), batch by batch. */
    public void encode(Tensor x, Tensor codes) {
        Tensor in = rows(x);
        int n = in.dim(0);
        int codeSize = codeSize();
        if (codes.rank() != 2 || codes.dim(0) != n || codes.dim(1) != codeSize) {
            throw new IllegalArgumentException("codes must have shape [" + n + ", " + codeSize + "], got " + Tensor.format(codes.shape()));
        }
        for (int from = 0; from < n; from += net.maxBatch()) {
            int size = Math.min(net.maxBatch(), n - from);
            codes.rows(from, from + size).copyFrom(net.forward(in.rows(from, from + size), false, codeIndex).reshape(size, codeSize));
        }
    }

    /** New tensor in {@code ws} holding the codes of x. */
    public Tensor encode(Tensor x, Workspace ws) {
        Tensor codes = ws.allocate(x.dim(0), codeSize());
        encode(x, codes);
        return codes;
    }

    /** Writes the reconstructions of the rows of x into out (the shape of x). */
    public void reconstruct(Tensor x, Tensor out) {
        Tensor in = rows(x);
        Tensor to = rows(out);
        if (to.dim(0) != in.dim(0)) {
            throw new IllegalArgumentException("reconstructions need " + in.dim(0) + " rows, got " + Tensor.format(out.shape()));
        }
        for (int from = 0; from < in.dim(0); from += net.maxBatch()) {
            int size = Math.min(net.maxBatch(), in.dim(0) - from);
            to.rows(from, from + size).copyFrom(net.forward(in.rows(from, from + size), false));
        }
    }

    /** Mean reconstruction loss (the training loss without penalties) over the rows of x. */
    public double reconstructionLoss(Tensor x) {
        try (Workspace ws = new Workspace("eval")) {
            return Trainer.evaluate(net, lossOf(cfg.loss), rows(x), rows(x), ws, net.maxBatch());
        }
    }

    /** Values per code. */
    public abstract int codeSize();

    /** The encoder's layers as JSON, the model file's {@code encoder} entry (see each kind). */
    public abstract ArrayNode encoderSpec();

    /** Adds the kind's own config fields (its layer sizes and options) to {@code o}. */
    abstract void putConfig(ObjectNode o);

    public Sequential network() {
        return net;
    }

    /** The training corruption, or null for a plain autoencoder. */
    public Corruption corruption() {
        return cfg.corruption;
    }

    /** The hyperparameters as JSON: what a model file stores and the kind's {@code fromConfig} reads back. */
    public ObjectNode configJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("kind", kind);
        putConfig(o);
        cfg.putShared(o);
        return o;
    }

    /** The hyperparameters as strings (for reports). */
    public Map<String, String> config() {
        Map<String, String> m = new LinkedHashMap<>();
        configJson().properties().forEach(e -> m.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString()));
        return m;
    }

    /**
     * Writes the model to a safetensors file (atomically): every parameter under its layer name, and in
     * {@code __metadata__} the kind, the config, the encoder spec, the input shape and the provenance.
     */
    public void save(Path file, Map<String, String> provenance) throws IOException {
        ModelFiles.save(file, kind, configJson(), encoderSpec(), inputShape, net, provenance);
    }

    /**
     * Loads a model of {@code kind} saved by {@link #save}, bit-exactly: the network is built by the
     * builder {@code fromConfig} makes of the file's config, then every parameter is read.
     */
    static <M extends AutoencoderCore<M>> M load(Path file, Kernels kernels, String kind,
                                                 BiFunction<JsonNode, String, ? extends Builder<?, M>> fromConfig) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.Loaded l = SafeTensors.read(file, arena);
            ModelFile.requireKind(l, kind);
            M ae = fromConfig.apply(ModelFile.json(l, "config"), file.toString()).kernels(kernels).build();
            try {
                ModelFiles.loadInto(ae.network(), l, kind);
                return ae;
            } catch (RuntimeException e) {
                ae.close();
                throw e;
            }
        }
    }

    @Override
    public String kind() {
        return kind;
    }

    @Override
    public int[] inputShape() {
        return inputShape.clone();
    }

    /** Features are the codes f(x). */
    @Override
    public int featureSize() {
        return codeSize();
    }

    @Override
    public void features(Tensor x, Tensor out) {
        requireShapes(x, out);
        encode(x, out);
    }

    /**
     * The layers of {@link #encoderSpec()} with this model's parameters: {@code dense} as
     * {@link FeatureGraph.Dense}, {@code shared_input_residual} as {@link FeatureGraph.SharedInputResidual},
     * {@code conv2d} as {@link FeatureGraph.Conv} and its activation, then a flatten of the code maps.
     */
    @Override
    public FeatureGraph featureGraph() {
        Map<String, Tensor> params = new LinkedHashMap<>();
        for (dev.latent.nn.Param p : net.params()) {
            params.put(p.name(), p.value());
        }
        List<FeatureGraph.Step> steps = new ArrayList<>();
        boolean maps = false;
        for (JsonNode l : encoderSpec()) {
            String w = l.get("weight").asText();
            String b = l.get("bias").asText();
            Activation a = Activation.parse(l.get("activation").asText());
            String layer = w.substring(0, w.lastIndexOf('.'));
            switch (l.get("type").asText()) {
                case "dense" -> steps.add(new FeatureGraph.Dense(layer, params.get(w), params.get(b), a));
                case "shared_input_residual" -> steps.add(new FeatureGraph.SharedInputResidual(layer, params.get(w), params.get(b), a));
                case "conv2d" -> {
                    steps.add(new FeatureGraph.Conv(layer, params.get(w), params.get(b), l.get("kernel").asInt(),
                            l.get("stride").asInt(), l.get("padding").asInt()));
                    steps.add(new FeatureGraph.Activate(a));
                    maps = true;
                }
                default -> throw new IllegalStateException(kind + ": encoder layer type " + l.get("type") + " has no feature step");
            }
        }
        if (maps) {
            steps.add(new FeatureGraph.Flatten());
        }
        return new FeatureGraph(inputShape, steps);
    }

    @Override
    public void close() {
        net.close();
    }

    /** A listener that reseeds {@code noise} from (seed, epoch) before every epoch, then forwards to {@code next}. */
    static TrainingListener reseedingPerEpoch(NoiseLayer noise, long seed, TrainingListener next) {
        TrainingListener to = next == null ? TrainingListener.NONE : next;
        return new TrainingListener() {
            @Override
            public void onStart(int firstEpoch, int epochs, int batchesPerEpoch, int samplesPerEpoch) {
                noise.reseed(epochSeed(seed, firstEpoch));
                to.onStart(firstEpoch, epochs, batchesPerEpoch, samplesPerEpoch);
            }

            @Override
            public void onBatch(int epoch, int batch, double meanLoss, double samplesPerSecond) {
                to.onBatch(epoch, batch, meanLoss, samplesPerSecond);
            }

            @Override
            public void onEpoch(EpochResult result) {
                noise.reseed(epochSeed(seed, result.epoch() + 1));
                to.onEpoch(result);
            }

            @Override
            public void onEnd(History history) {
                to.onEnd(history);
            }
        };
    }

    /** The corruption seed of an epoch: the shuffle's (seed, epoch) mixing with a salt, so the two streams differ. */
    static long epochSeed(long seed, int epoch) {
        return (seed ^ 0x6A09E667F3BCC909L) * 0x9E3779B97F4A7C15L + epoch;
    }
}
