package dev.latent.model.selfsup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.data.Augment;
import dev.latent.io.BadInputException;
import dev.latent.io.ModelFile;
import dev.latent.io.SafeTensors;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.loss.NtXent;
import dev.latent.loss.SoftmaxCrossEntropy;
import dev.latent.model.FeatureExtractor;
import dev.latent.model.FeatureGraph;
import dev.latent.model.Hyperparameters;
import dev.latent.model.Hyperparameters.Param;
import dev.latent.model.ModelFiles;
import dev.latent.nn.ActivationLayer;
import dev.latent.nn.AvgPool2d;
import dev.latent.nn.BatchNorm;
import dev.latent.nn.Conv2d;
import dev.latent.nn.Dense;
import dev.latent.nn.Flatten;
import dev.latent.nn.Layer;
import dev.latent.nn.MaxPool2d;
import dev.latent.nn.Sequential;
import dev.latent.optim.Adam;
import dev.latent.optim.LearningRate;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.EpochResult;
import dev.latent.train.History;
import dev.latent.train.TrainingListener;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Self-supervised learners on a small convolutional encoder: networks trained on a task made from the
 * unlabeled images themselves, whose encoder output is then the feature vector.
 *
 * <p>Encoder, on images (C, H, W) (patches (C, P, P) for the patch task): for each channel count c_i,
 * Conv2d(3x3, stride 1, pad 1) -> BatchNorm -> ReLU, then a 2x2 max pool after every level but the last;
 * then an average pool to a {@code pool} x {@code pool} grid and a flatten: F = c_L * pool^2 values.
 * Pretext tasks ({@link Pretext}), each a model kind:
 * <ul>
 *   <li>{@code contrastive} (SimCLR, Chen et al. 2020): two random augmentations ({@link Augment.Policy})
 *       of each of B images, both through the encoder and a projection head Dense(F, hidden) -> ReLU ->
 *       Dense(hidden, dim); the loss is {@link NtXent} over the 2B projections.</li>
 *   <li>{@code exemplar} (Exemplar-CNN, Dosovitskiy et al. 2014): N = {@code classes} training images,
 *       each its own surrogate class; an augmentation of image k has label k; head Dense(F, hidden) ->
 *       ReLU -> Dense(hidden, N), softmax cross-entropy.</li>
 *   <li>{@code patch-position} (Doersch et al. 2015): a 3x3 grid of P x P patches at offsets
 *       {0, S, 2S} (plus a random jitter of up to {@code jitter} pixels, kept inside the image); the
 *       centre patch and one of its 8 neighbours go through the encoder, their features are
 *       concatenated and a head Dense(2F, hidden) -> ReLU -> Dense(hidden, 8) predicts which
 *       neighbour it is (softmax cross-entropy). Features of an image: the encoder's F features of
 *       each of the 9 grid patches (no jitter), concatenated: 9F values.</li>
 * </ul>
 * Features ({@link #features}) run the encoder in inference mode (batch norm with running statistics)
 * in chunks of its max batch; the model file holds the encoder, its running statistics and the head,
 * read back bit-exactly. Training: Adam, a seeded order and seeded augmentations per epoch (seed, epoch).
 */
public final class SelfSupervised implements FeatureExtractor {

    /** The pretext task: its model kind. */
    public enum Pretext {
        CONTRASTIVE("contrastive"), EXEMPLAR("exemplar"), PATCH_POSITION("patch-position");

        private final String kind;

        Pretext(String kind) {
            this.kind = kind;
        }

        public String kind() {
            return kind;
        }

        public static Pretext of(String kind) {
            for (Pretext p : values()) {
                if (p.kind.equals(kind)) {
                    return p;
                }
            }
            throw new IllegalArgumentException("unknown self-supervised kind '" + kind + "'; expected contrastive, exemplar or patch-position");
        }
    }

    static final ObjectMapper JSON = new ObjectMapper();

    public static final Param<int[]> CHANNELS = Param.ints("channels", new int[] {16, 32, 64}, 1, 4096,
            "output channels of the encoder's conv levels (3x3, batch norm, relu; 2x2 max pool between levels)");
    public static final Param<Integer> POOL = Param.integer("pool", 1, 1, 64,
            "the encoder's last maps are average-pooled to a pool x pool grid (1: global; contrastive and exemplar: 7, the"
                    + " 7x7 maps of 28x28 digits unpooled)");
    public static final Param<Integer> HIDDEN = Param.integer("hidden", 256, 1, 1 << 16, "hidden units of the pretext head");
    public static final Param<Integer> DIM = Param.integer("dim", 64, 1, 1 << 16, "contrastive: projection size");
    public static final Param<Double> TEMPERATURE = Param.real("temperature", 0.2, 1e-3, 100, "contrastive: NT-Xent temperature");
    public static final Param<Integer> CLASSES = Param.integer("classes", 4000, 2, 1 << 20,
            "exemplar: surrogate classes (the first N training images; fewer images: all of them)");
    public static final Param<Double> SHIFT = Param.real("shift", 4.0, 0, 64, "augmentation: largest shift in pixels per axis");
    public static final Param<Double> ROTATION = Param.real("rotation", 15.0, 0, 180, "augmentation: largest rotation in degrees");
    public static final Param<Double> SCALE = Param.real("scale", 0.2, 0, 0.9, "augmentation: scale in 1 +- scale");
    public static final Param<Double> ELASTIC = Param.real("elastic", 0.0, 0, 100,
            "augmentation: elastic distortion alpha (Simard et al.: 34; sigma 4; 0: none)");
    public static final Param<Double> GAIN = Param.real("gain", 0.7, 0.05, 1, "augmentation: contrast gain in [gain, 1/gain]");
    public static final Param<Integer> PATCH = Param.integer("patch", 10, 3, 1 << 12, "patch-position: patch side P");
    public static final Param<Integer> GRID = Param.integer("grid", 9, 1, 1 << 12, "patch-position: grid step S (patches at 0, S, 2S)");
    public static final Param<Integer> JITTER = Param.integer("jitter", 1, 0, 64, "patch-position: random jitter of each patch, pixels");
    public static final Param<Double> WEIGHT_DECAY = Param.real("weight_decay", 1e-4, 0, 1, "decoupled (AdamW) weight decay");

    private static final Param<?>[] AUGMENT = {SHIFT, ROTATION, SCALE, ELASTIC, GAIN};

    /** The --set keys of each kind. */
    public static Hyperparameters hyperparameters(Pretext p) {
        return switch (p) {
            case CONTRASTIVE -> Hyperparameters.of(CHANNELS, POOL.withDefault(7), HIDDEN, DIM, TEMPERATURE).plus(AUGMENT).plus(WEIGHT_DECAY);
            case EXEMPLAR -> Hyperparameters.of(CHANNELS, POOL.withDefault(7), HIDDEN, CLASSES).plus(AUGMENT).plus(WEIGHT_DECAY);
            case PATCH_POSITION -> Hyperparameters.of(CHANNELS, POOL, HIDDEN, PATCH, GRID, JITTER, WEIGHT_DECAY);
        };
    }

    /** Everything that decides the network's shape and training task (the file's config). */
    public record Config(Pretext pretext, int[] input, Hyperparameters.Values values, int maxBatch) {

        public Config {
            if (input.length != 3 || Arrays.stream(input).anyMatch(v -> v < 1)) {
                throw new IllegalArgumentException(pretext.kind + ": input shape must be positive (C, H, W), got " + Arrays.toString(input));
            }
            if (maxBatch < 2 || maxBatch > 1 << 14) {
                throw new IllegalArgumentException(pretext.kind + ": batch must be in 2.." + (1 << 14) + ", got " + maxBatch);
            }
            input = input.clone();
        }

        <T> T get(Param<T> p) {
            return values.get(p);
        }

        /** Rows the encoder sees at once in training: both views (contrastive) or both patches (patch task). */
        int encoderBatch() {
            return pretext == Pretext.EXEMPLAR ? maxBatch : 2 * maxBatch;
        }

        int[] encoderInput() {
            return pretext == Pretext.PATCH_POSITION ? new int[] {input[0], get(PATCH), get(PATCH)} : input.clone();
        }

        Augment.Policy policy() {
            if (pretext == Pretext.PATCH_POSITION) {
                return Augment.Policy.NONE;
            }
            double s = get(SCALE);
            return new Augment.Policy(Math.toRadians(get(ROTATION)), 1 - s, 1 + s, get(SHIFT), get(GAIN), 0.1, get(ELASTIC), 4);
        }

        ObjectNode toJson() {
            ObjectNode o = JSON.createObjectNode();
            o.put("kind", pretext.kind);
            ArrayNode in = o.putArray("input_shape");
            Arrays.stream(input).forEach(in::add);
            Hyperparameters.Writer w = Hyperparameters.writeTo(o);
            for (String key : hyperparameters(pretext).keys()) {
                putValue(w, key);
            }
            o.put("max_batch", maxBatch);
            return o;
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        private void putValue(Hyperparameters.Writer w, String key) {
            for (Param p : new Param[] {CHANNELS, POOL, HIDDEN, DIM, TEMPERATURE, CLASSES, SHIFT, ROTATION, SCALE, ELASTIC, GAIN, PATCH, GRID,
                    JITTER, WEIGHT_DECAY}) {
                if (p.key().equals(key)) {
                    w.put(p, values.get(p));
                }
            }
        }

        static Config fromJson(JsonNode c, String source) {
            String kind = ModelFiles.required(c, "kind", source).asText();
            Pretext p;
            try {
                p = Pretext.of(kind);
            } catch (IllegalArgumentException e) {
                throw new BadInputException(source + ": " + e.getMessage());
            }
            int[] in = ModelFiles.ints(c, "input_shape", source);
            JsonNode mb = ModelFiles.required(c, "max_batch", source);
            if (!mb.isIntegralNumber()) {
                throw new BadInputException(source + ": config field 'max_batch' must be an integer, got " + mb);
            }
            try {
                return new Config(p, in, hyperparameters(p).read(c, source), mb.asInt());
            } catch (BadInputException e) {
                throw e;
            } catch (IllegalArgumentException e) {
                throw new BadInputException(source + ": invalid " + kind + " config: " + e.getMessage(), e);
            }
        }
    }

    private final Config cfg;
    private final Kernels kernels;
    private final Sequential encoder;
    private final List<BatchNorm> norms = new ArrayList<>();
    private final Conv2d first;
    private final Chain head;
    private final int encoderFeatures;
    private final int featureSize;
    private final int[][] gridOffsets;
    private final Workspace ws = new Workspace("selfsup");
    private Tensor patchBuffer;

    public SelfSupervised(Config cfg, Kernels kernels) {
        this.cfg = cfg;
        this.kernels = kernels;
        int[] encIn = cfg.encoderInput();
        int[] channels = cfg.get(CHANNELS);
        int pool = cfg.get(POOL);
        List<Layer> layers = new ArrayList<>();
        int c = encIn[0];
        int h = encIn[1];
        int w = encIn[2];
        Conv2d firstConv = null;
        for (int i = 0; i < channels.length; i++) {
            Conv2d conv = new Conv2d("conv" + (i + 1), c, channels[i], 3, 1, 1, false);
            firstConv = firstConv == null ? conv : firstConv;
            BatchNorm bn = new BatchNorm("bn" + (i + 1), channels[i]);
            norms.add(bn);
            layers.add(conv);
            layers.add(bn);
            layers.add(new ActivationLayer("relu" + (i + 1), Activation.RELU));
            c = channels[i];
            if (i < channels.length - 1) {
                if (h < 2 || w < 2) {
                    throw new IllegalArgumentException(cfg.pretext.kind + ": " + channels.length + " conv levels halve the "
                            + encIn[1] + "x" + encIn[2] + " input below 1 pixel; use fewer channels entries");
                }
                layers.add(new MaxPool2d("pool" + (i + 1), 2, 2));
                h /= 2;
                w /= 2;
            }
        }
        if (h % pool != 0 || w % pool != 0) {
            throw new IllegalArgumentException(cfg.pretext.kind + ": the encoder's last maps are " + h + "x" + w
                    + ", not divisible into a pool grid of " + pool + "x" + pool);
        }
        if (h / pool > 1 || w / pool > 1) {
            if (h / pool != w / pool) {
                throw new IllegalArgumentException(cfg.pretext.kind + ": pooling needs square maps, got " + h + "x" + w);
            }
            layers.add(new AvgPool2d("avgpool", h / pool, h / pool));
        }
        layers.add(new Flatten("features"));
        this.first = firstConv;
        this.encoderFeatures = c * pool * pool;
        this.encoder = new Sequential(cfg.pretext.kind + "-encoder", layers).build(encIn, cfg.encoderBatch(), kernels);
        int hidden = cfg.get(HIDDEN);
        List<Layer> headLayers = switch (cfg.pretext) {
            case CONTRASTIVE -> List.of(new Dense("proj1", encoderFeatures, hidden), new ActivationLayer("proj_relu", Activation.RELU),
                    new Dense("proj2", hidden, cfg.get(DIM)));
            case EXEMPLAR -> List.of(new Dense("head1", encoderFeatures, hidden), new ActivationLayer("head_relu", Activation.RELU),
                    new Dense("head2", hidden, cfg.get(CLASSES)));
            case PATCH_POSITION -> List.of(new Dense("head1", 2 * encoderFeatures, hidden),
                    new ActivationLayer("head_relu", Activation.RELU), new Dense("head2", hidden, 8));
        };
        int headIn = cfg.pretext == Pretext.PATCH_POSITION ? 2 * encoderFeatures : encoderFeatures;
        this.head = new Chain(cfg.pretext.kind + "-head", headLayers, new int[] {headIn}, cfg.encoderBatch(), kernels);
        if (cfg.pretext == Pretext.PATCH_POSITION) {
            int p = cfg.get(PATCH);
            int s = cfg.get(GRID);
            if (2 * s + p > cfg.input[1] || 2 * s + p > cfg.input[2]) {
                encoder.close();
                head.close();
                throw new IllegalArgumentException("patch-position: a 3x3 grid of " + p + "x" + p + " patches " + s + " apart needs "
                        + (2 * s + p) + " pixels per side, the images are " + cfg.input[1] + "x" + cfg.input[2]);
            }
            int oy = (cfg.input[1] - (2 * s + p)) / 2;
            int ox = (cfg.input[2] - (2 * s + p)) / 2;
            gridOffsets = new int[9][];
            for (int g = 0; g < 9; g++) {
                gridOffsets[g] = new int[] {oy + (g / 3) * s, ox + (g % 3) * s};
            }
            this.featureSize = 9 * encoderFeatures;
        } else {
            gridOffsets = null;
            this.featureSize = encoderFeatures;
        }
    }

    /** Draws the initial weights of the encoder and the head from {@code seed}. */
    public SelfSupervised init(long seed) {
        encoder.init(seed);
        head.init(new SplittableRandom(seed ^ 0x5DEECE66DL));
        return this;
    }

    public Config config() {
        return cfg;
    }

    /** The first conv layer (its weights are the first-layer filters). */
    public Conv2d firstLayer() {
        return first;
    }

    public Sequential encoder() {
        return encoder;
    }

    /** The encoder's F outputs per image (patch task: per patch). */
    public int encoderFeatures() {
        return encoderFeatures;
    }

    @Override
    public String kind() {
        return cfg.pretext.kind;
    }

    @Override
    public int[] inputShape() {
        return cfg.input.clone();
    }

    @Override
    public int featureSize() {
        return featureSize;
    }

    @Override
    public void features(Tensor x, Tensor out) {
        requireShapes(x, out);
        int n = x.dim(0);
        int chunk = encoder.maxBatch();
        int[] in = cfg.encoderInput();
        int per = (int) Tensor.sizeOf(in);
        if (gridOffsets == null) {
            for (int from = 0; from < n; from += chunk) {
                int size = Math.min(chunk, n - from);
                Tensor rows = x.rows(from, from + size).reshape(size, in[0], in[1], in[2]);
                out.rows(from, from + size).copyFrom(encoder.forward(rows, false));
            }
            return;
        }
        if (patchBuffer == null) {
            patchBuffer = ws.allocate(chunk, per);
        }
        for (int from = 0; from < n; from += chunk) {
            int size = Math.min(chunk, n - from);
            for (int g = 0; g < 9; g++) {
                for (int r = 0; r < size; r++) {
                    Augment.crop(x, from + r, in[0], cfg.input[1], cfg.input[2], gridOffsets[g][0], gridOffsets[g][1], patchBuffer, r,
                            in[1], in[2]);
                }
                Tensor f = encoder.forward(patchBuffer.rows(0, size).reshape(size, in[0], in[1], in[2]), false);
                for (int r = 0; r < size; r++) {
                    copyRow(f, r, 0, out, from + r, g * encoderFeatures, encoderFeatures);
                }
            }
        }
    }

    /**
     * The encoder's layers (batch norm with running statistics); for patch-position, run on the 9 grid
     * windows of each image, their features side by side.
     */
    @Override
    public FeatureGraph featureGraph() {
        List<FeatureGraph.Step> encoderSteps = FeatureGraph.ofLayers(encoder.layers());
        if (gridOffsets == null) {
            return new FeatureGraph(cfg.input, encoderSteps);
        }
        int[] in = cfg.encoderInput();
        return new FeatureGraph(cfg.input, List.of(new FeatureGraph.Windows(in[1], in[2], gridOffsets, encoderSteps)));
    }

    private static void copyRow(Tensor src, int sr, int sc, Tensor dst, int dr, int dc, int count) {
        MemorySegment.copy(src.segment(), ValueLayout.JAVA_FLOAT, (src.offset() + (long) sr * src.rowSize() + sc) * Float.BYTES,
                dst.segment(), ValueLayout.JAVA_FLOAT, (dst.offset() + (long) dr * dst.rowSize() + dc) * Float.BYTES, count);
    }

    /** The generator of epoch e's order and augmentations: a function of (seed, e) only. */
    static SplittableRandom epochRandom(long seed, int epoch) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + 1);
    }

    /**
     * Trains the encoder and head on the rows of images (N, C*H*W) for {@code epochs} epochs of batches
     * of at most the config's batch, Adam at {@code lr} with a cosine decay to 0 over the run; returns
     * the mean pretext loss per epoch.
     */
    public History fit(Tensor images, int epochs, double lr, long seed, TrainingListener listener) {
        if (images.rank() < 1 || images.rowSize() != inputSize() || images.dim(0) < 2) {
            throw new IllegalArgumentException(kind() + " trains on at least 2 images of " + Tensor.format(cfg.input) + " ("
                    + inputSize() + " values each), got " + Tensor.format(images.shape()));
        }
        if (epochs < 1 || !(lr > 0)) {
            throw new IllegalArgumentException(kind() + ": need epochs >= 1 and lr > 0, got " + epochs + ", " + lr);
        }
        int n = cfg.pretext == Pretext.EXEMPLAR ? Math.min(images.dim(0), cfg.get(CLASSES)) : images.dim(0);
        int b = Math.min(cfg.maxBatch, n);
        if (cfg.pretext == Pretext.CONTRASTIVE && b < 2) {
            throw new IllegalArgumentException("contrastive needs batches of >= 2 images");
        }
        int batches = (n + b - 1) / b;
        long steps = (long) epochs * batches;
        LearningRate rate = step -> lr * 0.5 * (1 + Math.cos(Math.PI * Math.min(step, steps) / steps));
        double wd = cfg.get(WEIGHT_DECAY);
        List<EpochResult> results = new ArrayList<>();
        int[] encIn = cfg.encoderInput();
        int per = (int) Tensor.sizeOf(encIn);
        try (Workspace tw = new Workspace("selfsup-train");
             Adam encOpt = new Adam(encoder.slab(), rate, 0.9, 0.999, 1e-8, wd);
             Adam headOpt = new Adam(head.slab(), rate, 0.9, 0.999, 1e-8, wd)) {
            Tensor views = tw.allocate(cfg.encoderBatch(), per);
            Tensor targets = tw.allocate(cfg.encoderBatch(), cfg.pretext == Pretext.EXEMPLAR ? cfg.get(CLASSES) : 8);
            Tensor pairs = cfg.pretext == Pretext.PATCH_POSITION ? tw.allocate(b, 2 * encoderFeatures) : null;
            float[] scratch = new float[inputSize()];
            NtXent ntXent = cfg.pretext == Pretext.CONTRASTIVE ? new NtXent(cfg.get(TEMPERATURE)) : null;
            SoftmaxCrossEntropy ce = new SoftmaxCrossEntropy();
            Augment.Policy policy = cfg.policy();
            listener.onStart(1, epochs, batches, n);
            for (int e = 1; e <= epochs; e++) {
                long t0 = System.nanoTime();
                SplittableRandom rnd = epochRandom(seed, e);
                int[] order = permutation(n, rnd);
                double sum = 0;
                for (int k = 0; k < batches; k++) {
                    int from = k * b;
                    int size = Math.min(b, n - from);
                    if (cfg.pretext == Pretext.CONTRASTIVE && size < 2) {
                        continue;
                    }
                    int[] idx = Arrays.copyOfRange(order, from, from + size);
                    encoder.zeroGrad();
                    head.zeroGrad();
                    double loss = switch (cfg.pretext) {
                        case CONTRASTIVE -> contrastiveStep(images, idx, views, policy, ntXent, rnd, scratch);
                        case EXEMPLAR -> exemplarStep(images, idx, views, targets, policy, ce, rnd, scratch);
                        case PATCH_POSITION -> patchStep(images, idx, views, pairs, targets, ce, rnd);
                    };
                    encOpt.step();
                    headOpt.step();
                    sum += loss;
                    listener.onBatch(e, k + 1, sum / (k + 1), (double) (from + size) / ((System.nanoTime() - t0) * 1e-9));
                }
                double seconds = (System.nanoTime() - t0) * 1e-9;
                EpochResult r = new EpochResult(e, sum / batches, Double.NaN, seconds, n / seconds, false);
                results.add(r);
                listener.onEpoch(r);
            }
        }
        History h = new History(results, false);
        listener.onEnd(h);
        return h;
    }

    private double contrastiveStep(Tensor images, int[] idx, Tensor views, Augment.Policy policy, NtXent loss, SplittableRandom rnd,
                                   float[] scratch) {
        int b = idx.length;
        int c = cfg.input[0];
        int hh = cfg.input[1];
        int ww = cfg.input[2];
        policy.apply(images, idx, views.rows(0, b), c, hh, ww, rnd, scratch);
        policy.apply(images, idx, views.rows(b, 2 * b), c, hh, ww, rnd, scratch);
        Tensor x = views.rows(0, 2 * b).reshape(2 * b, c, hh, ww);
        Tensor f = encoder.forward(x, true);
        Tensor z = head.forward(f, true);
        Tensor dz = head.outputGrad(2 * b);
        double l = loss.valueAndGradient(z, dz);
        Tensor df = head.backward(f, dz);
        encoder.backward(x, df);
        return l;
    }

    private double exemplarStep(Tensor images, int[] idx, Tensor views, Tensor targets, Augment.Policy policy, SoftmaxCrossEntropy ce,
                                SplittableRandom rnd, float[] scratch) {
        int b = idx.length;
        int c = cfg.input[0];
        policy.apply(images, idx, views.rows(0, b), c, cfg.input[1], cfg.input[2], rnd, scratch);
        Tensor t = targets.rows(0, b);
        t.fill(0f);
        for (int r = 0; r < b; r++) {
            t.set(r, idx[r], 1f);
        }
        Tensor x = views.rows(0, b).reshape(b, c, cfg.input[1], cfg.input[2]);
        Tensor f = encoder.forward(x, true);
        Tensor z = head.forward(f, true);
        Tensor dz = head.outputGrad(b);
        double l = ce.valueAndGradient(z, t, dz);
        encoder.backward(x, head.backward(f, dz));
        return l;
    }

    /** The 8 neighbours of the centre (grid cell 4), in reading order: the class of a pair. */
    private static final int[] NEIGHBOURS = {0, 1, 2, 3, 5, 6, 7, 8};

    private double patchStep(Tensor images, int[] idx, Tensor views, Tensor pairs, Tensor targets, SoftmaxCrossEntropy ce,
                             SplittableRandom rnd) {
        int b = idx.length;
        int c = cfg.input[0];
        int hh = cfg.input[1];
        int ww = cfg.input[2];
        int p = cfg.get(PATCH);
        int jitter = cfg.get(JITTER);
        Tensor t = targets.rows(0, b);
        t.fill(0f);
        for (int r = 0; r < b; r++) {
            int cls = rnd.nextInt(8);
            t.set(r, cls, 1f);
            int[] centre = jittered(gridOffsets[4], jitter, hh, ww, p, rnd);
            int[] other = jittered(gridOffsets[NEIGHBOURS[cls]], jitter, hh, ww, p, rnd);
            Augment.crop(images, idx[r], c, hh, ww, centre[0], centre[1], views, r, p, p);
            Augment.crop(images, idx[r], c, hh, ww, other[0], other[1], views, b + r, p, p);
        }
        Tensor x = views.rows(0, 2 * b).reshape(2 * b, c, p, p);
        Tensor f = encoder.forward(x, true);
        int fs = encoderFeatures;
        Tensor pr = pairs.rows(0, b);
        for (int r = 0; r < b; r++) {
            copyRow(f, r, 0, pr, r, 0, fs);
            copyRow(f, b + r, 0, pr, r, fs, fs);
        }
        Tensor z = head.forward(pr, true);
        Tensor dz = head.outputGrad(b);
        double l = ce.valueAndGradient(z, t, dz);
        Tensor dpr = head.backward(pr, dz);
        // dL/df: the centre's half of each pair's gradient to row r, the neighbour's to row b + r
        Tensor grad = dfGrad(2 * b);
        for (int r = 0; r < b; r++) {
            copyRow(dpr, r, 0, grad, r, 0, fs);
            copyRow(dpr, r, fs, grad, b + r, 0, fs);
        }
        encoder.backward(x, grad);
        return l;
    }

    private Tensor featureGrad;

    private Tensor dfGrad(int rows) {
        if (featureGrad == null) {
            featureGrad = ws.allocate(cfg.encoderBatch(), encoderFeatures);
        }
        return featureGrad.rows(0, rows);
    }

    private static int[] jittered(int[] at, int jitter, int h, int w, int p, SplittableRandom rnd) {
        int y = at[0] + (jitter > 0 ? rnd.nextInt(-jitter, jitter + 1) : 0);
        int x = at[1] + (jitter > 0 ? rnd.nextInt(-jitter, jitter + 1) : 0);
        return new int[] {Math.max(0, Math.min(h - p, y)), Math.max(0, Math.min(w - p, x))};
    }

    private static int[] permutation(int n, SplittableRandom rnd) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    /** The model file's tensors: encoder parameters, batch-norm running statistics, head parameters (views). */
    private Map<String, Tensor> tensors() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (dev.latent.nn.Param p : encoder.params()) {
            t.put(p.name(), p.value());
        }
        for (BatchNorm bn : norms) {
            t.put(bn.name() + ".running_mean", bn.runningMean());
            t.put(bn.name() + ".running_var", bn.runningVar());
        }
        for (dev.latent.nn.Param p : head.params()) {
            t.put(p.name(), p.value());
        }
        return t;
    }

    /** Writes the model (kind, config, input shape, provenance in {@code __metadata__}) atomically. */
    public void save(Path file, Map<String, String> provenance) throws IOException {
        SafeTensors.write(file, tensors(), ModelFile.metadata(kind(), cfg.toJson().toString(),
                Map.of("input_shape", ModelFile.shape(cfg.input)), provenance));
    }

    /** Loads a model written by {@link #save}, of any of the three kinds, bit-exactly. */
    public static SelfSupervised load(Path file, Kernels kernels) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.Loaded l = SafeTensors.read(file, arena);
            ModelFile.requireKind(l, null);
            Config cfg = Config.fromJson(ModelFile.json(l, "config"), file.toString());
            ModelFile.requireKind(l, cfg.pretext.kind);
            SelfSupervised m;
            try {
                m = new SelfSupervised(cfg, kernels);
            } catch (IllegalArgumentException e) {
                throw new BadInputException(file + ": invalid " + cfg.pretext.kind + " config: " + e.getMessage(), e);
            }
            try {
                Set<String> expected = new HashSet<>();
                for (Map.Entry<String, Tensor> e : m.tensors().entrySet()) {
                    e.getValue().copyFrom(l.tensor(e.getKey(), e.getValue().shape()));
                    expected.add(e.getKey());
                }
                ModelFile.requireOnly(l, expected, cfg.pretext.kind);
                return m;
            } catch (RuntimeException e) {
                m.close();
                throw e;
            }
        }
    }

    @Override
    public void close() {
        ws.close();
        head.close();
        encoder.close();
    }
}
