package dev.latent.cli;

import dev.latent.data.Dataset;
import dev.latent.io.ModelFile;
import dev.latent.kernel.Activation;
import dev.latent.model.Hyperparameters;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.train.History;
import dev.latent.train.Trainer;
import dev.latent.viz.DeepUnits;
import dev.latent.viz.ImageGrid;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code latent train --kind autoencoder}: hyperparameters {@link Autoencoder#HYPERPARAMETERS}
 * ({@code hidden=196}, comma-separated for a deep one, e.g. 1000,500,250,30; KL sparsity rho 0.1, beta 3;
 * weight decay 3e-3; ...); {@code --denoise masking:0.3|gaussian:0.1} makes it a denoising autoencoder.
 * Writes model.safetensors, filters.png, loss.png (the training objective per epoch; for a deep one
 * also layer2-units.png) and metrics.jsonl.
 */
final class AutoencoderJob implements TrainJob {

    @Override
    public String name() {
        return "autoencoder";
    }

    @Override
    public String description() {
        return "sparse / compressive / deep autoencoder (dense)";
    }

    @Override
    public List<String> writes() {
        return List.of("model.safetensors", "checkpoint.safetensors", "metrics.jsonl", "filters.png", "loss.png",
                "layer2-units.png (two or more layers)");
    }

    @Override
    public Hyperparameters hyperparameters() {
        return Autoencoder.HYPERPARAMETERS;
    }

    @Override
    public boolean denoises() {
        return true;
    }

    @Override
    public boolean checkpoints() {
        return true;
    }

    /** The tour: a 100-unit sparse autoencoder, 10 epochs. */
    @Override
    public Tour tour() {
        return new Tour(10, 128, Map.of("hidden", "100"), 8);
    }

    @Override
    public int run(TrainCommand.Options o, PrintWriter out) throws Exception {
        Files.createDirectories(o.out());
        try (Dataset data = o.data()) {
            int[] hidden = o.get(Autoencoder.HIDDEN);
            Activation act = o.get(Autoencoder.ACTIVATION);
            Autoencoder.Builder b = Autoencoder.builder(data.features()).apply(o.set()).maxBatch(o.batch());
            try (Autoencoder ae = b.build().init(o.seed())) {
                History h = ae.fit(data.images(), null, Trainer.Config.of(o.epochs(), o.batch(), o.seed())
                        .withMetrics(o.out().resolve("metrics.jsonl")).withCheckpoint(o.out().resolve("checkpoint.safetensors"), o.resume()),
                        o.lr(), new ConsoleProgress("autoencoder"));
                Path model = o.out().resolve("model.safetensors");
                ae.save(model, ModelFile.provenance(Main.version(), o.seed(), ModelFile.sha256(data.images())));
                ImageGrid.filters(o.out().resolve("filters.png"), ae.firstEncoder().weight().value(), data.height(), data.width(),
                        Math.min(20, hidden[0]), 2);
                Map<String, double[]> series = new LinkedHashMap<>();
                series.put("training objective", h.epochs().stream().mapToDouble(e -> e.trainLoss()).toArray());
                Plots.lines(o.out().resolve("loss.png"), "Autoencoder on " + data.name(), "epoch", "loss", series);
                if (hidden.length >= 2) {
                    Activation second = hidden.length == 2 ? Activation.parse(ae.config().get("code_activation")) : act;
                    writeLayer2Units(ae, List.of(act, second), data.height(), data.width(), o.out().resolve("layer2-units.png"));
                }
                out.printf(Locale.ROOT, "trained %s on %d images (%s): final loss %.4f; wrote %s, %s, %s%s%n",
                        ae.configJson(), data.size(), data.name(), h.last().trainLoss(), model, o.out().resolve("filters.png"),
                        o.out().resolve("loss.png"),
                        hidden.length >= 2 ? ", " + o.out().resolve("layer2-units.png") : "");
            }
        }
        return 0;
    }

    /**
     * Up to 10 units of the second encoder layer: the top row their weighted sums of first-layer
     * filters, the bottom row the input of norm at most 1 that maximizes each (see {@link DeepUnits}).
     */
    static void writeLayer2Units(Autoencoder ae, List<Activation> acts, int h, int w, Path file) throws java.io.IOException {
        var layers = ae.encoders().subList(0, 2);
        int units = Math.min(10, layers.get(1).out());
        float[][] pictures = new float[2 * units][];
        for (int j = 0; j < units; j++) {
            pictures[j] = DeepUnits.weightedSum(layers.get(0).weight().value(), layers.get(1).weight().value(), j);
            pictures[units + j] = DeepUnits.maximize(layers, acts, j, 200, 0.5, j);
        }
        DeepUnits.write(file, pictures, h, w, units, 2);
    }
}
