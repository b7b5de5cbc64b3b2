package dev.latent.spark.cli;

import dev.latent.data.Dataset;
import dev.latent.io.BadInputException;
import dev.latent.spark.LatentEncoderModel;
import dev.latent.spark.LatentKMeans;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.ml.functions;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code latent spark encode|kmeans|train}: latent's Spark stages on an embedded Spark ({@code --master
 * local[N]}) or a cluster's master. Input: Parquet (a column of images: vector, array&lt;float&gt;,
 * array&lt;double&gt; or binary) or an IDX image file (read on the driver; labels optional), default the
 * embedded digits; output: Parquet, or a saved Spark ML stage. Bad input is one line on stderr, exit 2.
 */
@Command(name = "latent spark", mixinStandardHelpOptions = true, versionProvider = SparkCommand.Version.class,
        description = "latent's Spark ML stages from the command line (an embedded Spark with --master local[N]).",
        subcommands = {SparkCommand.Encode.class, SparkCommand.KMeansCmd.class, SparkCommand.Train.class})
public final class SparkCommand implements Runnable {

    public static final int EXIT_BAD_INPUT = 2;
    public static final int EXIT_INTERNAL = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: encode, kmeans or train");
    }

    /** {@code -V}: latent's version ({@link dev.latent.io.LatentVersion}). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"latent " + dev.latent.io.LatentVersion.get()};
        }
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line; returns the exit code. */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new SparkCommand());
        cl.getSubcommands().values().forEach(sub -> sub.getCommandSpec().versionProvider(new Version()));
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("latent spark: " + ex.getMessage() + " (--help lists the options)");
            return EXIT_BAD_INPUT;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            Throwable bad = badInput(ex);
            if (bad != null) {
                c.getErr().println("latent spark " + c.getCommandName() + ": " + oneLine(bad.getMessage()));
                return EXIT_BAD_INPUT;
            }
            c.getErr().println("latent spark " + c.getCommandName() + ": internal error: " + ex);
            if (System.getenv("LATENT_DEBUG") != null) {
                ex.printStackTrace(c.getErr());
            }
            return EXIT_INTERNAL;
        });
        return cl.execute(args);
    }

    /** The innermost bad-input cause (IllegalArgumentException, a Spark analysis error, a missing file), or null. */
    static Throwable badInput(Throwable ex) {
        Throwable found = null;
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof IllegalArgumentException || t instanceof java.nio.file.NoSuchFileException
                    || t instanceof java.io.FileNotFoundException || t.getClass().getName().endsWith("AnalysisException")
                    || (t instanceof IllegalStateException && String.valueOf(t.getMessage()).contains("latent"))) {
                found = t;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return found;
    }

    static String oneLine(String s) {
        String m = s == null ? "" : s.strip();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** Options every subcommand takes: where Spark runs and where the images come from. */
    static final class Common {
        @Option(names = "--master", defaultValue = "local[2]", description = "Spark master (default: ${DEFAULT-VALUE}).")
        String master;

        @Option(names = "--input", description = "Parquet file or directory, or an IDX image file (default: the embedded 10,000 digits).")
        Path input;

        @Option(names = "--labels", description = "IDX label file for an IDX --input (optional).")
        Path labels;

        @Option(names = "--input-col", defaultValue = "pixels", description = "Image column of a Parquet input (default: ${DEFAULT-VALUE}).")
        String inputCol;

        @Option(names = "--partitions", description = "Repartition the input into this many partitions.")
        Integer partitions;

        SparkSession session(String app) {
            SparkSession.Builder b = SparkSession.builder().appName("latent spark " + app).master(master)
                    .config("spark.ui.enabled", "false");
            if (master.startsWith("local")) {
                b.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                        .config("spark.sql.shuffle.partitions", "4");
            }
            SparkSession s = b.getOrCreate();
            s.sparkContext().setLogLevel("WARN");
            return s;
        }

        /** The input as a DataFrame with the image column {@link #inputCol} (and id, label for IDX input). */
        org.apache.spark.sql.Dataset<Row> read(SparkSession spark) throws Exception {
            org.apache.spark.sql.Dataset<Row> df;
            if (input != null && !Files.exists(input)) {
                throw new BadInputException("--input " + input + " does not exist");
            }
            if (input != null && (Files.isDirectory(input) || input.getFileName().toString().endsWith(".parquet"))) {
                df = spark.read().parquet(input.toString());
                if (!List.of(df.columns()).contains(inputCol)) {
                    throw new BadInputException("--input " + input + " has no column '" + inputCol + "' (columns: "
                            + String.join(", ", df.columns()) + "); name it with --input-col");
                }
            } else {
                try (Dataset d = input == null ? Dataset.embeddedMnist() : Dataset.readIdx(input, labels)) {
                    df = idxFrame(spark, d, inputCol);
                }
            }
            return partitions == null ? df : df.repartition(partitions);
        }
    }

    /** An IDX data set as rows (id, label or null, image as Vector), in file order. */
    static org.apache.spark.sql.Dataset<Row> idxFrame(SparkSession spark, Dataset d, String col) {
        List<Row> rows = new ArrayList<>(d.size());
        for (int i = 0; i < d.size(); i++) {
            float[] px = d.images().row(i).toArray();
            double[] v = new double[px.length];
            for (int j = 0; j < px.length; j++) {
                v[j] = px[j];
            }
            rows.add(RowFactory.create((long) i, d.hasLabels() ? (Integer) d.label(i) : null, Vectors.dense(v)));
        }
        StructType schema = new StructType().add("id", DataTypes.LongType, false).add("label", DataTypes.IntegerType, true)
                .add(col, SQLDataTypes.VectorType(), false);
        return spark.createDataFrame(rows, schema);
    }

    @Command(name = "encode", mixinStandardHelpOptions = true,
            description = "Encode images with a latent model file into Parquet (column codes: array<float>).")
    static final class Encode implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Common common;

        @Option(names = "--model", required = true, description = "A latent model file (model.safetensors).")
        Path model;

        @Option(names = "--output", required = true, description = "Output Parquet directory (replaced).")
        Path output;

        @Option(names = "--batch", defaultValue = "256", description = "Rows per encoder call (default: ${DEFAULT-VALUE}).")
        int batchSize;

        @Option(names = "--handle-invalid", defaultValue = "error", description = "error, skip or keep (default: ${DEFAULT-VALUE}).")
        String handleInvalid;

        @Override
        public Integer call() throws Exception {
            if (!Files.isRegularFile(model)) {
                throw new BadInputException("--model " + model + " is not a file");
            }
            PrintWriter out = spec.commandLine().getOut();
            long t0 = System.nanoTime();
            SparkSession spark = common.session("encode");
            try {
                org.apache.spark.sql.Dataset<Row> df = common.read(spark);
                LatentEncoderModel enc = LatentEncoderModel.fromFile(model).setInputCol(common.inputCol).setOutputCol("codes_vector")
                        .setBatchSize(batchSize).setHandleInvalid(handleInvalid);
                org.apache.spark.sql.Dataset<Row> coded = enc.transform(df)
                        .withColumn("codes", functions.vector_to_array(org.apache.spark.sql.functions.col("codes_vector"), "float32"))
                        .drop("codes_vector", common.inputCol);
                coded.write().mode(SaveMode.Overwrite).parquet(output.toString());
                long n = spark.read().parquet(output.toString()).count();
                out.printf(Locale.ROOT, "encoded %d rows into %d-dimensional codes (%s model) with Spark %s in %.2f s: %s%n", n,
                        enc.featureSize(), enc.modelKind(), common.master, (System.nanoTime() - t0) * 1e-9, output);
            } finally {
                spark.stop();
            }
            return 0;
        }
    }

    @Command(name = "kmeans", mixinStandardHelpOptions = true,
            description = "Learn Coates & Ng k-means features on Spark; writes the saved stage (with model.safetensors inside).")
    static final class KMeansCmd implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Common common;

        @Option(names = "--output", required = true, description = "Output directory of the saved LatentEncoderModel (replaced).")
        Path output;

        @Option(names = "--k", defaultValue = "100", description = "Centroids (default: ${DEFAULT-VALUE}).")
        int k;

        @Option(names = "--patch", defaultValue = "6", description = "Patch side (default: ${DEFAULT-VALUE}).")
        int patch;

        @Option(names = "--patches", defaultValue = "50000", description = "Random patches over all partitions (default: ${DEFAULT-VALUE}).")
        int patches;

        @Option(names = "--iterations", defaultValue = "30", description = "Lloyd iterations (default: ${DEFAULT-VALUE}).")
        int iterations;

        @Option(names = "--seed", defaultValue = "1", description = "Seed (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--image-shape", defaultValue = "1,28,28", description = "channels,height,width of the images (default: ${DEFAULT-VALUE}).")
        String shape;

        @Override
        public Integer call() throws Exception {
            int[] s;
            try {
                s = java.util.Arrays.stream(shape.split(",")).mapToInt(x -> Integer.parseInt(x.strip())).toArray();
            } catch (NumberFormatException e) {
                throw new BadInputException("--image-shape must be channels,height,width, got '" + shape + "'");
            }
            if (s.length != 3) {
                throw new BadInputException("--image-shape must be channels,height,width, got '" + shape + "'");
            }
            PrintWriter out = spec.commandLine().getOut();
            SparkSession spark = common.session("kmeans");
            try {
                LatentKMeans est = new LatentKMeans().setInputCol(common.inputCol).setK(k).setPatchSize(patch).setNumPatches(patches)
                        .setMaxIter(iterations).setSeed(seed).setImageShape(s[0], s[1], s[2]);
                LatentKMeans.Fitted f = est.fitDetailed(common.read(spark), false);
                f.model().write().overwrite().save(output.toString());
                out.printf(Locale.ROOT, "k-means: %d centroids on %d patches, %d iterations at %.3f s each, inertia %.4f per patch;"
                                + " saved stage %s (latent model file %s)%n", k, f.patches(), f.iterations(), f.secondsPerIteration(),
                        f.inertia(), output, output.resolve(LatentEncoderModel.PAYLOAD));
            } finally {
                spark.stop();
            }
            return 0;
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Train a (sparse) autoencoder data-parallel on Spark (parameter averaging each epoch); writes the saved stage.")
    static final class Train implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Common common;

        @Option(names = "--output", required = true, description = "Output directory of the saved LatentEncoderModel (replaced).")
        Path output;

        @Option(names = "--hidden", defaultValue = "196", split = ",", description = "Encoder layer sizes (default: ${DEFAULT-VALUE}).")
        int[] hidden;

        @Option(names = "--epochs", defaultValue = "20", description = "Epochs = averaging rounds (default: ${DEFAULT-VALUE}).")
        int epochs;

        @Option(names = "--batch", defaultValue = "128", description = "Mini-batch size (default: ${DEFAULT-VALUE}).")
        int batch;

        @Option(names = "--lr", defaultValue = "3e-3", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
        double lr;

        @Option(names = "--seed", defaultValue = "1", description = "Seed (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--input-size", defaultValue = "784", description = "Values per input row (default: ${DEFAULT-VALUE}).")
        int inputSize;

        @Option(names = "--checkpoint", description = "Checkpoint directory (resumes from it when it holds one).")
        Path checkpoint;

        @Override
        public Integer call() throws Exception {
            if (epochs < 1 || batch < 1 || !(lr > 0) || inputSize < 1 || java.util.Arrays.stream(hidden).anyMatch(h -> h < 1)) {
                throw new BadInputException("--epochs, --batch, --input-size and --hidden must be >= 1 and --lr > 0");
            }
            PrintWriter out = spec.commandLine().getOut();
            SparkSession spark = common.session("train");
            try {
                dev.latent.spark.LatentAutoencoder est = new dev.latent.spark.LatentAutoencoder().setInputCol(common.inputCol)
                        .setHidden(hidden).setEpochs(epochs).setBatchSize(batch).setLearningRate(lr).setSeed(seed)
                        .setCheckpointDir(checkpoint == null ? "" : checkpoint.toString());
                dev.latent.spark.LatentAutoencoder.Fitted f = est.fitDetailed(common.read(spark), inputSize);
                f.model().write().overwrite().save(output.toString());
                double[] l = f.losses();
                out.printf(Locale.ROOT, "autoencoder: %d rounds run (%.2f s each), reconstruction loss %.4f -> %.4f; saved stage %s"
                                + " (latent model file %s)%n", f.roundsRun(), f.secondsPerRound(), l.length == 0 ? Double.NaN : l[0],
                        l.length == 0 ? Double.NaN : l[l.length - 1], output, output.resolve(LatentEncoderModel.PAYLOAD));
            } finally {
                spark.stop();
            }
            return 0;
        }
    }
}
