package dev.latent.model.kmeans;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.data.Patches;
import dev.latent.data.Whitening;
import dev.latent.io.BadInputException;
import dev.latent.io.ModelFile;
import dev.latent.io.SafeTensors;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.kernel.Transpose;
import dev.latent.model.FeatureGraph;
import dev.latent.model.Hyperparameters;
import dev.latent.model.Hyperparameters.Param;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Single-layer clustering learning (Coates, Lee and Ng 2011; seed 001): random w x w patches,
 * per-patch brightness/contrast normalization, ZCA whitening, k-means centroids as filters; then a
 * convolutional feature extractor: at every position of a stride-s grid over a whole image the patch
 * is normalized, whitened and encoded against the centroids, and the k-channel maps are sum-pooled
 * over the four quadrants of the grid into 4k features per image.
 *
 * <p>Encoders, for a whitened patch x and centroids c_1..c_k (z_j = ||x - c_j||):
 * <ul>
 *   <li>{@link Encoding#HARD}: one-hot of the nearest centroid;
 *   <li>{@link Encoding#TRIANGLE}: f_j = max(0, mean(z) - z_j), "k-means (triangle)": about half the
 *       features are 0, the closer centroids are active in proportion;
 *   <li>{@link Encoding#SOFT_THRESHOLD}: f_j = max(0, c_j.x - alpha), meant for unit-norm (spherical)
 *       centroids.
 * </ul>
 * Model files (kind {@code kmeans}): tensors {@code centroids} (k, d), {@code whitening.mean} (d),
 * {@code whitening.matrix} (d, d); the configuration as JSON in {@code __metadata__.config}.
 */
public final class KMeansFeatures implements AutoCloseable {

    /** How a whitened patch becomes k features. */
    public enum Encoding {
        HARD, TRIANGLE, SOFT_THRESHOLD;

        public static Encoding parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT).replace('-', '_')) {
                case "hard" -> HARD;
                case "triangle" -> TRIANGLE;
                case "soft", "soft_threshold" -> SOFT_THRESHOLD;
                default -> throw new IllegalArgumentException("encoding must be hard, triangle or soft_threshold, got '" + s + "'");
            };
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Everything that defines the features: patch side and channels, k, the normalization and
     * whitening epsilons, the encoder (and alpha of the soft threshold), the stride of the
     * convolutional extraction, and how the centroids were learned (patches, iterations, spherical,
     * mini-batch, seed).
     */
    public record Config(int patch, int channels, int k, double normEps, double whitenEps, Encoding encoding, double alpha,
                         int stride, int patches, int iterations, boolean spherical, int miniBatch, long seed) {
        public Config {
            if (patch < 1 || channels < 1 || k < 1 || stride < 1 || patches < k) {
                throw new IllegalArgumentException("bad k-means features config: patch " + patch + ", channels " + channels
                        + ", k " + k + ", stride " + stride + ", patches " + patches);
            }
        }

        /**
         * The config of {@link #HYPERPARAMETERS} values {@code v} (given or defaulted), with {@code patch}
         * (the caller's default when not given), channels and seed.
         */
        public static Config of(Hyperparameters.Values v, int patch, int channels, long seed) {
            return new Config(patch, channels, v.get(K), v.get(NORM_EPS), v.get(WHITEN_EPS), v.get(ENCODING), v.get(ALPHA),
                    v.get(STRIDE), v.get(PATCHES), v.get(ITERATIONS), v.get(SPHERICAL), v.get(MINI_BATCH), seed);
        }

        /** Coates et al.'s defaults scaled to small images: 6x6 grey patches, triangle encoding, stride 1. */
        public static Config defaults(int k) {
            return new Config(6, 1, k, Patches.DEFAULT_EPS, 0.1, Encoding.TRIANGLE, 0.25, 1, 50_000, 30, false, 0, 1);
        }

        public Config withPatch(int p) {
            return new Config(p, channels, k, normEps, whitenEps, encoding, alpha, stride, patches, iterations, spherical, miniBatch, seed);
        }

        public Config withStride(int s) {
            return new Config(patch, channels, k, normEps, whitenEps, encoding, alpha, s, patches, iterations, spherical, miniBatch, seed);
        }

        public Config withEncoding(Encoding e) {
            return new Config(patch, channels, k, normEps, whitenEps, e, alpha, stride, patches, iterations, spherical, miniBatch, seed);
        }

        public Config withTraining(int nPatches, int iters, boolean sph, int mini, long s) {
            return new Config(patch, channels, k, normEps, whitenEps, encoding, alpha, stride, nPatches, iters, sph, mini, s);
        }

        public Config withWhitenEps(double e) {
            return new Config(patch, channels, k, normEps, e, encoding, alpha, stride, patches, iterations, spherical, miniBatch, seed);
        }

        public int dim() {
            return channels * patch * patch;
        }

        public String json() {
            return toJson().toString();
        }

        public ObjectNode toJson() {
            ObjectNode o = JSON.createObjectNode();
            o.put("patch", patch).put("channels", channels).put("k", k).put("norm_eps", normEps).put("whiten_eps", whitenEps)
                    .put("encoding", encoding.toString()).put("alpha", alpha).put("stride", stride).put("patches", patches)
                    .put("iterations", iterations).put("spherical", spherical).put("mini_batch", miniBatch).put("seed", seed);
            return o;
        }

        static Config fromJson(JsonNode o) {
            return new Config(o.get("patch").asInt(), o.get("channels").asInt(), o.get("k").asInt(), o.get("norm_eps").asDouble(),
                    o.get("whiten_eps").asDouble(), Encoding.parse(o.get("encoding").asText()), o.get("alpha").asDouble(),
                    o.get("stride").asInt(), o.get("patches").asInt(), o.get("iterations").asInt(), o.get("spherical").asBoolean(),
                    o.get("mini_batch").asInt(), o.get("seed").asLong());
        }
    }

    public static final String KIND = "kmeans";

    public static final Param<Integer> PATCH = Param.integer("patch", 6, 1, 1 << 10, "patch side (natural images: 8)");
    public static final Param<Integer> K = Param.integer("k", 100, 1, 1 << 20, "centroids (filters)");
    public static final Param<Double> NORM_EPS = Param.real("norm_eps", Patches.DEFAULT_EPS, 0, Double.MAX_VALUE,
            "epsilon of the per-patch contrast normalization");
    public static final Param<Double> WHITEN_EPS = Param.real("whiten_eps", 0.1, 0, Double.MAX_VALUE, "ZCA whitening epsilon");
    public static final Param<Encoding> ENCODING = Param.parsed("encoding", "encoding", "triangle|hard|soft_threshold",
            Encoding.TRIANGLE, Encoding::parse, "how a whitened patch becomes k features");
    public static final Param<Double> ALPHA = Param.real("alpha", 0.25, 0, Double.MAX_VALUE, "soft_threshold's alpha");
    public static final Param<Integer> STRIDE = Param.integer("stride", 1, 1, 1 << 10, "stride of the feature extraction grid");
    public static final Param<Integer> PATCHES = Param.integer("patches", 50_000, 1, Integer.MAX_VALUE, "random patches to cluster");
    public static final Param<Integer> ITERATIONS = Param.integer("iterations", 30, 0, Integer.MAX_VALUE, "k-means iterations");
    public static final Param<Boolean> SPHERICAL = Param.bool("spherical", false, "unit-norm centroids (spherical k-means)");
    public static final Param<Integer> MINI_BATCH = Param.integer("mini_batch", 0, 0, Integer.MAX_VALUE,
            "mini-batch k-means batch size (0: full Lloyd)");
    /** The config keys a user chooses (channels come from the images, the seed from --seed). */
    public static final Hyperparameters HYPERPARAMETERS = Hyperparameters.of(PATCH, K, NORM_EPS, WHITEN_EPS, ENCODING, ALPHA,
            STRIDE, PATCHES, ITERATIONS, SPHERICAL, MINI_BATCH);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Patch rows encoded per GEMM when extracting convolutional features. */
    private static final int ROWS = 4096;

    private final Config config;
    private final Kernels kernels;
    private final Workspace ws;
    private final Whitening whitening;
    private final Tensor centroids;
    private final float[] cnorm;
    private double inertia = Double.NaN;
    /** (channels, height, width) of the training images, or null when unknown (a file without input_shape). */
    private int[] imageShape;

    private KMeansFeatures(Config config, Kernels kernels, Workspace ws, Whitening whitening, Tensor centroids) {
        this.config = config;
        this.kernels = kernels;
        this.ws = ws;
        this.whitening = whitening;
        this.centroids = centroids;
        this.cnorm = new float[config.k()];
        for (int j = 0; j < config.k(); j++) {
            double s = 0;
            for (int q = 0; q < config.dim(); q++) {
                float v = centroids.get((long) j * config.dim() + q);
                s += (double) v * v;
            }
            cnorm[j] = (float) s;
        }
    }

    /** Learns whitening and centroids from random patches of {@code images}. */
    public static KMeansFeatures train(List<Patches.Image> images, Config c, Kernels kernels) {
        if (images.getFirst().channels() != c.channels()) {
            throw new IllegalArgumentException("config has " + c.channels() + " channels, images have " + images.getFirst().channels());
        }
        Workspace ws = new Workspace("kmeans-features");
        try (Workspace tmp = new Workspace("kmeans-patches")) {
            Tensor raw = Patches.random(images, c.patches(), c.patch(), c.seed(), tmp);
            Patches.normalize(raw, c.normEps());
            Whitening w = Whitening.fit(raw, c.whitenEps(), ws);
            Tensor x = w.apply(raw, tmp, kernels);
            if (c.spherical()) {
                normalizeRows(x);
            }
            KMeans.Config kc = KMeans.Config.lloyd(c.k(), c.iterations(), c.seed()).withSpherical(c.spherical());
            if (c.miniBatch() > 0) {
                kc = kc.withMiniBatch(c.miniBatch());
            }
            Tensor cent = ws.allocate(c.k(), c.dim());
            double inertia;
            try (KMeans km = KMeans.fit(x, kc, kernels)) {
                cent.copyFrom(km.centroids());
                inertia = km.assign(x, new int[x.dim(0)], null) / x.dim(0);
            }
            KMeansFeatures f = new KMeansFeatures(c, kernels, ws, w, cent);
            f.inertia = inertia;
            Patches.Image first = images.getFirst();
            f.imageShape = new int[] {first.channels(), first.height(), first.width()};
            return f;
        } catch (RuntimeException e) {
            ws.close();
            throw e;
        }
    }

    /**
     * Features from parts learned elsewhere (e.g. by a distributed trainer): config {@code c}, the
     * whitening (copied), centroids (k, dim) (copied) and the training images' (channels, height, width).
     */
    public static KMeansFeatures of(Config c, Kernels kernels, Whitening whitening, Tensor centroids, int[] imageShape) {
        Workspace ws = new Workspace("kmeans-features");
        try {
            int d = c.dim();
            double[] mu = new double[d];
            double[] w = new double[d * d];
            for (int i = 0; i < d; i++) {
                mu[i] = whitening.mean().get(i);
            }
            for (int i = 0; i < d * d; i++) {
                w[i] = whitening.matrix().get(i);
            }
            // Rebuilt from its float mean and matrix: Whitening.of derives the bias from those, so this is the same whitening.
            Whitening copy = Whitening.of(mu, w, whitening.epsilon(), whitening.eigenvalues(), ws);
            Tensor cent = ws.allocate(c.k(), d);
            cent.copyFrom(centroids.reshape(c.k(), d));
            KMeansFeatures f = new KMeansFeatures(c, kernels, ws, copy, cent);
            f.imageShape = imageShape == null ? null : imageShape.clone();
            return f;
        } catch (RuntimeException e) {
            ws.close();
            throw e;
        }
    }

    /** Scales every row of x to unit norm (rows of zeros stay zero). */
    public static void normalizeRows(Tensor x) {
        int n = x.dim(0);
        int d = x.rowSize();
        MemorySegment s = x.segment();
        long b = x.offset();
        IntStream.range(0, n).parallel().forEach(i -> {
            double q = 0;
            for (int j = 0; j < d; j++) {
                float v = s.getAtIndex(ValueLayout.JAVA_FLOAT, b + (long) i * d + j);
                q += (double) v * v;
            }
            if (q > 0) {
                float inv = (float) (1 / Math.sqrt(q));
                for (int j = 0; j < d; j++) {
                    long at = b + (long) i * d + j;
                    s.setAtIndex(ValueLayout.JAVA_FLOAT, at, s.getAtIndex(ValueLayout.JAVA_FLOAT, at) * inv);
                }
            }
        });
    }

    public Config config() {
        return config;
    }

    /** Centroids (k, channels * patch * patch), in whitened space. */
    public Tensor centroids() {
        return centroids;
    }

    public Whitening whitening() {
        return whitening;
    }

    /** Mean squared distance of the training patches to their nearest centroid (NaN when loaded from a file). */
    public double inertia() {
        return inertia;
    }

    /** Features per image: k per quadrant. */
    public int featureCount() {
        return 4 * config.k();
    }

    /**
     * Encodes rows of whitened patches x (n, d) into out (n, k) with the configured encoder;
     * {@code dots} is an (n, k) scratch tensor (it may be out itself).
     */
    public void encode(Tensor x, Tensor out) {
        int n = x.dim(0);
        int k = config.k();
        int d = config.dim();
        kernels.gemm().gemm(Transpose.N, Transpose.T, n, k, d, 1f, x.segment(), x.offset(), d,
                centroids.segment(), centroids.offset(), d, 0f, out.segment(), out.offset(), k);
        MemorySegment xs = x.segment();
        MemorySegment os = out.segment();
        long ob = out.offset();
        float alpha = (float) config.alpha();
        Encoding enc = config.encoding();
        IntStream.range(0, (n + 255) / 256).parallel().forEach(blk -> {
            float[] row = new float[k];
            for (int i = blk * 256; i < Math.min(n, blk * 256 + 256); i++) {
                long at = (ob + (long) i * k) * Float.BYTES;
                MemorySegment.copy(os, ValueLayout.JAVA_FLOAT, at, row, 0, k);
                switch (enc) {
                    case SOFT_THRESHOLD -> {
                        for (int j = 0; j < k; j++) {
                            row[j] = Math.max(0f, row[j] - alpha);
                        }
                    }
                    case HARD, TRIANGLE -> {
                        double xn = 0;
                        for (int q = 0; q < d; q++) {
                            float v = xs.getAtIndex(ValueLayout.JAVA_FLOAT, x.offset() + (long) i * d + q);
                            xn += (double) v * v;
                        }
                        int best = 0;
                        double mean = 0;
                        for (int j = 0; j < k; j++) {
                            float z2 = (float) Math.max(0, xn - 2.0 * row[j] + cnorm[j]);
                            row[j] = (float) Math.sqrt(z2);
                            mean += row[j];
                            if (row[j] < row[best]) {
                                best = j;
                            }
                        }
                        if (enc == Encoding.HARD) {
                            java.util.Arrays.fill(row, 0f);
                            row[best] = 1f;
                        } else {
                            float mu = (float) (mean / k);
                            for (int j = 0; j < k; j++) {
                                row[j] = Math.max(0f, mu - row[j]);
                            }
                        }
                    }
                }
                MemorySegment.copy(row, 0, os, ValueLayout.JAVA_FLOAT, at, k);
            }
        });
    }

    /**
     * The steps from an image's maps (channels, H, W) to its encoded map (k, gh, gw), as {@link #maps}
     * computes it: patches at the stride, their normalization, whitening (unit norm when spherical)
     * and the encoding; tensor names carry {@code prefix} as in the model file.
     */
    List<FeatureGraph.Step> mapSteps(String prefix) {
        List<FeatureGraph.Step> steps = new ArrayList<>();
        steps.add(new FeatureGraph.Patches(config.patch(), config.stride()));
        steps.add(new FeatureGraph.NormalizeChannels(config.normEps()));
        steps.add(new FeatureGraph.Whiten(prefix + "whitening", whitening.matrix(), whitening.bias()));
        if (config.spherical()) {
            steps.add(new FeatureGraph.UnitNorm());
        }
        switch (config.encoding()) {
            case TRIANGLE -> {
                steps.add(new FeatureGraph.Distances(prefix + "centroids", centroids));
                steps.add(new FeatureGraph.Triangle());
            }
            case HARD -> {
                steps.add(new FeatureGraph.Distances(prefix + "centroids", centroids));
                steps.add(new FeatureGraph.Nearest());
            }
            case SOFT_THRESHOLD -> {
                steps.add(new FeatureGraph.Dots(prefix + "centroids", centroids, -(float) config.alpha()));
                steps.add(new FeatureGraph.Activate(Activation.RELU));
            }
        }
        return steps;
    }

    /** Positions of the extraction grid along a side of {@code size} pixels. */
    public int grid(int size) {
        if (size < config.patch()) {
            throw new IllegalArgumentException("image side " + size + " is smaller than the " + config.patch() + "-pixel patch");
        }
        return (size - config.patch()) / config.stride() + 1;
    }

    /**
     * Convolutional features of every image: (N, 4k), the encoded maps sum-pooled over the four
     * quadrants of the grid (rows [0, gh/2) and [gh/2, gh) times columns likewise; feature
     * {@code q * k + j} is centroid j summed over quadrant q = 2 * (lower half) + (right half)).
     */
    public Tensor features(List<Patches.Image> images, Workspace out) {
        Tensor f = out.allocate(images.size(), featureCount());
        maps(images, (img, map, gh, gw) -> pool(map, gh, gw, f.row(img)));
        return f;
    }

    /** Features of the rows of a grey data set (N, h*w). */
    public Tensor features(Tensor rows, int h, int w, Workspace out) {
        return features(images(rows, h, w), out);
    }

    /** Grey images viewing rows (N, h*w). */
    public static List<Patches.Image> images(Tensor rows, int h, int w) {
        return images(rows, 1, h, w);
    }

    /** Images of c channels copied from rows (N, c*h*w), channel-major (CHW). */
    public static List<Patches.Image> images(Tensor rows, int c, int h, int w) {
        return IntStream.range(0, rows.dim(0)).mapToObj(i -> new Patches.Image(c, h, w, rows.row(i).toArray())).toList();
    }

    /** Receives the encoded map (gh * gw, k), row-major over the grid, of image {@code index}. */
    @FunctionalInterface
    public interface MapConsumer {
        void accept(int index, Tensor map, int gh, int gw);
    }

    /** Images per GEMM batch of {@link #maps} for images of h x w: callers that batch in multiples of it get the same bits. */
    int batchImages(int h, int w) {
        return Math.max(1, ROWS / (grid(h) * grid(w)));
    }

    /**
     * Computes the encoded k-channel map of every image, in order, batching images so that each GEMM
     * covers up to 4,096 patches. All images must have the same size.
     */
    public void maps(List<Patches.Image> images, MapConsumer consumer) {
        if (images.isEmpty()) {
            return;
        }
        Patches.Image first = images.getFirst();
        int gh = grid(first.height());
        int gw = grid(first.width());
        int per = gh * gw;
        int d = config.dim();
        int batch = batchImages(first.height(), first.width());
        int p = config.patch();
        int s = config.stride();
        try (Workspace tmp = new Workspace("kmeans-maps")) {
            Tensor raw = tmp.allocate(batch * per, d);
            Tensor white = tmp.allocate(batch * per, d);
            Tensor enc = tmp.allocate(batch * per, config.k());
            for (int from = 0; from < images.size(); from += batch) {
                int count = Math.min(batch, images.size() - from);
                int base = from;
                IntStream.range(0, count).parallel().forEach(b -> {
                    Patches.Image im = images.get(base + b);
                    if (im.height() != first.height() || im.width() != first.width() || im.channels() != config.channels()) {
                        throw new IllegalArgumentException("image " + (base + b) + " is " + im.channels() + "x" + im.height() + "x"
                                + im.width() + ", not " + config.channels() + "x" + first.height() + "x" + first.width());
                    }
                    float[] buf = new float[per * d];
                    for (int gy = 0; gy < gh; gy++) {
                        for (int gx = 0; gx < gw; gx++) {
                            int at = (gy * gw + gx) * d;
                            Patches.extract(im, gy * s, gx * s, p, buf, at);
                            Patches.normalizeRow(buf, at, d, config.normEps());
                        }
                    }
                    MemorySegment.copy(buf, 0, raw.segment(), ValueLayout.JAVA_FLOAT,
                            (raw.offset() + (long) b * per * d) * Float.BYTES, buf.length);
                });
                int rows = count * per;
                Tensor w = white.rows(0, rows);
                whitening.apply(raw.rows(0, rows), w, kernels);
                if (config.spherical()) {
                    normalizeRows(w);
                }
                Tensor e = enc.rows(0, rows);
                encode(w, e);
                for (int b = 0; b < count; b++) {
                    consumer.accept(from + b, e.rows(b * per, (b + 1) * per), gh, gw);
                }
            }
        }
    }

    /** Sum pooling of a (gh * gw, k) map over its four quadrants into out (4k). */
    public static void pool(Tensor map, int gh, int gw, Tensor out) {
        int k = map.rowSize();
        float[] acc = new float[4 * k];
        float[] row = new float[k];
        int hy = (gh + 1) / 2;
        int hx = (gw + 1) / 2;
        for (int gy = 0; gy < gh; gy++) {
            for (int gx = 0; gx < gw; gx++) {
                MemorySegment.copy(map.segment(), ValueLayout.JAVA_FLOAT, (map.offset() + (long) (gy * gw + gx) * k) * Float.BYTES, row, 0, k);
                int q = (gy < hy ? 0 : 2) + (gx < hx ? 0 : 1);
                for (int j = 0; j < k; j++) {
                    acc[q * k + j] += row[j];
                }
            }
        }
        out.copyFrom(acc);
    }

    /** Writes the model file: centroids, whitening, config and provenance. */
    public void save(Path file, Map<String, String> provenance) throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        putTensors("", t);
        SafeTensors.write(file, t, metadata(config, imageShape, null, provenance));
    }

    /**
     * The metadata of a k-means model file whose first layer has config {@code c} and was trained on
     * images of {@code imageShape} (null: not written), with a stack's {@code extra} entries (or null).
     */
    static Map<String, String> metadata(Config c, int[] imageShape, Map<String, String> extra, Map<String, String> provenance) {
        Map<String, String> more = new LinkedHashMap<>();
        if (imageShape != null) {
            more.put("input_shape", ModelFile.shape(imageShape));
        }
        if (extra != null) {
            more.putAll(extra);
        }
        return ModelFile.metadata(KIND, c.json(), more, provenance);
    }

    /** The tensor names of a layer whose names carry {@code prefix} (see {@link #putTensors}). */
    static List<String> tensorNames(String prefix) {
        return List.of(prefix + "centroids", prefix + "whitening.mean", prefix + "whitening.matrix");
    }

    /** (channels, height, width) of the images this layer was trained on, or null when the file did not say. */
    public int[] imageShape() {
        return imageShape == null ? null : imageShape.clone();
    }

    /**
     * {@code __metadata__.input_shape} of a k-means file: (channels, height, width) with channels equal to
     * the config's and sides of at least one patch; null when absent (files written before it was saved).
     */
    static int[] imageShape(SafeTensors.Loaded l, Config c) {
        if (!l.metadata().containsKey("input_shape")) {
            return null;
        }
        JsonNode a = ModelFile.json(l, "input_shape");
        if (!a.isArray() || a.size() != 3 || !a.get(0).isIntegralNumber() || !a.get(1).isIntegralNumber() || !a.get(2).isIntegralNumber()
                || a.get(0).asInt() != c.channels() || a.get(1).asInt() < c.patch() || a.get(2).asInt() < c.patch()
                || a.get(1).asLong() > 1 << 16 || a.get(2).asLong() > 1 << 16) {
            throw new BadInputException(l.file() + ": __metadata__.input_shape must be [" + c.channels() + ", height, width] with sides"
                    + " in " + c.patch() + "..65536, got " + a);
        }
        return new int[] {a.get(0).asInt(), a.get(1).asInt(), a.get(2).asInt()};
    }

    /** Adds this layer's tensors, names prefixed by {@code prefix}: centroids, whitening.mean, whitening.matrix. */
    void putTensors(String prefix, Map<String, Tensor> out) {
        out.put(prefix + "centroids", centroids);
        out.put(prefix + "whitening.mean", whitening.mean());
        out.put(prefix + "whitening.matrix", whitening.matrix());
    }

    /** Reads a model file written by {@link #save}; the tensors are copied, the file is not kept open. */
    public static KMeansFeatures load(Path file, Kernels kernels) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.Loaded l = SafeTensors.read(file, arena);
            ModelFile.requireKind(l, KIND);
            // a stack's file (KMeansStack) holds its second layer too: this reads the first
            java.util.Set<String> expected = new java.util.HashSet<>(tensorNames(""));
            if ("2".equals(l.metadata().get("layers"))) {
                expected.addAll(tensorNames("layer2."));
            }
            ModelFile.requireOnly(l, expected, KIND);
            return firstLayer(l, config(l, "config", ModelFile.json(l, "config")), kernels);
        }
    }

    /** The first (or only) layer of a loaded k-means file, with its input shape. */
    static KMeansFeatures firstLayer(SafeTensors.Loaded l, Config c, Kernels kernels) {
        int[] shape = imageShape(l, c);
        KMeansFeatures f = fromTensors(l, "", c, kernels);
        f.imageShape = shape;
        return f;
    }

    /** Parses a k-means config found in the metadata field {@code field}, naming the file on failure. */
    static Config config(SafeTensors.Loaded l, String field, JsonNode json) {
        try {
            return Config.fromJson(json);
        } catch (RuntimeException e) {
            throw new BadInputException(l.file() + ": __metadata__." + field + " is not a k-means config: " + e.getMessage(), e);
        }
    }

    /** The layer whose tensors carry {@code prefix} in a loaded file (copied into a new workspace). */
    static KMeansFeatures fromTensors(SafeTensors.Loaded l, String prefix, Config c, Kernels kernels) {
        Workspace ws = new Workspace("kmeans-features");
        try {
            int d = c.dim();
            Tensor cent = ws.allocate(c.k(), d);
            cent.copyFrom(l.tensor(prefix + "centroids", c.k(), d));
            double[] mu = toDouble(l.tensor(prefix + "whitening.mean", d));
            double[] w = toDouble(l.tensor(prefix + "whitening.matrix", d, d));
            Whitening wh = Whitening.of(mu, w, c.whitenEps(), null, ws);
            return new KMeansFeatures(c, kernels, ws, wh, cent);
        } catch (RuntimeException e) {
            ws.close();
            throw e;
        }
    }

    private static double[] toDouble(Tensor t) {
        float[] f = t.toArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    @Override
    public void close() {
        ws.close();
    }
}
