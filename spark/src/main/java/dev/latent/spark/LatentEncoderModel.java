package dev.latent.spark;

import dev.latent.serve.Encoder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serial;
import java.io.Serializable;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReadable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Option;
import scala.reflect.ClassTag$;

/**
 * A Spark ML Transformer computing the features (codes) of a latent model of any kind with features
 * (everything {@link Encoder} serves) for one input column, into a {@code VectorUDT} output column.
 *
 * <p>The model is the latent safetensors file itself, held as bytes: {@link #transform} broadcasts them,
 * and each executor JVM loads them once ({@link ExecutorModels}, keyed by their SHA-256) into one
 * thread-safe {@link Encoder} shared by its tasks. Each partition is encoded in batches of
 * {@link #batchSize()} rows through the feature interface, so the codes are the single-machine
 * {@code latent encode} codes, bit for bit, for the same kernel provider (floats widened exactly to
 * the vector's doubles).
 *
 * <p>Input column types: {@code Vector} (ml.linalg), {@code array<float>}, {@code array<double>}, or
 * {@code binary} (raw 8-bit pixels, one byte per input value, scaled by 1/255 as latent's IDX reader
 * does). A row is invalid when its value is null, has the wrong length, or holds NaN or infinity;
 * {@link #handleInvalid()} says what happens then: {@code error} (default) fails the task with a
 * message naming the row (partition and index within it) and the fault, {@code skip} drops the row,
 * {@code keep} keeps it with a null output.
 *
 * <p>Saved ({@link #write()}) as Spark's usual {@code metadata/} plus the model file as
 * {@code model.safetensors}, which {@code latent encode --model} and {@link Encoder#load} read directly.
 */
public final class LatentEncoderModel extends Model<LatentEncoderModel> implements MLWritable {

    @Serial
    private static final long serialVersionUID = 1L;

    /** The file name of the payload inside a saved stage. */
    public static final String PAYLOAD = "model.safetensors";

    private final String uid;
    private final byte[] modelBytes;
    private final String sha256;
    private final int inputSize;
    private final int featureSize;
    private final String kind;

    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final IntParam batchSize;
    private final Param<String> handleInvalid;

    /** A stage for the model file whose bytes are {@code modelBytes}; reads its shape once here. */
    public LatentEncoderModel(String uid, byte[] modelBytes) {
        this.uid = uid;
        this.modelBytes = modelBytes.clone();
        this.sha256 = ExecutorModels.sha256(this.modelBytes);
        Encoder e = ExecutorModels.encoder(sha256, this.modelBytes);
        this.inputSize = e.inputSize();
        this.featureSize = e.featureSize();
        this.kind = e.kind();
        inputCol = new Param<>(this, "inputCol", "input column: Vector, array<float>, array<double> or binary (8-bit pixels)");
        outputCol = new Param<>(this, "outputCol", "output column (Vector of the model's features)");
        batchSize = new IntParam(this, "batchSize", "rows per encoder call (> 0)", ParamValidators.gt(0));
        handleInvalid = new Param<>(this, "handleInvalid", "what to do with an invalid row (null, wrong length, NaN or"
                + " infinity): error, skip or keep (null output)", ParamValidators.inArray(new String[] {"error", "skip", "keep"}));
        setDefault(inputCol, "features");
        setDefault(outputCol, "codes");
        setDefault(batchSize, Encoder.CHUNK);
        setDefault(handleInvalid, "error");
    }

    public LatentEncoderModel(byte[] modelBytes) {
        this(Identifiable$.MODULE$.randomUID("latentEncoder"), modelBytes);
    }

    /** A stage for a latent model file (any kind with features). */
    public static LatentEncoderModel fromFile(Path modelFile) throws IOException {
        return new LatentEncoderModel(Files.readAllBytes(modelFile));
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public Param<String> handleInvalid() {
        return handleInvalid;
    }

    public LatentEncoderModel setInputCol(String v) {
        set(inputCol, v);
        return this;
    }

    public LatentEncoderModel setOutputCol(String v) {
        set(outputCol, v);
        return this;
    }

    public LatentEncoderModel setBatchSize(int v) {
        set(batchSize, v);
        return this;
    }

    public LatentEncoderModel setHandleInvalid(String v) {
        set(handleInvalid, v);
        return this;
    }

    public String getInputCol() {
        return $(inputCol);
    }

    public String getOutputCol() {
        return $(outputCol);
    }

    /** The latent model file's bytes (a copy). */
    public byte[] modelBytes() {
        return modelBytes.clone();
    }

    /** SHA-256 of the model file's bytes. */
    public String modelSha256() {
        return sha256;
    }

    public String modelKind() {
        return kind;
    }

    public int inputSize() {
        return inputSize;
    }

    public int featureSize() {
        return featureSize;
    }

    /** Writes the payload as a plain latent model file. */
    public void saveModelFile(Path file) throws IOException {
        Files.write(file, modelBytes);
    }

    @Override
    public StructType transformSchema(StructType schema) {
        String in = $(inputCol);
        String out = $(outputCol);
        if (!List.of(schema.fieldNames()).contains(in)) {
            throw new IllegalArgumentException("LatentEncoderModel: input column '" + in + "' not found; columns are "
                    + String.join(", ", schema.fieldNames()));
        }
        if (List.of(schema.fieldNames()).contains(out)) {
            throw new IllegalArgumentException("LatentEncoderModel: output column '" + out + "' already exists");
        }
        InputType.of(schema.apply(in).dataType(), in);
        return schema.add(new StructField(out, SQLDataTypes.VectorType(), true, org.apache.spark.sql.types.Metadata.empty()));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType outSchema = transformSchema(dataset.schema());
        StructType inSchema = dataset.schema();
        int col = inSchema.fieldIndex($(inputCol));
        SparkSession spark = dataset.sparkSession();
        Broadcast<byte[]> bytes = spark.sparkContext().broadcast(modelBytes, ClassTag$.MODULE$.apply(byte[].class));
        PartitionEncoder fn = new PartitionEncoder(bytes, sha256, col, InputType.of(inSchema.apply(col).dataType(), $(inputCol)),
                (Integer) $(batchSize), $(handleInvalid), inputSize, featureSize, $(inputCol));
        JavaRDD<Row> rows = dataset.toDF().javaRDD().mapPartitions(fn);
        return spark.createDataFrame(rows, outSchema);
    }

    @Override
    public LatentEncoderModel copy(ParamMap extra) {
        LatentEncoderModel m = copyValues(new LatentEncoderModel(uid, modelBytes), extra);
        return m.setParent(parent());
    }

    /**
     * What runs on the executors: only the broadcast handle, the column's place and type, and the batch
     * parameters travel with a task, not the stage with its bytes.
     */
    static final class PartitionEncoder implements FlatMapFunction<Iterator<Row>, Row>, Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
        private final Broadcast<byte[]> bytes;
        private final String sha256;
        private final int col;
        private final InputType type;
        private final int batch;
        private final String mode;
        private final int inputSize;
        private final int featureSize;
        private final String colName;

        PartitionEncoder(Broadcast<byte[]> bytes, String sha256, int col, InputType type, int batch, String mode, int inputSize,
                         int featureSize, String colName) {
            this.bytes = bytes;
            this.sha256 = sha256;
            this.col = col;
            this.type = type;
            this.batch = batch;
            this.mode = mode;
            this.inputSize = inputSize;
            this.featureSize = featureSize;
            this.colName = colName;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            ExecutorModels.requireVectorApi("LatentEncoderModel");
            Encoder enc = ExecutorModels.encoder(sha256, bytes.value());
            int partition = TaskContext.get() == null ? -1 : TaskContext.getPartitionId();
            Arena arena = Arena.ofAuto();
            MemorySegment in = arena.allocate((long) batch * inputSize * Float.BYTES, 64);
            MemorySegment out = arena.allocate((long) batch * featureSize * Float.BYTES, 64);
            float[] row = new float[inputSize];
            float[] code = new float[featureSize];
            return new Iterator<>() {
                private final List<Row> pending = new ArrayList<>(batch);
                /** Per pending row: its slot in the batch, or -1 for a kept invalid row. */
                private final List<Integer> slots = new ArrayList<>(batch);
                private int next;
                private long index;

                @Override
                public boolean hasNext() {
                    if (next < pending.size()) {
                        return true;
                    }
                    fill();
                    return next < pending.size();
                }

                @Override
                public Row next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    Row r = pending.get(next);
                    int slot = slots.get(next);
                    next++;
                    Object v = null;
                    if (slot >= 0) {
                        MemorySegment.copy(out, ValueLayout.JAVA_FLOAT, (long) slot * featureSize * Float.BYTES, code, 0, featureSize);
                        double[] d = new double[featureSize];
                        for (int j = 0; j < featureSize; j++) {
                            d[j] = code[j];
                        }
                        v = new DenseVector(d);
                    }
                    Object[] values = new Object[r.length() + 1];
                    for (int i = 0; i < r.length(); i++) {
                        values[i] = r.get(i);
                    }
                    values[r.length()] = v;
                    return RowFactory.create(values);
                }

                private void fill() {
                    pending.clear();
                    slots.clear();
                    next = 0;
                    int n = 0;
                    while (n < batch && rows.hasNext()) {
                        Row r = rows.next();
                        long at = index++;
                        String fault = read(r, row);
                        if (fault != null) {
                            switch (mode) {
                                case "skip" -> {
                                    continue;
                                }
                                case "keep" -> {
                                    pending.add(r);
                                    slots.add(-1);
                                    continue;
                                }
                                default -> throw new IllegalArgumentException("LatentEncoderModel: row " + at + " of partition "
                                        + partition + ", column '" + colName + "': " + fault
                                        + " (set handleInvalid to skip or keep to pass such rows)");
                            }
                        }
                        MemorySegment.copy(row, 0, in, ValueLayout.JAVA_FLOAT, (long) n * inputSize * Float.BYTES, inputSize);
                        pending.add(r);
                        slots.add(n);
                        n++;
                    }
                    if (n > 0) {
                        enc.encode(in, out, n);
                    }
                }
            };
        }

        private String read(Row r, float[] dst) {
            return type.read(r, col, dst);
        }
    }

    @Override
    public MLWriter write() {
        return new Writer(this);
    }

    public static MLReader<LatentEncoderModel> read() {
        return new Reader();
    }

    public static LatentEncoderModel load(String path) {
        return read().load(path);
    }

    /** Spark's metadata (params, uid, class) plus the model file as {@link #PAYLOAD}. */
    static final class Writer extends MLWriter {
        private final LatentEncoderModel stage;

        Writer(LatentEncoderModel stage) {
            this.stage = stage;
        }

        @Override
        public void saveImpl(String path) {
            DefaultParamsWriter$.MODULE$.saveMetadata(stage, path, sparkSession());
            writePayload(sparkSession(), path, stage.modelBytes);
        }
    }

    static final class Reader extends MLReader<LatentEncoderModel> {
        @Override
        public LatentEncoderModel load(String path) {
            DefaultParamsReader.Metadata meta = DefaultParamsReader$.MODULE$.loadMetadata(path, sparkSession(),
                    LatentEncoderModel.class.getName());
            LatentEncoderModel m = new LatentEncoderModel(meta.uid(), readPayload(sparkSession(), path));
            meta.getAndSetParams(m, Option.empty());
            return m;
        }
    }

    /** Writes {@code bytes} as {@code <path>/model.safetensors} on the session's file system. */
    static void writePayload(SparkSession spark, String path, byte[] bytes) {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path, PAYLOAD);
        try {
            FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
            try (OutputStream os = fs.create(p, true)) {
                os.write(bytes);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + p, e);
        }
    }

    static byte[] readPayload(SparkSession spark, String path) {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path, PAYLOAD);
        try {
            FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
            try (InputStream is = fs.open(p)) {
                return is.readAllBytes();
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + p, e);
        }
    }
}
