package dev.latent.cli;

import dev.latent.data.Dataset;
import dev.latent.io.ModelFile;
import dev.latent.model.Hyperparameters;
import dev.latent.model.autoencoder.ConvAutoencoder;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.History;
import dev.latent.train.Trainer;
import dev.latent.viz.ImageGrid;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/**
 * {@code latent train --kind conv-autoencoder}: hyperparameters {@link ConvAutoencoder#HYPERPARAMETERS}
 * ({@code channels=16,32}, the encoder's conv layers; {@code kernel=3}, {@code stride=2},
 * {@code padding=1}, {@code activation=relu}, ...); {@code --denoise} for a denoising one. Writes model.safetensors,
 * reconstructions.png (inputs above their reconstructions) and metrics.jsonl.
 */
final class ConvAutoencoderJob implements TrainJob {

    @Override
    public String name() {
        return ConvAutoencoder.KIND;
    }

    @Override
    public String description() {
        return "convolutional autoencoder (strided convs, transposed-conv decoder)";
    }

    @Override
    public List<String> writes() {
        return List.of("model.safetensors", "checkpoint.safetensors", "metrics.jsonl", "reconstructions.png");
    }

    @Override
    public Hyperparameters hyperparameters() {
        return ConvAutoencoder.HYPERPARAMETERS;
    }

    @Override
    public boolean denoises() {
        return true;
    }

    @Override
    public boolean checkpoints() {
        return true;
    }

    /** The tour: 8 and 16 channels, 3 epochs. */
    @Override
    public Tour tour() {
        return new Tour(3, 128, Map.of("channels", "8,16"), 10);
    }

    @Override
    public int run(TrainCommand.Options o, PrintWriter out) throws Exception {
        Files.createDirectories(o.out());
        try (Dataset data = o.data()) {
            ConvAutoencoder.Builder b = ConvAutoencoder.builder(1, data.height(), data.width()).apply(o.set()).maxBatch(o.batch());
            try (ConvAutoencoder ae = b.build().init(o.seed()); Workspace ws = new Workspace("conv-autoencoder-job")) {
                History h = ae.fit(data.images(), null, Trainer.Config.of(o.epochs(), o.batch(), o.seed())
                        .withMetrics(o.out().resolve("metrics.jsonl")).withCheckpoint(o.out().resolve("checkpoint.safetensors"), o.resume()),
                        o.lr(), new ConsoleProgress(ConvAutoencoder.KIND));
                Path model = o.out().resolve("model.safetensors");
                ae.save(model, ModelFile.provenance(Main.version(), o.seed(), ModelFile.sha256(data.images())));
                int shown = Math.min(20, data.size());
                Tensor both = ws.allocate(2 * shown, data.features());
                both.rows(0, shown).copyFrom(data.images().rows(0, shown));
                ae.reconstruct(data.images().rows(0, shown), both.rows(shown, 2 * shown));
                Path pictures = o.out().resolve("reconstructions.png");
                ImageGrid.images(pictures, both, data.height(), data.width(), shown, 2);
                out.printf(Locale.ROOT, "trained %s on %d images (%s): final loss %.4f, code %s = %d values; wrote %s, %s%n",
                        ae.configJson(), data.size(), data.name(), h.last().trainLoss(), Arrays.toString(ae.codeShape()),
                        ae.codeSize(), model, pictures);
            }
        }
        return 0;
    }
}
