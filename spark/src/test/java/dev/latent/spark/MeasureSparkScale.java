package dev.latent.spark;

import dev.latent.data.Dataset;
import dev.latent.kernel.Kernels;
import dev.latent.model.kmeans.KMeans;
import dev.latent.serve.Encoder;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.ml.clustering.KMeansModel;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.Test;

/**
 * A measurement, not a test (no assertion on time; surefire's patterns do not pick it up): run with
 * {@code mvn -o -pl spark -am test -Dtest=MeasureSparkScale -Dsurefire.failIfNoSpecifiedTests=false}.
 * Throughput of distributed encode and of LatentKMeans' Lloyd iterations at local[1] and local[2]
 * against the single-JVM path, and MLlib's KMeans on the same whitened patches. Prints one line each.
 */
class MeasureSparkScale {

    static final int REPEAT = 3;

    @Test
    void measure() throws Exception {
        Path dir = Files.createTempDirectory("latent-spark-measure");
        List<String> report = new ArrayList<>();
        report.add(String.format(Locale.ROOT, "machine: %d cores, load average %.1f, kernels %s", Runtime.getRuntime().availableProcessors(),
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), Kernels.current().name()));
        try (Dataset digits = Dataset.embeddedMnist()) {
            Path ae = SparkFixtures.autoencoderFile(dir, 1);
            int n = digits.size();
            // Single JVM: one Encoder.encode over the 10,000 digits (as `latent encode`), best of REPEAT after a warm-up.
            double single;
            try (Encoder e = Encoder.load(ae); Workspace ws = new Workspace("m")) {
                Tensor codes = ws.allocate(n, e.codeSize());
                e.encode(digits.images(), codes);
                single = Double.MAX_VALUE;
                for (int r = 0; r < REPEAT; r++) {
                    long t0 = System.nanoTime();
                    e.encode(digits.images(), codes);
                    single = Math.min(single, (System.nanoTime() - t0) * 1e-9);
                }
            }
            report.add(String.format(Locale.ROOT, "encode 784-64 autoencoder, single JVM Encoder: %.0f rows/s (%.3f s for %d)",
                    n / single, single, n));
            // k-means patches and the single-machine Lloyd step time, from a local[2] fit that keeps its patches
            float[] patches = null;
            int k = 100;
            int np = 50_000;
            int iters = 10;
            for (String master : new String[] {"local[1]", "local[2]"}) {
                SparkSession spark = SparkFixtures.local(master);
                try {
                    org.apache.spark.sql.Dataset<Row> df = spark.createDataFrame(SparkFixtures.digitRows(digits, 0, n),
                            SparkFixtures.digitSchema()).select("id", "pixels").repartition(master.equals("local[1]") ? 1 : 2)
                            .persist(StorageLevel.MEMORY_ONLY());
                    df.count();
                    LatentEncoderModel enc = LatentEncoderModel.fromFile(ae).setInputCol("pixels");
                    enc.transform(df).write().format("noop").mode("overwrite").save();
                    double best = Double.MAX_VALUE;
                    for (int r = 0; r < REPEAT; r++) {
                        long t0 = System.nanoTime();
                        enc.transform(df).write().format("noop").mode("overwrite").save();
                        best = Math.min(best, (System.nanoTime() - t0) * 1e-9);
                    }
                    report.add(String.format(Locale.ROOT, "encode 784-64 autoencoder, Spark %s (cached DataFrame, noop sink): %.0f rows/s"
                            + " (%.3f s; %.2fx the single JVM's time)", master, n / best, best, best / single));
                    // The floor of this path: the same rows through javaRDD().mapPartitions(identity) and createDataFrame, no encoding.
                    double floor = Double.MAX_VALUE;
                    for (int r = 0; r < REPEAT; r++) {
                        long f0 = System.nanoTime();
                        spark.createDataFrame(df.javaRDD().mapPartitions(it -> it), df.schema()).write().format("noop").mode("overwrite").save();
                        floor = Math.min(floor, (System.nanoTime() - f0) * 1e-9);
                    }
                    report.add(String.format(Locale.ROOT, "  identity pass over the same rows (Row conversion only), Spark %s: %.0f rows/s (%.3f s)",
                            master, n / floor, floor));
                    LatentKMeans est = new LatentKMeans().setInputCol("pixels").setK(k).setNumPatches(np).setMaxIter(iters).setSeed(1);
                    long t0 = System.nanoTime();
                    LatentKMeans.Fitted f = est.fitDetailed(df, master.equals("local[2]"));
                    double total = (System.nanoTime() - t0) * 1e-9;
                    report.add(String.format(Locale.ROOT, "LatentKMeans k=%d, %d patches, Spark %s: %.3f s per Lloyd iteration (%d),"
                                    + " whole fit %.1f s, inertia %.4f per patch", k, np, master, f.secondsPerIteration(), f.iterations(), total,
                            f.inertia()));
                    if (f.whitenedPatches() != null) {
                        patches = f.whitenedPatches();
                        // MLlib's KMeans on the same whitened patches, same k and iterations (random init: k-means|| init is slower).
                        List<Row> rows = new ArrayList<>(np);
                        for (int i = 0; i < np; i++) {
                            double[] v = new double[36];
                            for (int j = 0; j < 36; j++) {
                                v[j] = patches[i * 36 + j];
                            }
                            rows.add(RowFactory.create(Vectors.dense(v)));
                        }
                        org.apache.spark.sql.Dataset<Row> pdf = spark.createDataFrame(rows,
                                new StructType().add("features", SQLDataTypes.VectorType())).repartition(2).persist(StorageLevel.MEMORY_ONLY());
                        pdf.count();
                        org.apache.spark.ml.clustering.KMeans mllib = new org.apache.spark.ml.clustering.KMeans().setK(k).setMaxIter(iters)
                                .setSeed(1).setInitMode("random").setTol(0);
                        long m0 = System.nanoTime();
                        KMeansModel m = mllib.fit(pdf);
                        double mt = (System.nanoTime() - m0) * 1e-9;
                        int it = m.summary().numIter();
                        report.add(String.format(Locale.ROOT, "MLlib KMeans k=%d on the same %d whitened patches, Spark %s: %.3f s per"
                                        + " iteration (%d iterations, whole fit %.1f s incl. init), objective %.4f per patch", k, np, master,
                                mt / Math.max(1, it), it, mt, m.summary().trainingCost() / np));
                    }
                } finally {
                    spark.stop();
                }
            }
            // Single JVM Lloyd on the same patches
            try (Arena arena = Arena.ofShared(); KMeans km = new KMeans(k, 36, false, Kernels.current())) {
                Tensor x = LatentKMeans.wrap(arena, patches, np, 36);
                km.seed(x, KMeans.Init.PLUS_PLUS, 1);
                km.lloydStep(x);
                long t0 = System.nanoTime();
                for (int i = 0; i < iters; i++) {
                    km.lloydStep(x);
                }
                double per = (System.nanoTime() - t0) * 1e-9 / iters;
                report.add(String.format(Locale.ROOT, "single JVM KMeans.lloydStep k=%d on the same %d patches: %.4f s per iteration", k, np, per));
            }
        }
        report.forEach(l -> System.out.println("MEASURE " + l));
        Files.write(Path.of(System.getProperty("latent.spark.build", "target"), "spark-measure.txt"), report);
    }
}
