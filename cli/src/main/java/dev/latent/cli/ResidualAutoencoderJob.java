package dev.latent.cli;

import dev.latent.data.Dataset;
import dev.latent.io.ModelFile;
import dev.latent.model.Hyperparameters;
import dev.latent.model.autoencoder.ResidualAutoencoder;
import dev.latent.train.History;
import dev.latent.train.Trainer;
import dev.latent.viz.ImageGrid;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/**
 * {@code latent train --kind residual-autoencoder}: hyperparameters
 * {@link ResidualAutoencoder#HYPERPARAMETERS} ({@code width=64}, the code size; {@code blocks=3};
 * {@code activation=sigmoid}; ...); {@code --denoise} for a denoising one. Writes model.safetensors (served by
 * the Encoder), filters.png (block 1's filters on the input) and metrics.jsonl.
 */
final class ResidualAutoencoderJob implements TrainJob {

    @Override
    public String name() {
        return ResidualAutoencoder.KIND;
    }

    @Override
    public String description() {
        return "residual autoencoder whose blocks also see the shared input (seed 002)";
    }

    @Override
    public List<String> writes() {
        return List.of("model.safetensors", "checkpoint.safetensors", "metrics.jsonl", "filters.png");
    }

    @Override
    public Hyperparameters hyperparameters() {
        return ResidualAutoencoder.HYPERPARAMETERS;
    }

    @Override
    public boolean denoises() {
        return true;
    }

    @Override
    public boolean checkpoints() {
        return true;
    }

    /** The tour: 2 blocks of the default width, 5 epochs. */
    @Override
    public Tour tour() {
        return new Tour(5, 128, Map.of("blocks", "2"), 4);
    }

    @Override
    public int run(TrainCommand.Options o, PrintWriter out) throws Exception {
        Files.createDirectories(o.out());
        try (Dataset data = o.data()) {
            ResidualAutoencoder.Builder b = ResidualAutoencoder.builder(data.features()).apply(o.set()).maxBatch(o.batch());
            try (ResidualAutoencoder ae = b.build().init(o.seed())) {
                History h = ae.fit(data.images(), null, Trainer.Config.of(o.epochs(), o.batch(), o.seed())
                        .withMetrics(o.out().resolve("metrics.jsonl")).withCheckpoint(o.out().resolve("checkpoint.safetensors"), o.resume()),
                        o.lr(), new ConsoleProgress(ResidualAutoencoder.KIND));
                Path model = o.out().resolve("model.safetensors");
                ae.save(model, ModelFile.provenance(Main.version(), o.seed(), ModelFile.sha256(data.images())));
                Path filters = o.out().resolve("filters.png");
                ImageGrid.filters(filters, ae.firstEncoder().weight().value(), data.height(), data.width(),
                        Math.min(16, ae.codeSize()), 2);
                out.printf(Locale.ROOT, "trained %s on %d images (%s): final loss %.4f; wrote %s, %s%n",
                        ae.configJson(), data.size(), data.name(), h.last().trainLoss(), model, filters);
            }
        }
        return 0;
    }
}
