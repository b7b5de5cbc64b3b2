package dev.latent.spark;

import dev.latent.io.AtomicFiles;
import dev.latent.kernel.Kernels;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.tensor.Tensor;
import dev.latent.train.Trainer;
import java.io.IOException;
import java.io.Serial;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntArrayParam;
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

/**
 * Data-parallel training of latent's (dense, sparse) autoencoder as a Spark ML Estimator, by parameter
 * averaging (DL4J's scheme): each round broadcasts the current model file; every partition trains a copy
 * on its own shard for one local epoch (H = shard rows / batchSize Adam steps; round r is epoch r + 1 of
 * the partition's schedule, shuffled from (seed of the partition, r + 1)); the driver averages the
 * partitions' parameters and Adam moments weighted by their rows, in partition order, and measures the
 * averaged model's reconstruction loss over all partitions.
 *
 * <p>Why averaging and not a gradient sum per step: a step's gradient is as large as the model (784 x 64
 * x 2 floats here; 3 MB for 784-1000) and one {@code treeAggregate} per step costs a Spark job (tens of
 * milliseconds) against a sub-millisecond step; averaging every H steps moves the same bytes once per round.
 *
 * <p>Optimizer state: carried. Each round broadcasts the averaged Adam moments (m and v, weighted by rows
 * like the parameters, as DL4J averages its updater state) and the step count (the largest of the
 * partitions' after the round, for Adam's bias correction), and every worker continues from them. That
 * triples the bytes per round against parameters alone, and an averaged v is only an estimate for the
 * averaged parameters; but a restart every round zeroes the moments and repeats the large first steps
 * of bias correction, so the run would no longer be the single-machine run. With one partition every
 * average is the identity (n x a / n is exact in double for a float a), so the run is single-machine
 * training ({@code Autoencoder.fit} over the same epochs with the partition's seed) bit for bit.
 *
 * <p>Checkpoints: with {@link #checkpointDir()} set, after each round the averaged model file and
 * {@code round.json} (round, losses) are written atomically; a fit finding them resumes at the next round,
 * and since every round's seeds depend only on (seed, round, partition), a resumed run equals an
 * uninterrupted one bit for bit on the same partitioning. The fitted model is a {@link LatentEncoderModel}.
 */
public final class LatentAutoencoder extends Estimator<LatentEncoderModel> implements DefaultParamsWritable {

    @Serial
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final IntArrayParam hidden;
    private final IntParam epochs;
    private final IntParam batchSize;
    private final DoubleParam learningRate;
    private final LongParam seed;
    private final Param<String> checkpointDir;

    public LatentAutoencoder(String uid) {
        this.uid = uid;
        inputCol = new Param<>(this, "inputCol", "input column (Vector, array<float>, array<double> or binary)");
        outputCol = new Param<>(this, "outputCol", "the fitted model's output column");
        hidden = new IntArrayParam(this, "hidden", "encoder layer sizes, the last the code size");
        epochs = new IntParam(this, "epochs", "averaging rounds (one local epoch each)", ParamValidators.gtEq(1));
        batchSize = new IntParam(this, "batchSize", "mini-batch size", ParamValidators.gtEq(1));
        learningRate = new DoubleParam(this, "learningRate", "Adam learning rate", ParamValidators.gt(0));
        seed = new LongParam(this, "seed", "seed of the initial weights and the shuffles");
        checkpointDir = new Param<>(this, "checkpointDir", "local directory for a checkpoint after each round (empty: none)");
        setDefault(inputCol, "features");
        setDefault(outputCol, "codes");
        setDefault(hidden, new int[] {196});
        setDefault(epochs, 20);
        setDefault(batchSize, 128);
        setDefault(learningRate, 3e-3);
        setDefault(seed, 1L);
        setDefault(checkpointDir, "");
    }

    public LatentAutoencoder() {
        this(Identifiable$.MODULE$.randomUID("latentAutoencoder"));
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> inputCol() { return inputCol; }
    public Param<String> outputCol() { return outputCol; }
    public IntArrayParam hidden() { return hidden; }
    public IntParam epochs() { return epochs; }
    public IntParam batchSize() { return batchSize; }
    public DoubleParam learningRate() { return learningRate; }
    public LongParam seed() { return seed; }
    public Param<String> checkpointDir() { return checkpointDir; }

    public LatentAutoencoder setInputCol(String v) { set(inputCol, v); return this; }
    public LatentAutoencoder setOutputCol(String v) { set(outputCol, v); return this; }
    public LatentAutoencoder setHidden(int... v) { set(hidden, v); return this; }
    public LatentAutoencoder setEpochs(int v) { set(epochs, v); return this; }
    public LatentAutoencoder setBatchSize(int v) { set(batchSize, v); return this; }
    public LatentAutoencoder setLearningRate(double v) { set(learningRate, v); return this; }
    public LatentAutoencoder setSeed(long v) { set(seed, v); return this; }
    public LatentAutoencoder setCheckpointDir(String v) { set(checkpointDir, v); return this; }

    @Override
    public StructType transformSchema(StructType schema) {
        String in = $(inputCol);
        if (!Arrays.asList(schema.fieldNames()).contains(in)) {
            throw new IllegalArgumentException("LatentAutoencoder: input column '" + in + "' not found; columns are "
                    + String.join(", ", schema.fieldNames()));
        }
        InputType.of(schema.apply(in).dataType(), in);
        return schema.add($(outputCol), org.apache.spark.ml.linalg.SQLDataTypes.VectorType(), true);
    }

    @Override
    public LatentEncoderModel fit(org.apache.spark.sql.Dataset<?> dataset) {
        return fitDetailed(dataset, 784).model();
    }

    @Override
    public LatentAutoencoder copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    public static MLReader<LatentAutoencoder> read() {
        return new DefaultParamsReader<>();
    }

    public static LatentAutoencoder load(String path) {
        return read().load(path);
    }

    /** The fit's model and its loss curve: the averaged model's mean reconstruction loss after each round (all rounds, resumed ones too). */
    public record Fitted(LatentEncoderModel model, double[] losses, int roundsRun, double secondsPerRound, long parameterBytes) {
    }

    /** One partition's rows, (rows, inputSize) row-major. */
    record Shard(int index, int rows, float[] values) implements Serializable {
    }

    /** A partition's contribution to a round: rows, parameters and Adam moments times rows, steps after the round (or a loss sum). */
    record Contribution(long rows, double[] weighted, double[] moments, long steps, double lossSum) implements Serializable {
        Contribution add(Contribution o) {
            if (weighted != null) {
                for (int i = 0; i < weighted.length; i++) {
                    weighted[i] += o.weighted[i];
                }
                for (int i = 0; i < moments.length; i++) {
                    moments[i] += o.moments[i];
                }
            }
            return new Contribution(rows + o.rows, weighted, moments, Math.max(steps, o.steps), lossSum + o.lossSum);
        }
    }

    /** The optimizer state every worker starts a round from: Adam's moments (m then v; null: fresh) and its step count. */
    record AdamState(float[] moments, long steps) implements Serializable {
    }

    /** Fits on rows of {@code inputSize} values; see the class comment. */
    public Fitted fitDetailed(org.apache.spark.sql.Dataset<?> dataset, int inputSize) {
        transformSchema(dataset.schema());
        String col = $(inputCol);
        InputType type = InputType.of(dataset.schema().apply(col).dataType(), col);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext());
        JavaRDD<Shard> shards = dataset.toDF().select(col).javaRDD().mapPartitionsWithIndex((p, it) -> {
            ExecutorModels.requireVectorApi("LatentAutoencoder");
            List<float[]> rows = new ArrayList<>();
            long at = 0;
            while (it.hasNext()) {
                float[] x = new float[inputSize];
                String fault = type.read(it.next(), 0, x);
                if (fault != null) {
                    throw new IllegalArgumentException("LatentAutoencoder: row " + at + " of partition " + p + ", column '" + col + "': " + fault);
                }
                rows.add(x);
                at++;
            }
            float[] all = new float[rows.size() * inputSize];
            for (int i = 0; i < rows.size(); i++) {
                System.arraycopy(rows.get(i), 0, all, i * inputSize, inputSize);
            }
            return List.of(new Shard(p, rows.size(), all)).iterator();
        }, true).filter(s -> s.rows() > 0).persist(StorageLevel.MEMORY_ONLY());
        int rounds = (Integer) $(epochs);
        int batch = (Integer) $(batchSize);
        double lr = (Double) $(learningRate);
        long seedValue = (Long) $(seed);
        Path ckpt = $(checkpointDir).isEmpty() ? null : Path.of($(checkpointDir));
        try {
            byte[] bytes;
            List<Double> losses = new ArrayList<>();
            int first = 0;
            AdamState state = new AdamState(null, 0);
            if (ckpt != null && Files.isRegularFile(ckpt.resolve("round.json"))) {
                String json = Files.readString(ckpt.resolve("round.json"));
                com.fasterxml.jackson.databind.JsonNode j = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
                first = j.get("round").asInt() + 1;
                j.get("losses").forEach(v -> losses.add(v.asDouble()));
                bytes = Files.readAllBytes(ckpt.resolve(j.get("model").asText()));
                if (j.has("adam")) {
                    state = new AdamState(readFloats(ckpt.resolve(j.get("adam").asText())), j.get("steps").asLong());
                }
            } else {
                bytes = initial(inputSize, $(hidden), seedValue);
            }
            long paramBytes = 0;
            long t0 = System.nanoTime();
            int ran = 0;
            for (int r = first; r < rounds; r++) {
                Broadcast<byte[]> model = jsc.broadcast(bytes);
                Broadcast<AdamState> adamState = jsc.broadcast(state);
                int epoch = r + 1;
                Contribution sum = FixedOrderTree.reduce(shards.map(s -> train(model.value(), adamState.value(), s, inputSize, batch, lr,
                        partitionSeed(seedValue, s.index()), epoch)), Contribution::add);
                model.destroy();
                adamState.destroy();
                float[] avg = new float[sum.weighted().length];
                for (int i = 0; i < avg.length; i++) {
                    avg[i] = (float) (sum.weighted()[i] / sum.rows());
                }
                float[] moments = new float[sum.moments().length];
                for (int i = 0; i < moments.length; i++) {
                    moments[i] = (float) (sum.moments()[i] / sum.rows());
                }
                state = new AdamState(moments, sum.steps());
                paramBytes = (long) avg.length * Float.BYTES;
                bytes = withParameters(bytes, avg);
                Broadcast<byte[]> averaged = jsc.broadcast(bytes);
                Contribution loss = FixedOrderTree.reduce(shards.map(s -> loss(averaged.value(), s, inputSize)), Contribution::add);
                averaged.destroy();
                losses.add(loss.lossSum() / loss.rows());
                ran++;
                if (ckpt != null) {
                    checkpoint(ckpt, r, losses, bytes, state);
                }
            }
            double perRound = ran == 0 ? 0 : (System.nanoTime() - t0) * 1e-9 / ran;
            LatentEncoderModel m = new LatentEncoderModel(uid + "_model", bytes).setInputCol(col).setOutputCol($(outputCol));
            m.setParent(this);
            return new Fitted(m, losses.stream().mapToDouble(Double::doubleValue).toArray(), ran, perRound, paramBytes);
        } catch (IOException e) {
            throw new UncheckedIOException("LatentAutoencoder: " + e.getMessage(), e);
        } finally {
            shards.unpersist(false);
        }
    }

    /** The seed of partition p's schedule (its shuffle of round r is epoch r + 1's); partition 0 has the fit's own seed. */
    static long partitionSeed(long seed, int p) {
        return seed + 0x9E3779B97F4A7C15L * p;
    }

    /** The initial model file: latent's autoencoder (its defaults: sigmoid, KL sparsity) with {@code hidden} sizes. */
    static byte[] initial(int inputSize, int[] hidden, long seed) throws IOException {
        try (Autoencoder ae = Autoencoder.builder(inputSize).hidden(hidden).build().init(seed)) {
            return bytesOf(ae);
        }
    }

    static byte[] bytesOf(Autoencoder ae) throws IOException {
        Path tmp = Files.createTempFile("latent-ae-", ".safetensors");
        try {
            ae.save(tmp, Map.of("trainer", "latent-spark LatentAutoencoder"));
            return Files.readAllBytes(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static Autoencoder load(byte[] bytes) throws IOException {
        Path tmp = Files.createTempFile("latent-ae-", ".safetensors");
        try {
            Files.write(tmp, bytes);
            return Autoencoder.load(tmp, Kernels.current());
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The model file {@code bytes} with its parameters replaced by {@code values} (the slab's order). */
    static byte[] withParameters(byte[] bytes, float[] values) throws IOException {
        try (Autoencoder ae = load(bytes)) {
            ae.network().slab().values().copyFrom(values);
            return bytesOf(ae);
        }
    }

    /**
     * Epoch {@code epoch} of the partition's schedule on its shard, from the round's model and Adam state;
     * returns rows x parameters and rows x moments (in double) for the weighted averages, and Adam's steps.
     */
    static Contribution train(byte[] model, AdamState state, Shard s, int inputSize, int batch, double lr, long seed, int epoch)
            throws IOException {
        try (Autoencoder ae = load(model); dev.latent.optim.Adam adam = ae.adam(lr); Arena arena = Arena.ofShared()) {
            if (state.moments() != null) {
                adam.state().copyFrom(state.moments());
                adam.setSteps(state.steps());
            }
            Tensor x = LatentKMeans.wrap(arena, s.values(), s.rows(), inputSize);
            ae.fit(x, null, Trainer.Config.of(epoch, batch, seed).onlyEpoch(epoch), adam, null);
            return new Contribution(s.rows(), times(s.rows(), ae.network().slab().values().toArray()),
                    times(s.rows(), adam.state().toArray()), adam.steps(), 0);
        }
    }

    private static double[] times(long rows, float[] values) {
        double[] w = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            w[i] = (double) rows * values[i];
        }
        return w;
    }

    static float[] readFloats(Path file) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(Files.readAllBytes(file)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[b.remaining() / Float.BYTES];
        b.asFloatBuffer().get(v);
        return v;
    }

    static Contribution loss(byte[] model, Shard s, int inputSize) throws IOException {
        try (Autoencoder ae = load(model); Arena arena = Arena.ofShared()) {
            Tensor x = LatentKMeans.wrap(arena, s.values(), s.rows(), inputSize);
            return new Contribution(s.rows(), null, null, 0, ae.reconstructionLoss(x) * s.rows());
        }
    }

    /**
     * Writes round r's model as {@code model-r.safetensors}, then {@code round.json} naming it (each by an
     * atomic rename), then deletes the previous round's model: a crash at any point leaves a round.json whose
     * model is there and belongs to it.
     */
    private static void checkpoint(Path dir, int round, List<Double> losses, byte[] bytes, AdamState state) throws IOException {
        Files.createDirectories(dir);
        String name = "model-" + round + ".safetensors";
        Path m = AtomicFiles.sibling(dir.resolve(name));
        Files.write(m, bytes);
        AtomicFiles.replace(m, dir.resolve(name));
        String adam = "adam-" + round + ".f32";
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(state.moments().length * Float.BYTES).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(state.moments());
        Path a = AtomicFiles.sibling(dir.resolve(adam));
        Files.write(a, b.array());
        AtomicFiles.replace(a, dir.resolve(adam));
        StringBuilder j = new StringBuilder("{\"round\":").append(round).append(",\"model\":\"").append(name)
                .append("\",\"adam\":\"").append(adam).append("\",\"steps\":").append(state.steps()).append(",\"losses\":[");
        for (int i = 0; i < losses.size(); i++) {
            j.append(i == 0 ? "" : ",").append(Double.toString(losses.get(i)));
        }
        j.append("]}");
        Path t = AtomicFiles.sibling(dir.resolve("round.json"));
        Files.writeString(t, j, StandardCharsets.UTF_8);
        AtomicFiles.replace(t, dir.resolve("round.json"));
        Files.deleteIfExists(dir.resolve("model-" + (round - 1) + ".safetensors"));
        Files.deleteIfExists(dir.resolve("adam-" + (round - 1) + ".f32"));
    }
}
