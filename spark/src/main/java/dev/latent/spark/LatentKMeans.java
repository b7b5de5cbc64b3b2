package dev.latent.spark;

import dev.latent.data.Patches;
import dev.latent.data.Whitening;
import dev.latent.kernel.Kernels;
import dev.latent.model.kmeans.KMeans;
import dev.latent.model.kmeans.KMeansFeatures;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.IOException;
import java.io.Serial;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * Coates &amp; Ng k-means feature learning as a Spark ML Estimator, on images spread over the cluster; the
 * fitted model is a {@link LatentEncoderModel} of a latent {@code kmeans} model file.
 *
 * <ol>
 * <li>Patch sampling per partition: the {@link #numPatches()} patches are shared among partitions in
 *     proportion to their rows (largest remainders); partition p samples its share from its own images with
 *     seed {@code seed ^ (p * 0x9E3779B97F4A7C15)} (partition 0: the seed itself) by {@link Patches#random},
 *     then normalizes each patch ({@link Patches#normalize}).</li>
 * <li>ZCA: column sums, then the upper triangle of the centred scatter ({@link Whitening#covarianceSums}),
 *     each summed over partitions by {@link FixedOrderTree} (in partition order); the eigen decomposition
 *     runs on the driver ({@link Whitening#fromCovariance}); partitions whiten their patches.</li>
 * <li>k-means++ seeding on the driver from the whitened patches (all of them when at most
 *     {@link #initSampleSize()}, else each partition's first rows in proportion: the patches are random).</li>
 * <li>Lloyd: each iteration broadcasts the centroids; each partition computes its per-centroid sums and
 *     counts with latent's kernels ({@link KMeans#partialSums}); {@link FixedOrderTree} sums them in
 *     partition order; the driver divides. It stops after {@link #maxIter()} iterations or at a fixed
 *     point (centroids unchanged to the bit, where further iterations change nothing).</li>
 * </ol>
 *
 * <p>On one partition every step is the single-machine {@link KMeansFeatures#train} step on the same rows,
 * so the model equals it bit for bit, with one difference: a cluster that becomes empty keeps its centroid
 * here (the single-machine trainer gives it the farthest row, which would need a global sort); the
 * summary reports empty clusters. On several partitions the patch sample differs (one sample per
 * partition), and on the same patches the sums are grouped differently, so centroids agree within float
 * rounding (see SparkKMeansTest for the tolerance).
 */
public final class LatentKMeans extends Estimator<LatentEncoderModel> implements DefaultParamsWritable {

    @Serial
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final IntParam k;
    private final IntParam patchSize;
    private final IntParam numPatches;
    private final IntParam maxIter;
    private final LongParam seed;
    private final IntParam channels;
    private final IntParam imageHeight;
    private final IntParam imageWidth;
    private final DoubleParam normEps;
    private final DoubleParam whitenEps;
    private final Param<String> encoding;
    private final DoubleParam alpha;
    private final IntParam stride;
    private final IntParam initSampleSize;

    public LatentKMeans(String uid) {
        this.uid = uid;
        inputCol = new Param<>(this, "inputCol", "image column (Vector, array<float>, array<double> or binary), planar CHW");
        outputCol = new Param<>(this, "outputCol", "the fitted model's output column");
        k = new IntParam(this, "k", "centroids (filters)", ParamValidators.gtEq(1));
        patchSize = new IntParam(this, "patchSize", "patch side", ParamValidators.gtEq(1));
        numPatches = new IntParam(this, "numPatches", "random patches to cluster, over all partitions", ParamValidators.gtEq(1));
        maxIter = new IntParam(this, "maxIter", "Lloyd iterations", ParamValidators.gtEq(0));
        seed = new LongParam(this, "seed", "random seed (patches, k-means++)");
        channels = new IntParam(this, "channels", "image channels", ParamValidators.gtEq(1));
        imageHeight = new IntParam(this, "imageHeight", "image height", ParamValidators.gtEq(1));
        imageWidth = new IntParam(this, "imageWidth", "image width", ParamValidators.gtEq(1));
        normEps = new DoubleParam(this, "normEps", "patch normalization epsilon", ParamValidators.gtEq(0));
        whitenEps = new DoubleParam(this, "whitenEps", "ZCA epsilon", ParamValidators.gtEq(0));
        encoding = new Param<>(this, "encoding", "triangle, hard or soft_threshold",
                ParamValidators.inArray(new String[] {"triangle", "hard", "soft_threshold"}));
        alpha = new DoubleParam(this, "alpha", "soft_threshold's alpha", ParamValidators.gtEq(0));
        stride = new IntParam(this, "stride", "stride of the feature extraction grid", ParamValidators.gtEq(1));
        initSampleSize = new IntParam(this, "initSampleSize", "whitened patches collected to the driver for k-means++ seeding",
                ParamValidators.gtEq(1));
        KMeansFeatures.Config d = KMeansFeatures.Config.defaults(100);
        setDefault(inputCol, "features");
        setDefault(outputCol, "codes");
        setDefault(k, d.k());
        setDefault(patchSize, d.patch());
        setDefault(numPatches, 50_000);
        setDefault(maxIter, d.iterations());
        setDefault(seed, d.seed());
        setDefault(channels, 1);
        setDefault(imageHeight, 28);
        setDefault(imageWidth, 28);
        setDefault(normEps, d.normEps());
        setDefault(whitenEps, d.whitenEps());
        setDefault(encoding, d.encoding().toString());
        setDefault(alpha, d.alpha());
        setDefault(stride, d.stride());
        setDefault(initSampleSize, 200_000);
    }

    public LatentKMeans() {
        this(Identifiable$.MODULE$.randomUID("latentKMeans"));
    }

    @Override
    public String uid() {
        return uid;
    }

    // Params, as Spark finds them (public no-argument methods returning a Param).
    public Param<String> inputCol() { return inputCol; }
    public Param<String> outputCol() { return outputCol; }
    public IntParam k() { return k; }
    public IntParam patchSize() { return patchSize; }
    public IntParam numPatches() { return numPatches; }
    public IntParam maxIter() { return maxIter; }
    public LongParam seed() { return seed; }
    public IntParam channels() { return channels; }
    public IntParam imageHeight() { return imageHeight; }
    public IntParam imageWidth() { return imageWidth; }
    public DoubleParam normEps() { return normEps; }
    public DoubleParam whitenEps() { return whitenEps; }
    public Param<String> encoding() { return encoding; }
    public DoubleParam alpha() { return alpha; }
    public IntParam stride() { return stride; }
    public IntParam initSampleSize() { return initSampleSize; }

    public LatentKMeans setInputCol(String v) { set(inputCol, v); return this; }
    public LatentKMeans setOutputCol(String v) { set(outputCol, v); return this; }
    public LatentKMeans setK(int v) { set(k, v); return this; }
    public LatentKMeans setPatchSize(int v) { set(patchSize, v); return this; }
    public LatentKMeans setNumPatches(int v) { set(numPatches, v); return this; }
    public LatentKMeans setMaxIter(int v) { set(maxIter, v); return this; }
    public LatentKMeans setSeed(long v) { set(seed, v); return this; }
    public LatentKMeans setImageShape(int c, int h, int w) { set(channels, c); set(imageHeight, h); set(imageWidth, w); return this; }
    public LatentKMeans setWhitenEps(double v) { set(whitenEps, v); return this; }
    public LatentKMeans setEncoding(String v) { set(encoding, v); return this; }
    public LatentKMeans setStride(int v) { set(stride, v); return this; }
    public LatentKMeans setInitSampleSize(int v) { set(initSampleSize, v); return this; }

    private int i(IntParam p) {
        return (Integer) $(p);
    }

    private double dbl(DoubleParam p) {
        return (Double) $(p);
    }

    /** The single-machine config these params describe. */
    public KMeansFeatures.Config config() {
        return new KMeansFeatures.Config(i(patchSize), i(channels), i(k), dbl(normEps), dbl(whitenEps),
                KMeansFeatures.Encoding.parse($(encoding)), dbl(alpha), i(stride), i(numPatches), i(maxIter), false, 0,
                (Long) $(seed));
    }

    @Override
    public StructType transformSchema(StructType schema) {
        String in = $(inputCol);
        if (!Arrays.asList(schema.fieldNames()).contains(in)) {
            throw new IllegalArgumentException("LatentKMeans: input column '" + in + "' not found; columns are "
                    + String.join(", ", schema.fieldNames()));
        }
        InputType.of(schema.apply(in).dataType(), in);
        return schema.add($(outputCol), org.apache.spark.ml.linalg.SQLDataTypes.VectorType(), true);
    }

    @Override
    public LatentEncoderModel fit(org.apache.spark.sql.Dataset<?> dataset) {
        return fitDetailed(dataset, false).model();
    }

    @Override
    public LatentKMeans copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    public static MLReader<LatentKMeans> read() {
        return new DefaultParamsReader<>();
    }

    public static LatentKMeans load(String path) {
        return read().load(path);
    }

    /** What a fit found: the model, and the numbers a user (or a measurement) asks about. */
    public record Fitted(LatentEncoderModel model, float[] centroids, double inertia, int iterations, int emptyClusters,
                         double secondsPerIteration, long patches, float[] whitenedPatches, float[] whiteningMean,
                         float[] whiteningMatrix) {
    }

    /** One partition's patches: (rows, dim) row-major; rows may be 0. */
    record Block(int index, int rows, float[] values) implements Serializable {
    }

    /** Summed statistics: a double vector and a row count. */
    record Sums(double[] values, long rows) implements Serializable {
        Sums add(Sums o) {
            for (int i = 0; i < values.length; i++) {
                values[i] += o.values[i];
            }
            return new Sums(values, rows + o.rows);
        }
    }

    /** One or more partitions' Lloyd sums (KMeans.Partial, serializable). */
    record LloydSums(double[] sum, long[] count, double inertia) implements Serializable {
        LloydSums add(LloydSums o) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += o.sum[i];
            }
            for (int i = 0; i < count.length; i++) {
                count[i] += o.count[i];
            }
            return new LloydSums(sum, count, inertia + o.inertia);
        }
    }

    /** The fit, returning its {@link Fitted} summary; {@code keepPatches} also returns the whitened patches (for tests). */
    public Fitted fitDetailed(org.apache.spark.sql.Dataset<?> dataset, boolean keepPatches) {
        transformSchema(dataset.schema());
        KMeansFeatures.Config c = config();
        int d = c.dim();
        int ch = i(channels);
        int h = i(imageHeight);
        int w = i(imageWidth);
        if (h < c.patch() || w < c.patch()) {
            throw new IllegalArgumentException("LatentKMeans: images " + h + "x" + w + " are smaller than a " + c.patch() + "x" + c.patch()
                    + " patch");
        }
        String col = $(inputCol);
        InputType type = InputType.of(dataset.schema().apply(col).dataType(), col);
        JavaRDD<Row> rows = dataset.toDF().select(col).javaRDD();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext());
        int parts = rows.getNumPartitions();

        // 1. rows per partition, and each partition's share of the patches
        List<Tuple2<Integer, Long>> counted = new ArrayList<>(rows.mapPartitionsWithIndex((p, it) -> {
            long n = 0;
            while (it.hasNext()) {
                it.next();
                n++;
            }
            return List.of(new Tuple2<>(p, n)).iterator();
        }, true).collect());
        counted.sort(Comparator.comparing(Tuple2::_1));
        long[] perPartition = new long[parts];
        for (Tuple2<Integer, Long> t : counted) {
            perPartition[t._1()] = t._2();
        }
        int[] take = share(c.patches(), perPartition);
        long seedValue = c.seed();
        double normEpsValue = c.normEps();
        int patch = c.patch();
        JavaRDD<Block> raw = rows.mapPartitionsWithIndex((p, it) -> {
            ExecutorModels.requireVectorApi("LatentKMeans");
            List<Patches.Image> images = new ArrayList<>();
            long at = 0;
            while (it.hasNext()) {
                float[] px = new float[ch * h * w];
                String fault = type.read(it.next(), 0, px);
                if (fault != null) {
                    throw new IllegalArgumentException("LatentKMeans: row " + at + " of partition " + p + ", column '" + col + "': "
                            + fault.replace("the model encodes rows of", "images of " + ch + "x" + h + "x" + w + " have"));
                }
                images.add(new Patches.Image(ch, h, w, px));
                at++;
            }
            if (take[p] == 0 || images.isEmpty()) {
                return List.of(new Block(p, 0, new float[0])).iterator();
            }
            try (Workspace ws = new Workspace("spark-patches")) {
                Tensor t = Patches.random(images, take[p], patch, partitionSeed(seedValue, p), ws);
                Patches.normalize(t, normEpsValue);
                return List.of(new Block(p, take[p], t.toArray())).iterator();
            }
        }, true).filter(b -> b.rows() > 0).persist(StorageLevel.MEMORY_ONLY());
        try {
            // 2. ZCA statistics, summed in partition order
            Sums colSums = FixedOrderTree.reduce(raw.map(b -> new Sums(columnSums(b, d), b.rows())), Sums::add);
            long n = colSums.rows();
            double[] mu = new double[d];
            for (int j = 0; j < d; j++) {
                mu[j] = colSums.values()[j] / n;
            }
            Broadcast<double[]> muB = jsc.broadcast(mu);
            double[] cov = FixedOrderTree.reduce(raw.map(b -> new Sums(scatter(b, d, muB.value()), b.rows())), Sums::add).values();
            for (int p = 0; p < d; p++) {
                for (int q = p; q < d; q++) {
                    cov[p * d + q] /= n;
                    cov[q * d + p] = cov[p * d + q];
                }
            }
            Kernels kernels = Kernels.current();
            try (Workspace ws = new Workspace("spark-kmeans")) {
                Whitening white = Whitening.fromCovariance(mu, cov, c.whitenEps(), ws);
                double[] wMean = toDoubles(white.mean());
                double[] wMatrix = toDoubles(white.matrix());
                Broadcast<double[][]> whiteB = jsc.broadcast(new double[][] {wMean, wMatrix});
                double eps = c.whitenEps();
                JavaRDD<Block> x = raw.map(b -> whiten(b, d, whiteB.value(), eps)).persist(StorageLevel.MEMORY_ONLY());
                raw.unpersist(false);
                try {
                    return lloyd(jsc, x, c, n, kernels, white, new int[] {ch, h, w}, keepPatches);
                } finally {
                    x.unpersist(false);
                    whiteB.destroy();
                    muB.destroy();
                }
            }
        } finally {
            raw.unpersist(false);
        }
    }

    private Fitted lloyd(JavaSparkContext jsc, JavaRDD<Block> x, KMeansFeatures.Config c, long n, Kernels kernels, Whitening white,
                         int[] imageShape, boolean keepPatches) {
        int d = c.dim();
        int kk = c.k();
        int sample = i(initSampleSize);
        // 3. k-means++ seeding on the driver
        List<Block> seedRows = new ArrayList<>(x.map(b -> head(b, d, (int) Math.min(b.rows(),
                Math.ceil((double) sample * b.rows() / n)))).collect());
        seedRows.sort(Comparator.comparingInt(Block::index));
        float[] all = concat(seedRows);
        int m = all.length / d;
        float[] cent;
        try (Arena arena = Arena.ofShared(); KMeans km = new KMeans(kk, d, false, kernels)) {
            km.seed(wrap(arena, all, m, d), KMeans.Init.PLUS_PLUS, c.seed());
            cent = km.centroids().toArray();
        }
        // 4. Lloyd iterations: partial sums per partition, in partition order
        int iterations = 0;
        int empty = 0;
        double inertia = Double.NaN;
        long t0 = System.nanoTime();
        for (int it = 0; it < c.iterations(); it++) {
            LloydSums s = sums(jsc, x, cent, kk, d);
            float[] next = cent.clone();
            empty = 0;
            for (int j = 0; j < kk; j++) {
                if (s.count()[j] == 0) {
                    empty++;
                    continue;
                }
                double inv = 1.0 / s.count()[j];
                for (int q = 0; q < d; q++) {
                    next[j * d + q] = (float) (s.sum()[j * d + q] * inv);
                }
            }
            iterations++;
            boolean fixed = Arrays.equals(next, cent);
            cent = next;
            if (fixed) {
                break;
            }
        }
        double perIteration = iterations == 0 ? 0 : (System.nanoTime() - t0) * 1e-9 / iterations;
        inertia = sums(jsc, x, cent, kk, d).inertia() / n;
        // 5. the model file
        byte[] bytes;
        try (Arena arena = Arena.ofShared();
             KMeansFeatures f = KMeansFeatures.of(c, kernels, white, wrap(arena, cent, kk, d), imageShape)) {
            Path tmp = Files.createTempFile("latent-kmeans-", ".safetensors");
            try {
                f.save(tmp, Map.of("trainer", "latent-spark LatentKMeans", "partitions", Integer.toString(x.getNumPartitions())));
                bytes = Files.readAllBytes(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("LatentKMeans: cannot write the model file", e);
        }
        LatentEncoderModel model = new LatentEncoderModel(uid + "_model", bytes).setInputCol($(inputCol)).setOutputCol($(outputCol));
        model.setParent(this);
        float[] patches = null;
        if (keepPatches) {
            List<Block> blocks = new ArrayList<>(x.collect());
            blocks.sort(Comparator.comparingInt(Block::index));
            patches = concat(blocks);
        }
        return new Fitted(model, cent, inertia, iterations, empty, perIteration, n, patches, white.mean().toArray(),
                white.matrix().toArray());
    }

    /** One Lloyd pass over all partitions under {@code cent}: the summed partials. */
    private static LloydSums sums(JavaSparkContext jsc, JavaRDD<Block> x, float[] cent, int k, int d) {
        Broadcast<float[]> cb = jsc.broadcast(cent);
        try {
            return FixedOrderTree.reduce(x.map(b -> {
                try (Arena arena = Arena.ofShared(); KMeans km = new KMeans(k, d, false, Kernels.current())) {
                    km.setCentroids(wrap(arena, cb.value(), k, d));
                    KMeans.Partial p = km.partialSums(wrap(arena, b.values(), b.rows(), d));
                    return new LloydSums(p.sum(), p.count(), p.inertia());
                }
            }), LloydSums::add);
        } finally {
            cb.destroy();
        }
    }

    /** Largest-remainder shares of {@code total} in proportion to {@code weights} (ties to the lower index). */
    static int[] share(int total, long[] weights) {
        long sum = Arrays.stream(weights).sum();
        if (sum == 0) {
            throw new IllegalArgumentException("LatentKMeans: the input has no rows");
        }
        int[] out = new int[weights.length];
        double[] rem = new double[weights.length];
        int given = 0;
        for (int p = 0; p < weights.length; p++) {
            double exact = (double) total * weights[p] / sum;
            out[p] = (int) Math.floor(exact);
            rem[p] = exact - out[p];
            given += out[p];
        }
        Integer[] order = new Integer[weights.length];
        for (int p = 0; p < order.length; p++) {
            order[p] = p;
        }
        Arrays.sort(order, (a, b) -> Double.compare(rem[b], rem[a]) != 0 ? Double.compare(rem[b], rem[a]) : Integer.compare(a, b));
        for (int r = 0; given < total; r++) {
            if (weights[order[r % order.length]] > 0) {
                out[order[r % order.length]]++;
                given++;
            }
        }
        return out;
    }

    /** Partition p's sampling seed: the seed itself for partition 0 (so one partition samples as one machine does). */
    static long partitionSeed(long seed, int p) {
        return seed ^ (p * 0x9E3779B97F4A7C15L);
    }

    /** Column sums in row order (Whitening.mean's order, before its division). */
    static double[] columnSums(Block b, int d) {
        double[] s = new double[d];
        float[] v = b.values();
        for (long i = 0; i < b.rows(); i++) {
            for (int j = 0; j < d; j++) {
                s[j] += v[(int) (i * d + j)];
            }
        }
        return s;
    }

    static double[] scatter(Block b, int d, double[] mu) {
        try (Arena arena = Arena.ofShared()) {
            return Whitening.covarianceSums(wrap(arena, b.values(), b.rows(), d), mu);
        }
    }

    static Block whiten(Block b, int d, double[][] meanAndMatrix, double eps) {
        try (Workspace ws = new Workspace("spark-whiten"); Arena arena = Arena.ofShared()) {
            Whitening w = Whitening.of(meanAndMatrix[0], meanAndMatrix[1], eps, null, ws);
            Tensor out = ws.allocate(b.rows(), d);
            w.apply(wrap(arena, b.values(), b.rows(), d), out, Kernels.current());
            return new Block(b.index(), b.rows(), out.toArray());
        }
    }

    static Block head(Block b, int d, int rows) {
        return new Block(b.index(), rows, Arrays.copyOf(b.values(), rows * d));
    }

    static float[] concat(List<Block> blocks) {
        int total = blocks.stream().mapToInt(b -> b.values().length).sum();
        float[] out = new float[total];
        int at = 0;
        for (Block b : blocks) {
            System.arraycopy(b.values(), 0, out, at, b.values().length);
            at += b.values().length;
        }
        return out;
    }

    static double[] toDoubles(Tensor t) {
        float[] f = t.toArray();
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        return out;
    }

    /** A (rows, cols) tensor holding a copy of {@code v}, in {@code arena}. */
    static Tensor wrap(Arena arena, float[] v, int rows, int cols) {
        MemorySegment s = arena.allocate((long) Math.max(1, v.length) * Float.BYTES, 64);
        MemorySegment.copy(v, 0, s, ValueLayout.JAVA_FLOAT, 0, v.length);
        return Tensor.wrap(s, 0, rows, cols);
    }
}
