package dev.latent.model.autoencoder;

import dev.latent.model.FeatureExtractor;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.model.Classifier;
import dev.latent.model.FeatureGraph;
import dev.latent.model.Hyperparameters;
import dev.latent.io.BadInputException;
import dev.latent.io.ModelFile;
import dev.latent.io.SafeTensors;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.loss.KlSparsity;
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
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A stacked autoencoder (seeds 000, 001, 003; UFLDL's 784-200-200-10): trained greedily, layer by
 * layer, each layer a sparse autoencoder on the codes of the layer below; then the encoders, topped
 * by a softmax layer, are fine-tuned end to end by backpropagation on labeled data.
 *
 * <p>Model files (kind {@code stacked_autoencoder}): layer i's whole autoencoder (encoder and
 * decoder) under {@code layer<i>.} ({@code layer1.enc1.weight}, {@code layer1.dec1.bias}, ...); when a
 * fine-tuned classifier was {@linkplain #keep kept}, its network under {@code fine_tuned.}
 * ({@code fine_tuned.enc1.weight} ... {@code fine_tuned.logits.bias}). {@code __metadata__.config}
 * holds the hyperparameters, the batch size the layers were built for and, when fine-tuned, the
 * classes and the classifier's batch size. {@code __metadata__.encoder} is the chain of encoder
 * layers for {@link dev.latent.serve.Encoder}: the fine-tuned ones when present (the final model), else
 * the pretrained ones.
 */
public final class StackedAutoencoder implements FeatureExtractor {

    public static final String KIND = "stacked_autoencoder";

    public static final Hyperparameters.Param<int[]> HIDDEN = Autoencoder.HIDDEN.withDefault(new int[] {200, 200});
    public static final Hyperparameters.Param<Double> BETA = Hyperparameters.Param.real("beta", 3.0, 0, Double.MAX_VALUE, "KL sparsity weight of every layer (0: none)");
    /**
     * The config keys of {@link #configJson} a user chooses (the rest come from the data and the
     * batch), with {@code latent train}'s defaults: UFLDL's 200-200, KL rho 0.1, beta 3, weight decay 3e-3.
     */
    public static final Hyperparameters HYPERPARAMETERS = Hyperparameters.of(HIDDEN, AutoencoderCore.ACTIVATION, Autoencoder.RHO,
            BETA, AutoencoderCore.WEIGHT_DECAY.withDefault(3e-3));
    private static final ObjectMapper JSON = new ObjectMapper();

    private final int input;
    private final int[] hidden;
    private final Activation activation;
    private final double rho;
    private final double beta;
    private final double weightDecay;
    private final Kernels kernels;
    private final List<Autoencoder> layers = new ArrayList<>();
    private final List<History> histories = new ArrayList<>();
    /** The batch size the layers' networks were built for (set by pretrain or load). */
    private int batch;
    /** The kept fine-tuned classifier, owned (closed) by this stack; null when none. */
    private Classifier fineTuned;
    /** Ping-pong buffers (max batch x widest layer) of {@link #features(Tensor, Tensor)}, made on first use. */
    private Workspace featureScratch;
    private Tensor[] pingPong;

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
            batch = config.batchSize();
            for (int i = 0; i < hidden.length; i++) {
                Autoencoder ae = layerBuilder(i, in.rowSize()).build().init(config.seed() + i);
                layers.add(ae);
                histories.add(ae.fit(in, null, config, lr, listener));
                if (i + 1 < hidden.length) {
                    in = ae.encode(in, ws);
                }
            }
        }
    }

    /** Layer i's autoencoder as pretrain builds it (and load rebuilds it): hidden[i] units on {@code in} inputs. */
    private Autoencoder.Builder layerBuilder(int i, int in) {
        Autoencoder.Builder b = Autoencoder.builder(in).hidden(hidden[i]).activation(activation)
                .weightDecay(weightDecay).maxBatch(batch).kernels(kernels);
        if (beta > 0) {
            b.klSparsity(rho, beta);
        }
        return b;
    }

    /**
     * Fine-tunes the stack plus a softmax layer end to end on labeled rows of x, starting from the
     * pretrained encoder weights. The stack itself is not modified (each call starts afresh).
     */
    public Classifier fineTune(Tensor x, int[] labels, int classes, Classifier.Settings s, long seed) {
        requirePretrained();
        return Classifier.train(x, labels, classes, fineTuneBody(), codeSize(), net -> copyWeights(net), s, seed, kernels);
    }

    /** The layers below the softmax head of a fine-tuned classifier: Dense enc<i> and its activation, bottom up. */
    private List<Layer> fineTuneBody() {
        List<Layer> body = new ArrayList<>();
        int prev = input;
        for (int i = 0; i < hidden.length; i++) {
            body.add(new Dense("enc" + (i + 1), prev, hidden[i]));
            body.add(new ActivationLayer("act" + (i + 1), activation));
            prev = hidden[i];
        }
        return body;
    }

    /**
     * Keeps {@code c}, a classifier returned by {@link #fineTune} on this stack, as the stack's
     * fine-tuned model: {@link #save} writes it, {@link #load} restores it, and {@link #close} closes it
     * (the stack takes ownership; an earlier kept classifier is closed).
     *
     * @throws IllegalArgumentException when c's parameters are not those of a fine-tuned copy of this stack
     */
    public void keep(Classifier c) {
        requirePretrained();
        List<Param> ps = c.network().params();
        List<String> got = new ArrayList<>();
        for (Param p : ps) {
            got.add(p.name() + Arrays.toString(p.value().shape()));
        }
        List<String> want = new ArrayList<>();
        int prev = input;
        for (int i = 0; i < hidden.length; i++) {
            want.add("enc" + (i + 1) + ".weight" + Arrays.toString(new int[] {hidden[i], prev}));
            want.add("enc" + (i + 1) + ".bias" + Arrays.toString(new int[] {hidden[i]}));
            prev = hidden[i];
        }
        want.add("logits.weight" + Arrays.toString(new int[] {c.classes(), prev}));
        want.add("logits.bias" + Arrays.toString(new int[] {c.classes()}));
        if (!got.equals(want) || !Arrays.equals(c.network().inputShape(), new int[] {input})) {
            throw new IllegalArgumentException("not a fine-tuned classifier of this stack: its parameters are " + got + ", expected " + want);
        }
        if (fineTuned != null && fineTuned != c) {
            fineTuned.close();
        }
        fineTuned = c;
    }

    /** The kept fine-tuned classifier (see {@link #keep}), owned by this stack. */
    public Optional<Classifier> fineTuned() {
        return Optional.ofNullable(fineTuned);
    }

    public int inputSize() {
        return input;
    }

    /** The top layer's size. */
    public int codeSize() {
        return hidden[hidden.length - 1];
    }

    /** The hyperparameters as JSON: what a model file stores and {@link #load} reads back. */
    public ObjectNode configJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("kind", KIND);
        o.put("input", input);
        ArrayNode h = o.putArray("hidden");
        for (int v : hidden) {
            h.add(v);
        }
        o.put("activation", activation.toString());
        o.put("rho", rho);
        o.put("beta", beta);
        o.put("weight_decay", weightDecay);
        o.put("max_batch", batch);
        if (fineTuned != null) {
            o.putObject("fine_tuned").put("classes", fineTuned.classes()).put("max_batch", fineTuned.network().maxBatch());
        } else {
            o.putNull("fine_tuned");
        }
        return o;
    }

    /**
     * The encoder for {@link dev.latent.serve.Encoder}: one dense layer per level, bottom up, from the
     * fine-tuned classifier when one is kept, else from the pretrained layers.
     */
    public ArrayNode encoderSpec() {
        ArrayNode a = JSON.createArrayNode();
        for (int i = 0; i < hidden.length; i++) {
            String prefix = fineTuned != null ? "fine_tuned.enc" + (i + 1) : "layer" + (i + 1) + ".enc1";
            a.addObject().put("type", "dense").put("weight", prefix + ".weight").put("bias", prefix + ".bias")
                    .put("activation", activation.toString());
        }
        return a;
    }

    /**
     * Writes the stack (every layer's autoencoder, and the kept fine-tuned classifier if any) to a
     * safetensors file, atomically, with the config, the encoder spec and the provenance.
     */
    public void save(Path file, Map<String, String> provenance) throws IOException {
        requirePretrained();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            for (Param p : layers.get(i).network().params()) {
                tensors.put("layer" + (i + 1) + "." + p.name(), p.value());
            }
        }
        if (fineTuned != null) {
            for (Param p : fineTuned.network().params()) {
                tensors.put("fine_tuned." + p.name(), p.value());
            }
        }
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("encoder", encoderSpec().toString());
        extra.put("input_shape", ModelFile.shape(input));
        SafeTensors.write(file, tensors, ModelFile.metadata(KIND, configJson().toString(), extra, provenance));
    }

    /**
     * Loads a stack saved by {@link #save}, bit-exactly (weights, and the networks rebuilt for the same
     * batch sizes). Every shape is checked against the config before any network is built; a defect is
     * a {@link BadInputException} naming the file and the field or tensor.
     */
    public static StackedAutoencoder load(Path file, Kernels kernels) throws IOException {
        Kernels k = kernels != null ? kernels : Kernels.current();
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.Loaded l = SafeTensors.read(file, arena);
            ModelFile.requireKind(l, KIND);
            JsonNode c = ModelFile.json(l, "config");
            String src = file + ": __metadata__.config";
            int input = dimension(c, "input", Integer.MAX_VALUE, src);
            JsonNode h = c.get("hidden");
            if (h == null || !h.isArray() || h.isEmpty()) {
                throw new BadInputException(src + ".hidden must be a non-empty array of layer sizes");
            }
            int[] hidden = new int[h.size()];
            for (int i = 0; i < hidden.length; i++) {
                hidden[i] = dimension(h, i, src + ".hidden");
            }
            Activation activation;
            try {
                activation = Activation.parse(text(c, "activation", src));
            } catch (IllegalArgumentException e) {
                throw new BadInputException(src + ".activation: " + e.getMessage(), e);
            }
            double rho = number(c, "rho", src);
            double beta = number(c, "beta", src);
            double weightDecay = number(c, "weight_decay", src);
            if (beta > 0) {
                try {
                    new KlSparsity(rho, beta);
                } catch (IllegalArgumentException e) {
                    throw new BadInputException(src + ": rho " + rho + ", beta " + beta + ": " + e.getMessage(), e);
                }
            }
            int batch = dimension(c, "max_batch", AutoencoderCore.MAX_BATCH, src);
            JsonNode ft = c.get("fine_tuned");
            if (ft == null) {
                throw new BadInputException(src + ".fine_tuned is missing (null when the stack was not fine-tuned)");
            }
            int classes = 0;
            int ftBatch = 0;
            if (!ft.isNull()) {
                classes = dimension(ft, "classes", Integer.MAX_VALUE, src + ".fine_tuned");
                ftBatch = dimension(ft, "max_batch", AutoencoderCore.MAX_BATCH, src + ".fine_tuned");
            }
            // The config sizes every buffer: check it against the tensors before building anything.
            int prev = input;
            for (int i = 0; i < hidden.length; i++) {
                l.tensor("layer" + (i + 1) + ".enc1.weight", hidden[i], prev);
                if (classes > 0) {
                    l.tensor("fine_tuned.enc" + (i + 1) + ".weight", hidden[i], prev);
                }
                prev = hidden[i];
            }
            if (classes > 0) {
                l.tensor("fine_tuned.logits.weight", classes, prev);
            }
            StackedAutoencoder s = new StackedAutoencoder(input, hidden, activation, rho, beta, weightDecay, k);
            s.batch = batch;
            try {
                Set<String> expected = new HashSet<>();
                prev = input;
                for (int i = 0; i < hidden.length; i++) {
                    Autoencoder ae = s.layerBuilder(i, prev).build();
                    s.layers.add(ae);
                    copyParams(l, "layer" + (i + 1) + ".", ae.network().params(), expected);
                    prev = hidden[i];
                }
                if (classes > 0) {
                    s.fineTuned = Classifier.untrained(input, s.fineTuneBody(), prev, classes, ftBatch, k);
                    copyParams(l, "fine_tuned.", s.fineTuned.network().params(), expected);
                }
                ModelFile.requireOnly(l, expected, "stacked autoencoder");
                return s;
            } catch (RuntimeException e) {
                s.close();
                throw e;
            }
        }
    }

    private static void copyParams(SafeTensors.Loaded l, String prefix, List<Param> params, Set<String> expected) {
        for (Param p : params) {
            p.value().copyFrom(l.tensor(prefix + p.name(), p.value().shape()));
            expected.add(prefix + p.name());
        }
    }

    private static int dimension(JsonNode c, String field, int max, String where) {
        JsonNode v = c.get(field);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1 || v.asInt() > max) {
            throw new BadInputException(where + "." + field + " must be an integer in 1.." + max + ", got " + v);
        }
        return v.asInt();
    }

    private static int dimension(JsonNode array, int i, String where) {
        JsonNode v = array.get(i);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1) {
            throw new BadInputException(where + "[" + i + "] must be a positive integer, got " + v);
        }
        return v.asInt();
    }

    private static double number(JsonNode c, String field, String where) {
        JsonNode v = c.get(field);
        if (v == null || !v.isNumber() || !Double.isFinite(v.asDouble()) || v.asDouble() < 0) {
            throw new BadInputException(where + "." + field + " must be a finite number >= 0, got " + v);
        }
        return v.asDouble();
    }

    private static String text(JsonNode c, String field, String where) {
        JsonNode v = c.get(field);
        if (v == null || !v.isTextual()) {
            throw new BadInputException(where + "." + field + " must be a string, got " + v);
        }
        return v.asText();
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
    public String kind() {
        return KIND;
    }

    @Override
    public int[] inputShape() {
        return new int[] {input};
    }

    /** The top layer's size. */
    @Override
    public int featureSize() {
        return codeSize();
    }

    /**
     * The codes a model file of this stack serves: the fine-tuned encoder's top hidden layer when a
     * fine-tuned classifier is kept ({@link #keep}), else the pretrained layers' top codes (the frozen
     * features before fine-tuning). Chunks of the max batch through two reused buffers.
     */
    @Override
    public void features(Tensor x, Tensor out) {
        requireShapes(x, out);
        requirePretrained();
        int n = x.dim(0);
        if (fineTuned != null) {
            Sequential net = fineTuned.network();
            int top = net.layers().size() - 2; // the activation below the logits
            for (int from = 0; from < n; from += net.maxBatch()) {
                int to = Math.min(n, from + net.maxBatch());
                out.rows(from, to).copyFrom(net.forward(x.rows(from, to), false, top));
            }
            return;
        }
        if (pingPong == null) {
            int widest = Arrays.stream(hidden).max().orElseThrow();
            featureScratch = new Workspace("stack-features");
            pingPong = new Tensor[] {featureScratch.allocate(batch, widest), featureScratch.allocate(batch, widest)};
        }
        for (int from = 0; from < n; from += batch) {
            int to = Math.min(n, from + batch);
            Tensor in = x.rows(from, to);
            for (int i = 0; i < layers.size(); i++) {
                Tensor target = i == layers.size() - 1 ? out.rows(from, to)
                        : Tensor.wrap(pingPong[i % 2].segment(), pingPong[i % 2].offset(), to - from, hidden[i]);
                layers.get(i).encode(in, target);
                in = target;
            }
        }
    }

    /**
     * The top codes' dense layers, as {@link #features} computes them: the fine-tuned encoder's when one
     * is kept, else each pretrained layer's encoder, bottom up (named {@code fine_tuned.enc<i>} and
     * {@code layer<i>.enc1} as in the model file).
     */
    @Override
    public FeatureGraph featureGraph() {
        requirePretrained();
        List<FeatureGraph.Step> steps = new ArrayList<>();
        Map<String, Tensor> tuned = new LinkedHashMap<>();
        if (fineTuned != null) {
            for (Param p : fineTuned.network().params()) {
                tuned.put(p.name(), p.value());
            }
        }
        for (int i = 0; i < hidden.length; i++) {
            if (fineTuned != null) {
                String name = "enc" + (i + 1);
                steps.add(new FeatureGraph.Dense("fine_tuned." + name, tuned.get(name + ".weight"), tuned.get(name + ".bias"), activation));
            } else {
                for (FeatureGraph.Step s : layers.get(i).featureGraph().steps()) {
                    FeatureGraph.Dense d = (FeatureGraph.Dense) s;
                    steps.add(new FeatureGraph.Dense("layer" + (i + 1) + "." + d.name(), d.weight(), d.bias(), d.activation()));
                }
            }
        }
        return new FeatureGraph(new int[] {input}, steps);
    }

    @Override
    public void close() {
        for (Autoencoder a : layers) {
            a.close();
        }
        if (fineTuned != null) {
            fineTuned.close();
            fineTuned = null;
        }
        if (featureScratch != null) {
            featureScratch.close();
            featureScratch = null;
            pingPong = null;
        }
    }
}
