package dev.latent.eval;

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

/**
 * The k-means experiment of the few-label protocol ({@link FewLabel}): k-means features are learned
 * from patches of the unlabeled pool only, every pool and test image is turned into 4k quadrant-pooled
 * features, standardized with the pool's statistics, and the protocol's rows compare softmax on them
 * (per layer and both) with softmax on raw pixels.
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
                int[] testLabels = test.labels();
                int f1 = f.first().featureCount();
                int total = f.featureCount();
                // Rows on the same draws: raw pixels, layer 1 (its columns of the standardized features),
                // then layer 2 alone and both layers.
                List<FewLabel.Row> rows = new ArrayList<>();
                rows.add(new FewLabel.Row("softmax on raw pixels", "raw",
                        FewLabel.pixels(pool.images(), test.images(), testLabels, all.classes(), k, ws)));
                rows.add(new FewLabel.Row("softmax on k-means features (" + config.encoding() + ", k=" + config.k() + ")", "k-means",
                        FewLabel.head(columns(poolF, 0, f1, ws), columns(testF, 0, f1, ws), testLabels, all.classes(), k)));
                if (f.layers() == 2) {
                    rows.add(new FewLabel.Row("softmax on k-means layer 2 (k=" + layer2.k() + ", " + layer2.maps() + " maps)", "layer2",
                            FewLabel.head(columns(poolF, f1, total, ws), columns(testF, f1, total, ws), testLabels, all.classes(), k)));
                    rows.add(new FewLabel.Row("softmax on k-means layers 1+2", "both",
                            FewLabel.head(poolF, testF, testLabels, all.classes(), k)));
                }
                List<FewLabel.Result> results = FewLabel.run(pool.labels(), budgets, draws, rows, log);
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
}
