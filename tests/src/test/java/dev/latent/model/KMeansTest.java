package dev.latent.model;

import dev.latent.eval.KMeansFewLabel;
import dev.latent.model.kmeans.KMeans;
import dev.latent.model.kmeans.KMeansFeatures;
import dev.latent.model.kmeans.KMeansStack;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.data.Dataset;
import dev.latent.data.Patches;
import dev.latent.eval.FewLabel;
import dev.latent.io.ModelFile;
import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** K-means (GEMM distances against a double brute force, Lloyd, re-seeding, mini-batch, spherical), encoders, model files. */
class KMeansTest {

    private final Kernels kern = Kernels.current();

    /** n points around k random centres (spread 0.05) in d dimensions, with their true cluster. */
    private static Tensor blobs(int n, int k, int d, long seed, int[] truth, Workspace ws) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] centre = new double[k][d];
        for (double[] c : centre) {
            for (int j = 0; j < d; j++) {
                c[j] = r.nextGaussian() * 3;
            }
        }
        Tensor x = ws.allocate(n, d);
        for (int i = 0; i < n; i++) {
            truth[i] = i % k;
            for (int j = 0; j < d; j++) {
                x.set((long) i * d + j, (float) (centre[truth[i]][j] + 0.05 * r.nextGaussian()));
            }
        }
        return x;
    }

    @Test
    void gemmAssignmentEqualsDoubleBruteForce() {
        for (long seed = 1; seed <= 4; seed++) {
            SplittableRandom r = new SplittableRandom(seed);
            int n = 1 + r.nextInt(1500);
            int k = 1 + r.nextInt(70);
            int d = 1 + r.nextInt(40);
            try (Workspace ws = new Workspace("t"); KMeans km = new KMeans(k, d, false, kern)) {
                Tensor x = ws.allocate(n, d);
                Tensor c = ws.allocate(k, d);
                for (long i = 0; i < x.size(); i++) {
                    x.set(i, (float) r.nextGaussian());
                }
                for (long i = 0; i < c.size(); i++) {
                    c.set(i, (float) r.nextGaussian());
                }
                km.setCentroids(c);
                int[] lab = new int[n];
                float[] dist = new float[n];
                km.assign(x, lab, dist);
                int disagree = 0;
                for (int i = 0; i < n; i++) {
                    double best = Double.POSITIVE_INFINITY;
                    int arg = -1;
                    double[] all = new double[k];
                    for (int j = 0; j < k; j++) {
                        double s = 0;
                        for (int q = 0; q < d; q++) {
                            double t = x.get((long) i * d + q) - c.get((long) j * d + q);
                            s += t * t;
                        }
                        all[j] = s;
                        if (s < best) {
                            best = s;
                            arg = j;
                        }
                    }
                    // Float rounding may swap near-ties only: the chosen centroid must be as near to within rounding.
                    if (lab[i] != arg) {
                        disagree++;
                        assertEquals(best, all[lab[i]], 1e-4 * (1 + best), "seed " + seed + " row " + i);
                    }
                    assertEquals(best, dist[i], 1e-4 * (1 + best), "distance, seed " + seed + " row " + i);
                }
                assertTrue(disagree <= n / 100, "seed " + seed + ": " + disagree + " near-tie disagreements");
            }
        }
    }

    @Test
    void lloydRecoversBlobsWithDecreasingInertiaAndIsDeterministic() {
        int n = 3000;
        int k = 12;
        int d = 10;
        int[] truth = new int[n];
        try (Workspace ws = new Workspace("t")) {
            Tensor x = blobs(n, k, d, 5, truth, ws);
            KMeans.Config c = KMeans.Config.lloyd(k, 0, 11);
            try (KMeans km = KMeans.fit(x, c, kern); KMeans again = KMeans.fit(x, c, kern)) {
                double prev = Double.POSITIVE_INFINITY;
                for (int it = 0; it < 15; it++) {
                    KMeans.Step s = km.lloydStep(x);
                    again.lloydStep(x);
                    assertTrue(s.inertia() <= prev * (1 + 1e-6), "inertia must not increase: " + prev + " -> " + s.inertia());
                    prev = s.inertia();
                }
                assertArrayEquals(km.centroids().toArray(), again.centroids().toArray(), "same seed, same bits");
                // Each true blob maps to one cluster and each cluster to one blob (k-means++ rarely misses at this spread).
                int[] lab = km.labels();
                int[] blobOf = new int[k];
                java.util.Arrays.fill(blobOf, -1);
                int pure = 0;
                for (int i = 0; i < n; i++) {
                    if (blobOf[lab[i]] == -1) {
                        blobOf[lab[i]] = truth[i];
                    }
                    pure += blobOf[lab[i]] == truth[i] ? 1 : 0;
                }
                assertTrue(pure >= 0.9 * n, "clusters match the blobs for " + pure + " of " + n);
                assertTrue(prev / n < 1.0, "mean squared distance " + prev / n);
            }
        }
    }

    @Test
    void emptyClusterIsReseededWithTheFarthestRow() {
        int n = 500;
        int d = 4;
        int[] truth = new int[n];
        try (Workspace ws = new Workspace("t"); KMeans km = new KMeans(3, d, false, kern)) {
            Tensor x = blobs(n, 2, d, 9, truth, ws);
            Tensor c = ws.allocate(3, d);
            c.row(0).copyFrom(x.row(0));
            c.row(1).copyFrom(x.row(1));
            c.row(2).copyFrom(new float[] {1e3f, 1e3f, 1e3f, 1e3f});
            km.setCentroids(c);
            KMeans.Step s = km.lloydStep(x);
            assertEquals(1, s.reseeded(), "the far centroid got no rows");
            int[] count = new int[3];
            for (int l : km.labels()) {
                count[l]++;
            }
            assertTrue(count[0] > 0 && count[1] > 0 && count[2] == 1, java.util.Arrays.toString(count));
            assertTrue(Math.abs(km.centroids().get(8)) < 100, "the re-seeded centroid is a data row");
        }
    }

    @Test
    void miniBatchAndSphericalVariantsLearn() {
        int n = 4000;
        int k = 8;
        int d = 16;
        int[] truth = new int[n];
        try (Workspace ws = new Workspace("t")) {
            Tensor x = blobs(n, k, d, 13, truth, ws);
            try (KMeans mb = KMeans.fit(x, KMeans.Config.lloyd(k, 60, 3).withMiniBatch(200), kern)) {
                double inertia = mb.assign(x, new int[n], null) / n;
                assertTrue(inertia < 2.0, "mini-batch mean squared distance " + inertia);
            }
            KMeansFeatures.normalizeRows(x);
            try (KMeans sp = KMeans.fit(x, KMeans.Config.lloyd(k, 20, 3).withSpherical(true), kern);
                 KMeans sp2 = KMeans.fit(x, KMeans.Config.lloyd(k, 20, 3).withSpherical(true).withMiniBatch(300), kern)) {
                for (KMeans m : List.of(sp, sp2)) {
                    for (int j = 0; j < k; j++) {
                        double s = 0;
                        for (float v : m.centroids().row(j).toArray()) {
                            s += v * v;
                        }
                        assertEquals(1, s, 1e-5, "spherical centroids have unit norm");
                    }
                    // Nearly all rows lie within a small angle of their centroid.
                    int[] lab = new int[n];
                    double mean = m.assign(x, lab, null) / n;
                    assertTrue(mean < 0.05, m + " mean squared distance on the sphere " + mean);
                }
            }
        }
    }

    @Test
    void encodersFollowTheirFormulasAndModelFilesRoundTrip(@TempDir Path dir) throws Exception {
        List<Patches.Image> images = Patches.readDirectory(TestData.naturalImages(), false).subList(0, 3);
        KMeansFeatures.Config c = KMeansFeatures.Config.defaults(16).withStride(64).withTraining(4000, 8, false, 0, 2);
        try (KMeansFeatures f = KMeansFeatures.train(images, c, kern); Workspace ws = new Workspace("t")) {
            int d = c.dim();
            Tensor raw = Patches.random(images, 50, c.patch(), 99, ws);
            Patches.normalize(raw, c.normEps());
            Tensor x = f.whitening().apply(raw, ws, kern);
            Tensor out = ws.allocate(50, 16);
            f.encode(x, out);
            for (int i = 0; i < 50; i++) {
                double[] z = new double[16];
                double mean = 0;
                for (int j = 0; j < 16; j++) {
                    double s = 0;
                    for (int q = 0; q < d; q++) {
                        double t = x.get((long) i * d + q) - f.centroids().get((long) j * d + q);
                        s += t * t;
                    }
                    z[j] = Math.sqrt(s);
                    mean += z[j] / 16;
                }
                for (int j = 0; j < 16; j++) {
                    assertEquals(Math.max(0, mean - z[j]), out.get((long) i * 16 + j), 2e-3 * (1 + mean), "triangle (" + i + ", " + j + ")");
                }
            }
            Tensor feats = f.features(images, ws);
            assertEquals(64, feats.rowSize());
            Path file = dir.resolve("km.safetensors");
            f.save(file, ModelFile.provenance("test", 2, "none"));
            assertTrue(Files.size(file) > 16 * d * 4);
            try (KMeansFeatures g = KMeansFeatures.load(file, kern)) {
                assertEquals(c, g.config());
                assertArrayEquals(feats.toArray(), g.features(images, ws).toArray(), "features from the loaded model are bit-identical");
            }
        }
        try (Workspace ws = new Workspace("t")) {
            Tensor x = ws.of(new float[] {1, 0, 0, 1, 0.6f, 0.8f}, 3, 2);
            Tensor out = ws.allocate(3, 2);
            for (KMeansFeatures.Encoding e : KMeansFeatures.Encoding.values()) {
                var cfg = new KMeansFeatures.Config(1, 2, 2, 0, 0, e, 0.25, 1, 2, 1, false, 0, 1);
                try (KMeansFeatures hard = KMeansFeatures.train(List.of(new Patches.Image(2, 1, 2, new float[] {0, 1, 1, 0})), cfg, kern)) {
                    hard.centroids().copyFrom(new float[] {1, 0, 0, 1});
                    hard.encode(x, out);
                    float[] o = out.toArray();
                    if (e == KMeansFeatures.Encoding.SOFT_THRESHOLD) {
                        assertArrayEquals(new float[] {0.75f, 0, 0, 0.75f, 0.35f, 0.55f}, o, 1e-6f);
                    }
                }
            }
        }
    }

    /**
     * Few-label claim, measured first: on 4,000 embedded digits (3,200 pool, 800 test), softmax on
     * quadrant-pooled triangle k-means features (k = 64, 6x6 patches, stride 2) beats softmax on raw
     * pixels at 10 labels per class by at least 4 points of mean accuracy over 3 draws (measured
     * about +8 at k = 100 on all 10,000 digits).
     */
    @Test
    void kmeansFeaturesBeatRawPixelsWithTenLabelsPerClass() {
        try (Dataset all = Dataset.embeddedMnist(); Dataset some = all.subset("4k", java.util.stream.IntStream.range(0, 4000).toArray())) {
            KMeansFeatures.Config c = KMeansFeatures.Config.defaults(64).withStride(2).withTraining(10_000, 10, false, 0, 1);
            KMeansFewLabel.Outcome o = KMeansFewLabel.run(some, c, new int[] {10}, 3, 0.2, 1, kern, s -> { });
            try (KMeansStack f = o.features()) {
                FewLabel.Result raw = o.results().get(0);
                FewLabel.Result km = o.results().get(1);
                System.out.printf("few-label (4k digits, 10 labels/class): raw %.3f +- %.3f, k-means %.3f +- %.3f%n",
                        raw.mean(), raw.std(), km.mean(), km.std());
                assertTrue(km.mean() >= raw.mean() + 0.04, "k-means " + km.mean() + " vs raw " + raw.mean());
            }
        }
    }
}
