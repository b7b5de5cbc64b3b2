package dev.latent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latent.data.Dataset;
import dev.latent.data.Patches;
import dev.latent.data.Whitening;
import dev.latent.io.ModelFile;
import dev.latent.model.Hyperparameters;
import dev.latent.model.Hyperparameters.Param;
import dev.latent.model.hebbian.Hebbian;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.viz.ImageGrid;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/**
 * {@code latent train --kind hebbian}: Hebbian learning. Hyperparameters: {@link Hebbian#HYPERPARAMETERS}
 * ({@code rule=sanger|oja|hebb}, {@code units=8} (1 for oja), {@code normalize=true} (hebb only)), and the
 * job's {@code eta=0.002}, {@code tau=10000},
 * {@code source=digits|natural} ({@code patch=8}, {@code patches=20000} for natural). Epochs from
 * --epochs. Writes model.safetensors, filters.png, and prints |cos| of each unit with the matching
 * principal component (Jacobi, in double).
 */
final class HebbianJob implements TrainJob {

    static final Param<Double> ETA = Param.real("eta", 0.002, Double.MIN_VALUE, 10, "initial learning rate eta_0");
    static final Param<Double> TAU = Param.real("tau", 10_000.0, Double.MIN_VALUE, Double.MAX_VALUE, "eta_t = eta_0 / (1 + t / tau)");
    static final Param<String> SOURCE = Param.choice("source", "digits", List.of("digits", "natural"), "what to learn from");
    static final Param<Integer> PATCH = Param.integer("patch", 8, 1, 1 << 10, "natural: patch side");
    static final Param<Integer> PATCHES = Param.integer("patches", 20_000, 1, Integer.MAX_VALUE, "natural: random patches");
    private static final Hyperparameters KEYS = Hebbian.HYPERPARAMETERS.plus(ETA, TAU, SOURCE, PATCH, PATCHES);

    @Override
    public Hyperparameters hyperparameters() {
        return KEYS;
    }

    @Override
    public String name() {
        return "hebbian";
    }

    @Override
    public String description() {
        return "Hebbian rules: plain Hebb (normalized), Oja, Sanger's GHA";
    }

    @Override
    public List<String> writes() {
        return List.of("model.safetensors", "filters.png");
    }

    /** The tour: 8 units of Sanger's rule, 1 epoch (most of the time is the exact PCA it is checked against). */
    @Override
    public Tour tour() {
        return new Tour(1, 128, Map.of("units", "8"), 24);
    }

    @Override
    public int run(TrainCommand.Options o, PrintWriter out) throws Exception {
        Files.createDirectories(o.out());
        Hebbian.Rule rule = o.get(Hebbian.RULE);
        int units = rule == Hebbian.Rule.OJA ? 1 : o.get(Hebbian.UNITS);
        boolean normalize = o.get(Hebbian.NORMALIZE);
        double eta = o.get(ETA);
        double tau = o.get(TAU);
        String source = o.get(SOURCE);
        long t0 = System.nanoTime();
        try (Workspace ws = new Workspace("hebbian")) {
            Tensor x;
            int h;
            int w;
            String data;
            if (source.equals("natural")) {
                int p = o.get(PATCH);
                x = Patches.random(Patches.readDirectory(NaturalImages.find(), false), o.get(PATCHES), p, o.seed(), ws);
                h = p;
                w = p;
                data = x.dim(0) + " natural " + p + "x" + p + " patches";
            } else {
                try (Dataset ds = o.data()) {
                    x = ws.allocate(ds.size(), ds.features());
                    x.copyFrom(ds.images());
                    h = ds.height();
                    w = ds.width();
                    data = ds.size() + " images (" + ds.name() + ")";
                }
            }
            int d = x.rowSize();
            Hebbian net = new Hebbian(rule, units, d, normalize, o.seed())
                    .fit(x, new Hebbian.Schedule(o.epochs(), eta, tau, true, o.seed()));
            String config = new ObjectMapper().createObjectNode().put("rule", rule.toString()).put("units", units)
                    .put("normalize", normalize).put("eta", eta).put("tau", tau).put("epochs", o.epochs()).put("source", source).toString();
            Path model = o.out().resolve("model.safetensors");
            net.save(model, ModelFile.provenance(Main.version(), o.seed(), ModelFile.sha256(x)), config);
            Path picture = o.out().resolve("filters.png");
            ImageGrid.filters(picture, net.weights(ws), h, w, Math.min(units, 10), 28 / Math.max(h, 1) + 1);
            dev.latent.data.SymmetricEigen pca = dev.latent.data.SymmetricEigen.of(Whitening.covariance(x, Whitening.mean(x)), d);
            StringBuilder cos = new StringBuilder();
            for (int j = 0; j < units; j++) {
                double[] a = net.weight(j);
                double[] b = pca.vector(j);
                double ab = 0;
                double aa = 0;
                for (int i = 0; i < d; i++) {
                    ab += a[i] * b[i];
                    aa += a[i] * a[i];
                }
                cos.append(String.format(Locale.ROOT, " %.4f", Math.abs(ab) / Math.sqrt(aa)));
            }
            out.printf(Locale.ROOT, "%s on %s, %d epochs in %.1f s: |cos| of unit j with principal component j:%s; ||w_1|| = %.4g; wrote %s, %s%n",
                    rule, data, o.epochs(), (System.nanoTime() - t0) * 1e-9, cos, net.norm(0), model, picture);
        }
        return 0;
    }
}
