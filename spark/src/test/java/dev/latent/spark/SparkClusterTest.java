package dev.latent.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.data.Dataset;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Executors in JVMs of their own ({@code local-cluster[2,1,1024]}: two workers, each launching an
 * executor process from SPARK_HOME/jars with spark.executor.extraJavaOptions, latent's code arriving
 * by spark.jars): the stage is serialized, the model bytes reach the executors by broadcast, and the
 * codes still equal the single-machine Encoder's bit for bit. Then a JVM lacking {@code --add-modules
 * jdk.incubator.vector} fails with a message that says so.
 */
class SparkClusterTest {

    static final int N = 1200;
    static Dataset digits;
    @TempDir
    static Path dir;
    static Path model;
    static float[][] expected;
    static List<String> jars;

    @BeforeAll
    static void prepare() throws Exception {
        Path home = Path.of(System.getProperty("latent.spark.build", "target"), "spark-home");
        ClusterJars.sparkHome(home);
        assertEquals(home.toAbsolutePath().toString(), Path.of(System.getenv("SPARK_HOME")).toAbsolutePath().toString(),
                "surefire sets SPARK_HOME to " + home);
        jars = ClusterJars.latentJars(dir.resolve("jars"));
        digits = Dataset.embeddedMnist();
        model = SparkFixtures.autoencoderFile(dir, 23);
        expected = SparkFixtures.singleMachineCodes(model, digits, N);
    }

    @AfterAll
    static void close() {
        digits.close();
    }

    static SparkSession cluster(String executorOptions) {
        SparkSession.Builder b = SparkSession.builder().master("local-cluster[2,1,1024]").appName("latent-spark-cluster-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.jars", String.join(",", jars))
                .config("spark.executor.extraJavaOptions", executorOptions)
                .config("spark.executorEnv.JAVA_HOME", System.getProperty("java.home"))
                .config("spark.executorEnv.SPARK_SCALA_VERSION", "2.13")
                .config("spark.task.maxFailures", "1");
        return b.getOrCreate();
    }

    @Test
    void executorsInTheirOwnJvmsGiveTheSingleMachineCodes() throws Exception {
        SparkSession spark = cluster(System.getProperty("spark.executor.flags"));
        try {
            LatentEncoderModel enc = LatentEncoderModel.fromFile(model).setInputCol("pixels").setOutputCol("codes");
            org.apache.spark.sql.Dataset<Row> df = spark.createDataFrame(SparkFixtures.digitRows(digits, 0, N),
                    SparkFixtures.digitSchema()).repartition(4);
            List<Row> out = enc.transform(df).collectAsList();
            assertEquals(N, out.size());
            assertEquals(List.of(), SparkFixtures.bitDifferences(out, "codes", expected));
            // Two executors besides the driver, each a JVM of its own (local-cluster has no in-driver executor).
            assertEquals(3, spark.sparkContext().statusTracker().getExecutorInfos().length);
        } finally {
            spark.stop();
        }
    }

    /**
     * Spark 4.2's launcher itself puts --add-modules=jdk.incubator.vector on an executor's command line
     * (JavaModuleOptions; seen in the executors' "Spark Executor Command" logs), so a Spark-launched executor
     * cannot lack it. A JVM started another way can: the guard every task runs first
     * ({@link ExecutorModels#requireVectorApi}) is checked here in a JVM without the module.
     */
    @Test
    void aJvmWithoutTheVectorModuleFailsSayingSo() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), ExecutorModels.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(2, p.waitFor(), out);
        assertTrue(out.contains("started without --add-modules jdk.incubator.vector")
                && out.contains("spark.executor.extraJavaOptions"), out);
        Process ok = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                ExecutorModels.class.getName()).redirectErrorStream(true).start();
        String okOut = new String(ok.getInputStream().readAllBytes());
        assertEquals(0, ok.waitFor(), okOut);
    }
}
