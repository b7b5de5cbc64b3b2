package dev.latent.model.kmeans;

import dev.latent.model.FeatureExtractor;
import dev.latent.model.FeatureGraph;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.data.Patches;
import dev.latent.io.BadInputException;
import dev.latent.io.ModelFile;
import dev.latent.io.SafeTensors;
import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Clustering learning stacked two layers deep (seed 001; Coates and Ng 2011, "Selecting Receptive
 * Fields in Deep Networks"). Layer 1 is {@link KMeansFeatures} on image patches. Layer 2 learns on the
 * first layer's encoded maps before pooling: an image's layer-1 output is a (gh, gw) grid of k1 values,
 * read as an image of k1 channels; a subset of {@code maps} of those channels (chosen at random from a
 * seed, all of them when maps = k1, which keeps the patch dimension w2 * w2 * maps small enough to whiten)
 * is cut into w2 x w2 patches, which get their own brightness/contrast normalization, ZCA whitening,
 * k-means, encoder and stride, i.e. a second {@link KMeansFeatures} whose images are layer-1 maps.
 *
 * <p>Features of an image: layer 1's 4 k1 quadrant sums followed by layer 2's 4 k2 quadrant sums over
 * its own grid, (N, 4 k1 + 4 k2); the first 4 k1 columns are exactly the one-layer features.
 *
 * <p>Model file (kind {@code kmeans}, readable by {@link KMeansFeatures#load} as its first layer):
 * layer 1's tensors and {@code __metadata__.config} as written by {@link KMeansFeatures#save}, plus
 * {@code __metadata__.layers = "2"}, {@code __metadata__.layer2} (layer 2's config JSON with the chosen
 * {@code maps} and the number of training {@code images}) and tensors {@code layer2.centroids},
 * {@code layer2.whitening.mean}, {@code layer2.whitening.matrix}.
 */
public final class KMeansStack implements FeatureExtractor {

    /**
     * The second layer: {@code patch} x {@code patch} windows of {@code maps} layer-1 maps at every
     * {@code stride}-th grid position, normalized with {@code normEps} (the layer-1 maps have their
     * own scale, unlike pixels), whitened with {@code whitenEps}, k centroids from {@code patches}
     * windows of the maps of {@code images} random training images after {@code iterations} Lloyd
     * iterations, encoded with {@code encoding}.
     */
    public record Layer2(int patch, int stride, int maps, int k, double normEps, double whitenEps,
                         KMeansFeatures.Encoding encoding, int patches, int images, int iterations, long seed) {
        public Layer2 {
            if (patch < 1 || stride < 1 || maps < 1 || k < 1 || images < 1 || patches < k || iterations < 0) {
                throw new IllegalArgumentException("bad k-means layer 2: patch " + patch + ", stride " + stride + ", maps " + maps
                        + ", k " + k + ", images " + images + ", patches " + patches + ", iterations " + iterations);
            }
        }

        /** 3x3 windows of 32 maps at stride 1, triangle encoding, 50,000 windows of 2,000 images, 30 iterations. */
        public static Layer2 defaults(int k) {
            return new Layer2(3, 1, 32, k, 0.01, 0.1, KMeansFeatures.Encoding.TRIANGLE, 50_000, 2_000, 30, 2);
        }

        public Layer2 withMaps(int m) {
            return new Layer2(patch, stride, m, k, normEps, whitenEps, encoding, patches, images, iterations, seed);
        }

        public Layer2 withPatch(int p) {
            return new Layer2(p, stride, maps, k, normEps, whitenEps, encoding, patches, images, iterations, seed);
        }

        public Layer2 withTraining(int nPatches, int nImages, int iters, long s) {
            return new Layer2(patch, stride, maps, k, normEps, whitenEps, encoding, nPatches, nImages, iters, s);
        }

        public Layer2 withEps(double norm, double whiten) {
            return new Layer2(patch, stride, maps, k, norm, whiten, encoding, patches, images, iterations, seed);
        }

        /** Layer 2 as a {@link KMeansFeatures.Config} over images of {@code maps} channels. */
        KMeansFeatures.Config features() {
            return new KMeansFeatures.Config(patch, maps, k, normEps, whitenEps, encoding, 0.25, stride, patches, iterations,
                    false, 0, seed);
        }
    }

    /** Images per round of the two-layer extraction (bounds the layer-1 maps held at once). */
    private static final int BATCH = 256;

    private final KMeansFeatures first;
    private final KMeansFeatures second;
    private final int[] maps;
    private final int images;

    private KMeansStack(KMeansFeatures first, KMeansFeatures second, int[] maps, int images) {
        this.first = first;
        this.second = second;
        this.maps = maps;
        this.images = images;
    }

    /** One layer only: {@link #features} are then layer 1's. */
    public static KMeansStack of(KMeansFeatures first) {
        return new KMeansStack(first, null, null, 0);
    }

    /**
     * Learns layer 1 on {@code images}, then (when {@code layer2} is not null) layer 2 on the layer-1
     * maps of {@code layer2.images()} of them drawn at random.
     */
    public static KMeansStack train(List<Patches.Image> imgs, KMeansFeatures.Config c1, Layer2 layer2, Kernels kernels) {
        KMeansFeatures first = KMeansFeatures.train(imgs, c1, kernels);
        if (layer2 == null) {
            return of(first);
        }
        try {
            if (layer2.maps() > c1.k()) {
                throw new IllegalArgumentException("layer 2 takes " + layer2.maps() + " maps of layer 1's " + c1.k());
            }
            int[] chosen = pickMaps(c1.k(), layer2.maps(), layer2.seed());
            SplittableRandom r = new SplittableRandom(layer2.seed() ^ 0x9E3779B97F4A7C15L);
            int count = Math.min(imgs.size(), layer2.images());
            List<Patches.Image> sample = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                sample.add(imgs.get(r.nextInt(imgs.size())));
            }
            List<Patches.Image> mapImages = new ArrayList<>(count);
            first.maps(sample, (i, map, gh, gw) -> mapImages.add(mapImage(map, gh, gw, chosen)));
            KMeansFeatures second = KMeansFeatures.train(mapImages, layer2.features(), kernels);
            return new KMeansStack(first, second, chosen, layer2.images());
        } catch (RuntimeException e) {
            first.close();
            throw e;
        }
    }

    /** {@code m} distinct indices of [0, k), ascending, drawn from {@code seed} (all of them when m = k). */
    static int[] pickMaps(int k, int m, long seed) {
        int[] idx = new int[k];
        for (int i = 0; i < k; i++) {
            idx[i] = i;
        }
        if (m < k) {
            SplittableRandom r = new SplittableRandom(seed);
            for (int i = 0; i < m; i++) {
                int j = i + r.nextInt(k - i);
                int t = idx[i];
                idx[i] = idx[j];
                idx[j] = t;
            }
        }
        int[] out = Arrays.copyOf(idx, m);
        Arrays.sort(out);
        return out;
    }

    /** A layer-1 map (gh * gw, k1), grid-major, as a planar image of the chosen channels. */
    static Patches.Image mapImage(Tensor map, int gh, int gw, int[] channels) {
        int k1 = map.rowSize();
        int plane = gh * gw;
        float[] px = new float[channels.length * plane];
        float[] row = new float[k1];
        MemorySegment s = map.segment();
        for (int pos = 0; pos < plane; pos++) {
            MemorySegment.copy(s, ValueLayout.JAVA_FLOAT, (map.offset() + (long) pos * k1) * Float.BYTES, row, 0, k1);
            for (int c = 0; c < channels.length; c++) {
                px[c * plane + pos] = row[channels[c]];
            }
        }
        return new Patches.Image(channels.length, gh, gw, px);
    }

    public int layers() {
        return second == null ? 1 : 2;
    }

    public KMeansFeatures first() {
        return first;
    }

    /** Layer 2, or null for a one-layer stack. */
    public KMeansFeatures second() {
        return second;
    }

    /** The layer-1 maps layer 2 reads (a copy; empty for one layer). */
    public int[] maps() {
        return maps == null ? new int[0] : maps.clone();
    }

    /** Features per image: 4 k1, plus 4 k2 with a second layer. */
    public int featureCount() {
        return first.featureCount() + (second == null ? 0 : second.featureCount());
    }

    /** Features of every image (same size, layer 1's channels): (N, {@link #featureCount()}). */
    public Tensor features(List<Patches.Image> imgs, Workspace out) {
        if (second == null) {
            return first.features(imgs, out);
        }
        Tensor f = out.allocate(imgs.size(), featureCount());
        fill(imgs, f);
        return f;
    }

    /** Writes the features of every image into the rows of f (N, {@link #featureCount()}). */
    private void fill(List<Patches.Image> imgs, Tensor f) {
        if (second == null) {
            first.maps(imgs, (img, map, gh, gw) -> KMeansFeatures.pool(map, gh, gw, f.row(img)));
            return;
        }
        int f1 = first.featureCount();
        int f2 = second.featureCount();
        if (imgs.isEmpty()) {
            return;
        }
        // Rounds of whole layer-1 GEMM batches, so that layer 1's columns are bit for bit those of first.features.
        int unit = first.batchImages(imgs.getFirst().height(), imgs.getFirst().width());
        int step = unit * Math.max(1, BATCH / unit);
        for (int from = 0; from < imgs.size(); from += step) {
            List<Patches.Image> sub = imgs.subList(from, Math.min(imgs.size(), from + step));
            Patches.Image[] mapImages = new Patches.Image[sub.size()];
            int base = from;
            first.maps(sub, (i, map, gh, gw) -> {
                if (gh < second.config().patch() || gw < second.config().patch()) {
                    throw new IllegalArgumentException("layer-1 maps of " + gh + "x" + gw + " are smaller than layer 2's "
                            + second.config().patch() + "x" + second.config().patch() + " window");
                }
                KMeansFeatures.pool(map, gh, gw, slice(f, base + i, 0, f1));
                mapImages[i] = mapImage(map, gh, gw, maps);
            });
            second.maps(Arrays.asList(mapImages), (i, map, gh, gw) -> KMeansFeatures.pool(map, gh, gw, slice(f, base + i, f1, f2)));
        }
    }

    /** Features of the rows of a grey data set (N, h*w). */
    public Tensor features(Tensor rows, int h, int w, Workspace out) {
        return features(KMeansFeatures.images(rows, h, w), out);
    }

    private static Tensor slice(Tensor f, int row, int col, int len) {
        return Tensor.wrap(f.segment(), f.offset() + (long) row * f.rowSize() + col, len);
    }

    /** Writes the model file (see the class documentation); a one-layer stack writes what {@link KMeansFeatures#save} does. */
    public void save(Path file, Map<String, String> provenance) throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        first.putTensors("", t);
        Map<String, String> extra = new LinkedHashMap<>();
        if (second != null) {
            second.putTensors("layer2.", t);
            ObjectNode l2 = second.config().toJson();
            ArrayNode m = l2.putArray("maps");
            for (int c : maps) {
                m.add(c);
            }
            l2.put("images", images);
            extra.put("layers", "2");
            extra.put("layer2", l2.toString());
        }
        SafeTensors.write(file, t, KMeansFeatures.metadata(first.config(), first.imageShape(), extra, provenance));
    }

    /** Reads a one- or two-layer k-means model file; tensors are copied, the file is not kept open. */
    public static KMeansStack load(Path file, Kernels kernels) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.Loaded l = SafeTensors.read(file, arena);
            ModelFile.requireKind(l, KMeansFeatures.KIND);
            KMeansFeatures.Config c1 = KMeansFeatures.config(l, "config", ModelFile.json(l, "config"));
            String layers = l.metadata().getOrDefault("layers", "1");
            if (!layers.equals("1") && !layers.equals("2")) {
                throw new BadInputException(file + ": __metadata__.layers is '" + layers + "', expected 1 or 2");
            }
            java.util.Set<String> expected = new java.util.HashSet<>(KMeansFeatures.tensorNames(""));
            if (layers.equals("2")) {
                expected.addAll(KMeansFeatures.tensorNames("layer2."));
            }
            ModelFile.requireOnly(l, expected, KMeansFeatures.KIND);
            int[] chosen = null;
            KMeansFeatures.Config c2 = null;
            int nImages = 0;
            if (layers.equals("2")) {
                JsonNode j = ModelFile.json(l, "layer2");
                c2 = KMeansFeatures.config(l, "layer2", j);
                JsonNode m = j.get("maps");
                if (m == null || !m.isArray() || m.size() != c2.channels()) {
                    throw new BadInputException(file + ": __metadata__.layer2.maps must list " + c2.channels() + " layer-1 maps");
                }
                chosen = new int[m.size()];
                for (int i = 0; i < chosen.length; i++) {
                    chosen[i] = m.get(i).asInt(-1);
                    if (chosen[i] < 0 || chosen[i] >= c1.k() || (i > 0 && chosen[i] <= chosen[i - 1])) {
                        throw new BadInputException(file + ": __metadata__.layer2.maps must be ascending indices in [0, " + c1.k()
                                + "), got " + m);
                    }
                }
                nImages = j.path("images").asInt(0);
            }
            KMeansFeatures first = KMeansFeatures.firstLayer(l, c1, kernels);
            if (c2 == null) {
                return of(first);
            }
            try {
                return new KMeansStack(first, KMeansFeatures.fromTensors(l, "layer2.", c2, kernels), chosen, nImages);
            } catch (RuntimeException e) {
                first.close();
                throw e;
            }
        }
    }

    @Override
    public String kind() {
        return KMeansFeatures.KIND;
    }

    /** (channels, height, width) of the training images: the features are quadrant sums over that grid. */
    @Override
    public int[] inputShape() {
        int[] shape = first.imageShape();
        if (shape == null) {
            throw new BadInputException("this k-means model file has no __metadata__.input_shape (written by an older latent):"
                    + " train it again to use its features");
        }
        return shape;
    }

    @Override
    public int featureSize() {
        return featureCount();
    }

    /** Quadrant-pooled features of the images in the rows of x (n, channels * height * width). */
    @Override
    public void features(Tensor x, Tensor out) {
        requireShapes(x, out);
        int[] s = inputShape();
        fill(KMeansFeatures.images(x, s[0], s[1], s[2]), out);
    }

    /**
     * Layer 1's encoded map, then its quadrant sums; with a second layer also, as a second branch, the
     * chosen maps through layer 2 and its quadrant sums.
     */
    @Override
    public FeatureGraph featureGraph() {
        List<FeatureGraph.Step> steps = new ArrayList<>(first.mapSteps(""));
        if (second == null) {
            steps.add(new FeatureGraph.QuadrantSums());
        } else {
            List<FeatureGraph.Step> upper = new ArrayList<>();
            upper.add(new FeatureGraph.SelectChannels(maps));
            upper.addAll(second.mapSteps("layer2."));
            upper.add(new FeatureGraph.QuadrantSums());
            steps.add(new FeatureGraph.Concat(List.of(List.of(new FeatureGraph.QuadrantSums()), upper)));
        }
        return new FeatureGraph(inputShape(), steps);
    }

    @Override
    public void close() {
        first.close();
        if (second != null) {
            second.close();
        }
    }
}
