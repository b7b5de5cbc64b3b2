package dev.latent.cli;

import dev.latent.data.Dataset;
import dev.latent.data.Patches;
import dev.latent.eval.FewLabel;
import dev.latent.io.ModelFile;
import dev.latent.kernel.Kernels;
import dev.latent.model.kmeans.KMeansFeatures;
import dev.latent.eval.KMeansFewLabel;
import dev.latent.model.kmeans.KMeansStack;
import dev.latent.viz.ImageGrid;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code latent train --model kmeans}: clustering learning of filters. Hyperparameters: {@code k=100},
 * {@code patch=6}, {@code stride=1}, {@code encoding=triangle|hard|soft_threshold}, {@code patches=50000},
 * {@code iterations=30}, {@code spherical=false}, {@code minibatch=0} (batch size; 0 = full Lloyd),
 * {@code whiten_eps=0.1}, {@code source=digits|natural} (natural: the photos of {@code images_dir},
 * default shared/data/natural-images; {@code colour=true} for RGB patches), {@code fewlabel=true}
 * (on labelled digits: learn from the pool only and print the few-label table, {@code budgets=1,10,100},
 * {@code draws=3}). {@code --layers 2} (or {@code layers=2}) stacks a second layer on layer 1's maps:
 * {@code k2=100}, {@code patch2=3}, {@code stride2=1}, {@code maps2=min(32, k)} (layer-1 maps it reads, a
 * random subset), {@code encoding2=triangle}, {@code patches2=50000}, {@code images2=2000} (images whose
 * maps give the patches), {@code iterations2=30}, {@code norm_eps2=0.01}, {@code whiten_eps2=0.1}.
 * Writes model.safetensors and centroids.png (layer 1's centroids).
 */
final class KMeansJob implements TrainJob {

    @Override
    public String name() {
        return "kmeans";
    }

    @Override
    public String description() {
        return "k-means clustering learning of filters (Coates & Ng), whitened patches";
    }

    @Override
    public int run(TrainCommand.Options o, PrintWriter out) throws Exception {
        Files.createDirectories(o.out());
        Kernels k = Kernels.current();
        String source = o.get("source", "digits");
        boolean colour = Boolean.parseBoolean(o.get("colour", "false"));
        KMeansFeatures.Config c = new KMeansFeatures.Config(o.getInt("patch", source.equals("natural") ? 8 : 6), colour ? 3 : 1,
                o.getInt("k", 100), o.getDouble("norm_eps", Patches.DEFAULT_EPS), o.getDouble("whiten_eps", 0.1),
                KMeansFeatures.Encoding.parse(o.get("encoding", "triangle")), o.getDouble("alpha", 0.25), o.getInt("stride", 1),
                o.getInt("patches", 50_000), o.getInt("iterations", 30), Boolean.parseBoolean(o.get("spherical", "false")),
                o.getInt("minibatch", 0), o.seed());
        int layers = o.getInt("layers", 1);
        KMeansStack.Layer2 layer2 = switch (layers) {
            case 1 -> null;
            case 2 -> new KMeansStack.Layer2(o.getInt("patch2", 3), o.getInt("stride2", 1), o.getInt("maps2", Math.min(32, c.k())),
                    o.getInt("k2", 100), o.getDouble("norm_eps2", 0.01), o.getDouble("whiten_eps2", 0.1),
                    KMeansFeatures.Encoding.parse(o.get("encoding2", "triangle")), o.getInt("patches2", 50_000), o.getInt("images2", 2_000),
                    o.getInt("iterations2", 30), o.seed() + 1);
            default -> throw new IllegalArgumentException("--layers must be 1 or 2, got " + layers);
        };
        Path model = o.out().resolve("model.safetensors");
        Path picture = o.out().resolve("centroids.png");
        long t0 = System.nanoTime();
        KMeansStack f;
        String data;
        String sha;
        if (source.equals("natural")) {
            Path dir = o.set().containsKey("images_dir") ? Path.of(o.get("images_dir", "")) : NaturalImages.find();
            List<Patches.Image> images = Patches.readDirectory(dir, colour);
            f = KMeansStack.train(images, c, layer2, k);
            data = images.size() + " natural images in " + dir;
            sha = "natural-images:" + dir.getFileName();
        } else if (!source.equals("digits")) {
            throw new IllegalArgumentException("--set source must be digits or natural, got '" + source + "'");
        } else {
            if (colour) {
                throw new IllegalArgumentException("--set colour=true needs source=natural (the digits are grey)");
            }
            try (Dataset ds = o.data()) {
                sha = ModelFile.sha256(ds.images());
                data = ds.size() + " images (" + ds.name() + ")";
                if (ds.hasLabels() && Boolean.parseBoolean(o.get("fewlabel", "true"))) {
                    int[] budgets = Arrays.stream(o.get("budgets", "1,10,100").split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
                    KMeansFewLabel.Outcome r = KMeansFewLabel.run(ds, c, layer2, budgets, o.getInt("draws", 3), 0.2, o.seed(), k,
                            System.err::println);
                    f = r.features();
                    data = r.pool() + " unlabeled pool images of " + ds.name() + " (" + r.test() + " held out)";
                    FewLabel.printTable(out, r.results());
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
