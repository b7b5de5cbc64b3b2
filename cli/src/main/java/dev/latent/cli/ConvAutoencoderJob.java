package dev.latent.cli;

import dev.latent.data.Dataset;
import dev.latent.io.ModelFile;
import dev.latent.kernel.Activation;
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
import java.util.Locale;

/**
 * {@code latent train --model conv-autoencoder}: hyperparameters {@code channels=16,32} (the encoder's
 * conv layers), {@code kernel=3}, {@code stride=2}, {@code padding=1}, {@code activation=relu},
 * {@code code_activation}, {@code output_activation=sigmoid}, {@code loss=mse_half_sum},
 * {@code weight_decay=0}; {@code --denoise} for a denoising one. Writes model.safetensors,
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
    public boolean denoises() {
        return true;
    }

    @Override
    public int run(TrainCommand.Options o, PrintWriter out) throws Exception {
        Files.createDirectories(o.out());
        try (Dataset data = o.data()) {
            int[] channels = Arrays.stream(o.get("channels", "16,32").split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
            Activation act = Activation.parse(o.get("activation", "relu"));
            ConvAutoencoder.Builder b = ConvAutoencoder.builder(1, data.height(), data.width()).channels(channels)
                    .geometry(o.getInt("kernel", 3), o.getInt("stride", 2), o.getInt("padding", 1)).activation(act)
                    .codeActivation(Activation.parse(o.get("code_activation", act.toString())))
                    .outputActivation(Activation.parse(o.get("output_activation", "sigmoid")))
                    .loss(o.get("loss", "mse_half_sum")).weightDecay(o.getDouble("weight_decay", 0)).maxBatch(o.batch())
                    .denoising(o.denoise());
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
