package dev.latent.cli;

import dev.latent.data.Dataset;
import dev.latent.data.Patches;
import dev.latent.eval.FewLabel;
import dev.latent.io.ModelFile;
import dev.latent.kernel.Kernels;
import dev.latent.model.Hyperparameters;
import dev.latent.model.Hyperparameters.Param;
import dev.latent.model.kmeans.KMeansFeatures;
import dev.latent.eval.KMeansFewLabel;
import dev.latent.model.kmeans.KMeansStack;
import dev.latent.viz.ImageGrid;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/**
 * {@code latent train --kind kmeans}: clustering learning of filters. Hyperparameters:
 * {@link KMeansFeatures#HYPERPARAMETERS} ({@code k=100}, {@code patch=6}, {@code stride=1},
 * {@code encoding=triangle|hard|soft_threshold}, {@code patches=50000}, {@code iterations=30},
 * {@code spherical=false}, {@code mini_batch=0} (batch size; 0 = full Lloyd), {@code whiten_eps=0.1}, ...);
 * the job's {@code source=digits|natural} (natural: the photos of {@code images_dir},
 * default shared/data/natural-images; {@code colour=true} for RGB patches), {@code fewlabel=true}
 * (on labelled digits: learn from the pool only and print the few-label table, {@code budgets=1,10,100},
 * {@code draws=3}). {@code --layers 2} (or {@code layers=2}) stacks a second layer on layer 1's maps:
 * {@code k2=100}, {@code patch2=3}, {@code stride2=1}, {@code maps2=min(32, k)} (layer-1 maps it reads, a
 * random subset), {@code encoding2=triangle}, {@code patches2=50000}, {@code images2=2000} (images whose
 * maps give the patches), {@code iterations2=30}, {@code norm_eps2=0.01}, {@code whiten_eps2=0.1}.
 * Writes model.safetensors and centroids.png (layer 1's centroids).
 */
final class KMeansJob implements TrainJob {

    static final Param<String> SOURCE = Param.choice("source", "digits", List.of("digits", "natural"), "what to learn from");
    static final Param<Boolean> COLOUR = Param.bool("colour", false, "natural: RGB patches");
    static final Param<String> IMAGES_DIR = Param.parsed("images_dir", "path", "a directory of photos", null, s -> s,
            "natural: the photos (default shared/data/natural-images)");
    static final Param<Boolean> FEWLABEL = Param.bool("fewlabel", true, "labelled digits: learn from the pool, print the few-label table");
    static final Param<int[]> BUDGETS = Param.ints("budgets", new int[] {1, 10, 100}, 1, Integer.MAX_VALUE, "few-label labels per class");
    static final Param<Integer> DRAWS = Param.integer("draws", 3, 1, 1000, "few-label draws per budget");
    static final Param<Integer> LAYERS = Param.integer("layers", 1, 1, 2, "k-means layers (also --layers)");
    static final Param<Integer> K2 = Param.integer("k2", 100, 1, 1 << 20, "layer 2: centroids");
    static final Param<Integer> PATCH2 = Param.integer("patch2", 3, 1, 1 << 10, "layer 2: patch side on layer 1's maps");
    static final Param<Integer> STRIDE2 = Param.integer("stride2", 1, 1, 1 << 10, "layer 2: stride");
    static final Param<Integer> MAPS2 = Param.integer("maps2", null, 1, 1 << 20, "layer 2: layer-1 maps it reads (default min(32, k))");
    static final Param<KMeansFeatures.Encoding> ENCODING2 = KMeansFeatures.ENCODING.withKey("encoding2", "layer 2: encoding");
    static final Param<Integer> PATCHES2 = Param.integer("patches2", 50_000, 1, Integer.MAX_VALUE, "layer 2: patches to cluster");
    static final Param<Integer> IMAGES2 = Param.integer("images2", 2_000, 1, Integer.MAX_VALUE, "layer 2: images whose maps give the patches");
    static final Param<Integer> ITERATIONS2 = Param.integer("iterations2", 30, 0, Integer.MAX_VALUE, "layer 2: k-means iterations");
    static final Param<Double> NORM_EPS2 = Param.real("norm_eps2", 0.01, 0, Double.MAX_VALUE, "layer 2: normalization epsilon");
    static final Param<Double> WHITEN_EPS2 = Param.real("whiten_eps2", 0.1, 0, Double.MAX_VALUE, "layer 2: whitening epsilon");
    private static final Hyperparameters KEYS = KMeansFeatures.HYPERPARAMETERS.plus(SOURCE, COLOUR, IMAGES_DIR, FEWLABEL, BUDGETS,
            DRAWS, LAYERS, K2, PATCH2, STRIDE2, MAPS2, ENCODING2, PATCHES2, IMAGES2, ITERATIONS2, NORM_EPS2, WHITEN_EPS2);

    @Override
    public Hyperparameters hyperparameters() {
        return KEYS;
    }

    @Override
    public String name() {
        return "kmeans";
    }

    @Override
    public String description() {
        return "k-means clustering learning of filters (Coates & Ng), whitened patches";
    }

    @Override
    public List<String> writes() {
        return List.of("model.safetensors", "centroids.png");
    }

    /** The tour: the default 100 centroids from 20,000 patches, 20 iterations, no few-label table of its own. */
    @Override
    public Tour tour() {
        return new Tour(1, 128, Map.of("patches", "20000", "iterations", "20", "fewlabel", "false"), 6);
    }

    @Override
    public int run(TrainCommand.Options o, PrintWriter out) throws Exception {
        Files.createDirectories(o.out());
        Kernels k = Kernels.current();
        String source = o.get(SOURCE);
        boolean colour = o.get(COLOUR);
        int patch = o.given(KMeansFeatures.PATCH) ? o.get(KMeansFeatures.PATCH) : source.equals("natural") ? 8 : 6;
        KMeansFeatures.Config c = KMeansFeatures.Config.of(o.set(), patch, colour ? 3 : 1, o.seed());
        KMeansStack.Layer2 layer2 = o.get(LAYERS) == 1 ? null
                : new KMeansStack.Layer2(o.get(PATCH2), o.get(STRIDE2), o.given(MAPS2) ? o.get(MAPS2) : Math.min(32, c.k()),
                        o.get(K2), o.get(NORM_EPS2), o.get(WHITEN_EPS2), o.get(ENCODING2), o.get(PATCHES2), o.get(IMAGES2),
                        o.get(ITERATIONS2), o.seed() + 1);
        Path model = o.out().resolve("model.safetensors");
        Path picture = o.out().resolve("centroids.png");
        long t0 = System.nanoTime();
        KMeansStack f;
        String data;
        String sha;
        if (source.equals("natural")) {
            Path dir = o.given(IMAGES_DIR) ? Path.of(o.get(IMAGES_DIR)) : NaturalImages.find();
            List<Patches.Image> images = Patches.readDirectory(dir, colour);
            f = KMeansStack.train(images, c, layer2, k);
            data = images.size() + " natural images in " + dir;
            sha = "natural-images:" + dir.getFileName();
        } else {
            if (colour) {
                throw new IllegalArgumentException("--set colour=true needs source=natural (the digits are grey)");
            }
            try (Dataset ds = o.data()) {
                sha = ModelFile.sha256(ds.images());
                data = ds.size() + " images (" + ds.name() + ")";
                if (ds.hasLabels() && o.get(FEWLABEL)) {
                    int[] budgets = o.get(BUDGETS);
                    KMeansFewLabel.Outcome r = KMeansFewLabel.run(ds, c, layer2, budgets, o.get(DRAWS), 0.2, o.seed(), k,
                            System.err::println);
                    f = r.features();
                    data = r.pool() + " unlabeled pool images of " + ds.name() + " (" + r.test() + " held out)";
                    FewLabel.printTable(out, Checks.finite(r.results()));
                } else {
                    f = KMeansStack.train(Patches.of(ds), c, layer2, k);
                }
            }
        }
        try (f) {
            f.save(model, ModelFile.provenance(Main.version(), o.seed(), sha));
            int p = c.patch();
            ImageGrid.filters(picture, f.first().centroids(), c.channels() * p, p, Math.min(20, c.k()), 4);
            out.printf(Locale.ROOT, "k-means %s on %s in %.1f s: mean squared distance %.4f%s; wrote %s, %s%n",
                    c.json(), data, (System.nanoTime() - t0) * 1e-9, f.first().inertia(),
                    f.layers() == 2 ? String.format(Locale.ROOT, "; layer 2 %s on maps %s: %.4f", f.second().config().json(),
                            Arrays.toString(f.maps()), f.second().inertia()) : "", model, picture);
        }
        return 0;
    }
}
