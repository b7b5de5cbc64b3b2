package dev.latent.eval;

import dev.latent.model.Classifier;
import dev.latent.model.kmeans.KMeansFeatures;
import dev.latent.model.kmeans.KMeansStack;
import dev.latent.data.Dataset;
import dev.latent.data.Patches;
import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * The few-label protocol ({@link FewLabel}) for clustering-learning features: k-means features are
 * learned from patches of the unlabeled pool only, every pool and test image is turned into 4k
 * quadrant-pooled features, standardized with the pool's mean and standard deviation, and softmax
 * regression on them is compared with softmax regression on raw pixels, for each label budget and draw.
 */
public final class KMeansFewLabel {

    /** The table and the features model that produced it (owned by the caller). */
    public record Outcome(List<FewLabel.Result> results, KMeansStack features, int pool, int test) {
    }

    private KMeansFewLabel() {
    }

    public static Outcome run(Dataset all, KMeansFeatures.Config config, int[] budgets, int draws, double testFraction,
                              long seed, Kernels k, Consumer<String> log) {
        return run(all, config, null, budgets, draws, testFraction, seed, k, log);
    }

    /**
     * As above with a second layer when {@code layer2} is not null: the table then has three k-means
     * rows on the same draws: layer 1 alone (the first 4 k1 columns of the same standardized features),
     * layer 2 alone, and both layers.
     */
    public static Outcome run(Dataset all, KMeansFeatures.Config config, KMeansStack.Layer2 layer2, int[] budgets, int draws,
                              double testFraction, long seed, Kernels k, Consumer<String> log) {
        FewLabel.Split split = FewLabel.split(all.labels(), testFraction, seed);
        try (Dataset pool = all.subset("pool", split.pool()); Dataset test = all.subset("test", split.test());
             Workspace ws = new Workspace("kmeans-fewlabel")) {
            long t0 = System.nanoTime();
            KMeansStack f = KMeansStack.train(Patches.of(pool), config, layer2, k);
            try {
                log.accept(String.format(java.util.Locale.ROOT, "k-means: %d layer(s), %d centroids on %d patches in %.1f s (mean squared distance %.3f)",
                        f.layers(), config.k(), config.patches(), (System.nanoTime() - t0) * 1e-9, f.first().inertia()));
                t0 = System.nanoTime();
                Tensor poolF = f.features(pool.images(), pool.height(), pool.width(), ws);
                Tensor testF = f.features(test.images(), test.height(), test.width(), ws);
                FewLabel.standardize(poolF, testF);
                log.accept(String.format(java.util.Locale.ROOT, "k-means: %d features for %d images in %.1f s",
                        f.featureCount(), pool.size() + test.size(), (System.nanoTime() - t0) * 1e-9));
                int[] poolLabels = pool.labels();
                int[] testLabels = test.labels();
                int[] rowsAll = IntStream.range(0, pool.size()).toArray();
                int f1 = f.first().featureCount();
                int total = f.featureCount();
                // Column ranges of the standardized features scored per draw: layer 1, then layer 2 and both.
                List<int[]> cols = new ArrayList<>(List.of(new int[] {0, f1}));
                List<String> names = new ArrayList<>(List.of("softmax on raw pixels",
                        "softmax on k-means features (" + config.encoding() + ", k=" + config.k() + ")"));
                if (f.layers() == 2) {
                    cols.add(new int[] {f1, total});
                    cols.add(new int[] {0, total});
                    names.add("softmax on k-means layer 2 (k=" + layer2.k() + ", " + layer2.maps() + " maps)");
                    names.add("softmax on k-means layers 1+2");
                }
                List<Tensor[]> sets = new ArrayList<>();
                for (int[] c : cols) {
                    sets.add(new Tensor[] {columns(poolF, c[0], c[1], ws), columns(testF, c[0], c[1], ws)});
                }
                List<FewLabel.Result> results = new ArrayList<>();
                for (int n : budgets) {
                    double[][] acc = new double[names.size()][draws];
                    for (int d = 0; d < draws; d++) {
                        int[] rows = FewLabel.draw(poolLabels, rowsAll, n, 1000L * n + d);
                        int[] y = FewLabel.labelsOf(pool, rows);
                        long s = 17L * d + n;
                        StringBuilder line = new StringBuilder();
                        try (Workspace draw = new Workspace("draw")) {
                            acc[0][d] = score(gather(pool.images(), rows, draw), y, test.images(), testLabels, s, k, all.classes());
                            line.append(String.format(java.util.Locale.ROOT, "raw %.3f", acc[0][d]));
                            for (int m = 0; m < sets.size(); m++) {
                                acc[1 + m][d] = score(gather(sets.get(m)[0], rows, draw), y, sets.get(m)[1], testLabels, s, k, all.classes());
                                line.append(String.format(java.util.Locale.ROOT, "  k-means[%d] %.3f", m, acc[1 + m][d]));
                            }
                        }
                        log.accept(String.format(java.util.Locale.ROOT, "few-label: %d labels/class, draw %d/%d: %s", n, d + 1, draws, line));
                    }
                    for (int m = 0; m < names.size(); m++) {
                        results.add(new FewLabel.Result(names.get(m), n, acc[m]));
                    }
                }
                return new Outcome(results, f, pool.size(), test.size());
            } catch (RuntimeException e) {
                f.close();
                throw e;
            }
        }
    }

    /** Columns [from, to) of x as a new tensor (x itself when that is all of it). */
    static Tensor columns(Tensor x, int from, int to, Workspace ws) {
        if (from == 0 && to == x.rowSize()) {
            return x;
        }
        int n = x.dim(0);
        Tensor t = ws.allocate(n, to - from);
        for (int i = 0; i < n; i++) {
            java.lang.foreign.MemorySegment.copy(x.segment(), (x.offset() + (long) i * x.rowSize() + from) * Float.BYTES,
                    t.segment(), (t.offset() + (long) i * (to - from)) * Float.BYTES, (long) (to - from) * Float.BYTES);
        }
        return t;
    }

    static Tensor gather(Tensor src, int[] rows, Workspace ws) {
        Tensor t = ws.allocate(rows.length, src.rowSize());
        for (int i = 0; i < rows.length; i++) {
            t.row(i).copyFrom(src.row(rows[i]));
        }
        return t;
    }

    private static double score(Tensor x, int[] y, Tensor testX, int[] testY, long seed, Kernels k, int classes) {
        try (Classifier c = Classifier.train(x, y, classes, Classifier.Settings.softmax(), seed, k)) {
            return c.accuracy(testX, testY);
        }
    }
}
