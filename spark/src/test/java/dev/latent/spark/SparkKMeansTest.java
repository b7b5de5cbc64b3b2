package dev.latent.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.data.Dataset;
import dev.latent.data.Patches;
import dev.latent.kernel.Kernels;
import dev.latent.model.kmeans.KMeans;
import dev.latent.model.kmeans.KMeansFeatures;
import dev.latent.tensor.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LatentKMeans in local[2]: one partition equals the single-machine trainer bit for bit; several, within a tolerance. */
class SparkKMeansTest {

    static final int N = 1500;
    static final int K = 24;
    static final int PATCHES = 6000;
    static final int ITERS = 8;
    static final long SEED = 5;
    static SparkSession spark;
    static Dataset digits;
    @TempDir
    static Path dir;

    @BeforeAll
    static void start() {
        spark = SparkFixtures.local("local[2]");
        digits = Dataset.embeddedMnist();
    }

    @AfterAll
    static void stop() {
        spark.stop();
        digits.close();
    }

    private LatentKMeans estimator() {
        return new LatentKMeans().setInputCol("pixels").setOutputCol("codes").setK(K).setNumPatches(PATCHES).setMaxIter(ITERS)
                .setSeed(SEED);
    }

    private org.apache.spark.sql.Dataset<Row> frame() {
        return spark.createDataFrame(SparkFixtures.digitRows(digits, 0, N), SparkFixtures.digitSchema());
    }

    private static void assertSameBits(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            int e = Float.floatToRawIntBits(expected[i]);
            int a = Float.floatToRawIntBits(actual[i]);
            if (e != a) {
                throw new AssertionError(what + "[" + i + "]: " + actual[i] + ", single machine " + expected[i]);
            }
        }
    }

    @Test
    void onePartitionEqualsTheSingleMachineTrainerBitForBit() throws Exception {
        LatentKMeans est = estimator();
        LatentKMeans.Fitted fit = est.fitDetailed(frame().coalesce(1), false);
        KMeansFeatures.Config c = est.config();
        List<Patches.Image> images = Patches.of(digits.subset("first", java.util.stream.IntStream.range(0, N).toArray()));
        Path single = dir.resolve("single.safetensors");
        try (KMeansFeatures f = KMeansFeatures.train(images, c, Kernels.current())) {
            assertSameBits("whitening mean", f.whitening().mean().toArray(), fit.whiteningMean());
            assertSameBits("whitening matrix", f.whitening().matrix().toArray(), fit.whiteningMatrix());
            assertSameBits("centroids", f.centroids().toArray(), fit.centroids());
            assertEquals(f.inertia(), fit.inertia(), 1e-9 * f.inertia(), "inertia per patch");
            f.save(single, Map.of());
        }
        assertEquals(0, fit.emptyClusters());
        assertEquals(PATCHES, fit.patches());
        // The fitted stage's codes equal those of the single-machine file, bit for bit.
        float[][] expected = SparkFixtures.singleMachineCodes(single, digits, 300);
        List<Row> out = fit.model().transform(spark.createDataFrame(SparkFixtures.digitRows(digits, 0, 300),
                SparkFixtures.digitSchema())).collectAsList();
        assertEquals(List.of(), SparkFixtures.bitDifferences(out, "codes", expected));
        assertEquals("kmeans", fit.model().modelKind());
        assertEquals(4 * K, fit.model().featureSize());
    }

    /**
     * Three partitions: each samples its own patches, so the model is not the single-machine one; on the
     * same whitened patches, single-machine Lloyd from the same seeds differs only in how the sums are
     * grouped. Tolerance: centroids within 1e-4 (absolute; whitened patches have unit-order values) and
     * inertia within 1e-6 relative.
     */
    @Test
    void threePartitionsMatchSingleMachineLloydOnTheSamePatchesWithinTolerance() {
        LatentKMeans.Fitted fit = estimator().fitDetailed(frame().repartition(3), true);
        assertEquals(PATCHES, fit.patches());
        int d = 36;
        try (Arena arena = Arena.ofShared();
             KMeans km = KMeans.fit(LatentKMeans.wrap(arena, fit.whitenedPatches(), PATCHES, d),
                     KMeans.Config.lloyd(K, ITERS, SEED), Kernels.current())) {
            float[] c = km.centroids().toArray();
            double worst = 0;
            for (int i = 0; i < c.length; i++) {
                worst = Math.max(worst, Math.abs(c[i] - fit.centroids()[i]));
            }
            assertTrue(worst <= 1e-4, "largest centroid difference " + worst);
            Tensor x = LatentKMeans.wrap(arena, fit.whitenedPatches(), PATCHES, d);
            double inertia = km.assign(x, new int[PATCHES], null) / PATCHES;
            assertEquals(inertia, fit.inertia(), 1e-6 * inertia, "inertia per patch");
        }
    }

    /** 40 partitions (three tree levels' worth: 40 -> 3 nodes -> driver): an order-sensitive combine sees partition order. */
    @Test
    void fixedOrderTreeCombinesInPartitionOrderBeyondOneLevel() {
        org.apache.spark.api.java.JavaRDD<String> parts = org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(java.util.stream.IntStream.range(0, 40).boxed().toList(), 40).map(String::valueOf);
        String joined = FixedOrderTree.reduce(parts, (a, b) -> a + "," + b);
        assertEquals(String.join(",", java.util.stream.IntStream.range(0, 40).mapToObj(String::valueOf).toList()), joined);
    }

    @Test
    void estimatorSavesAndLoadsItsParams() throws Exception {
        LatentKMeans est = estimator().setStride(2);
        String path = dir.resolve("est").toString();
        est.write().overwrite().save(path);
        LatentKMeans back = LatentKMeans.load(path);
        assertEquals(est.uid(), back.uid());
        assertEquals(est.config(), back.config());
    }
}
