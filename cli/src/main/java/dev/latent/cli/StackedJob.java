package dev.latent.cli;

import dev.latent.data.Dataset;
import dev.latent.eval.FewLabel;
import dev.latent.io.ModelFile;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.model.Classifier;
import dev.latent.model.Hyperparameters;
import dev.latent.model.Hyperparameters.Param;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.model.autoencoder.AutoencoderCore;
import dev.latent.model.autoencoder.StackedAutoencoder;
import dev.latent.train.Trainer;
import dev.latent.viz.ImageGrid;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/**
 * {@code latent train --kind stacked}: a stacked autoencoder trained greedily layer by layer, then
 * optionally fine-tuned end to end with a softmax head on a few labels. Hyperparameters
 * {@link StackedAutoencoder#HYPERPARAMETERS} ({@code hidden=200,200}, {@code activation=sigmoid},
 * {@code rho=0.1}, {@code beta=3} (0: no sparsity), {@code weight_decay=3e-3}), and the job's
 * {@code finetune=0} (labels per class drawn from the data, seeded; 0: no fine-tuning),
 * {@code finetune_steps=400}. Writes model.safetensors (the stack, and the fine-tuned
 * classifier when there is one; its encoder is what {@code latent encode} and {@code latent fewlabel}
 * use) and filters.png (the first layer).
 */
final class StackedJob implements TrainJob {

    static final Param<Integer> FINETUNE = Param.integer("finetune", 0, 0, Integer.MAX_VALUE,
            "labels per class to fine-tune on (0: no fine-tuning; needs --labels)");
    static final Param<Integer> FINETUNE_STEPS = Param.integer("finetune_steps", 400, 1, Integer.MAX_VALUE, "fine-tuning steps");
    private static final Hyperparameters KEYS = StackedAutoencoder.HYPERPARAMETERS.plus(FINETUNE, FINETUNE_STEPS);

    @Override
    public String kind() {
        return StackedAutoencoder.KIND;
    }

    @Override
    public Hyperparameters hyperparameters() {
        return KEYS;
    }

    @Override
    public String name() {
        return "stacked";
    }

    @Override
    public String description() {
        return "stacked sparse autoencoder, greedy layer-wise, optionally fine-tuned on a few labels";
    }

    @Override
    public List<String> writes() {
        return List.of("model.safetensors", "filters.png");
    }

    /** The tour: a 100-50 stack, 5 epochs per layer. */
    @Override
    public Tour tour() {
        return new Tour(5, 128, Map.of("hidden", "100,50"), 4);
    }

    @Override
    public int run(TrainCommand.Options o, PrintWriter out) throws Exception {
        Files.createDirectories(o.out());
        int[] hidden = o.get(StackedAutoencoder.HIDDEN);
        Activation act = o.get(AutoencoderCore.ACTIVATION);
        int perClass = o.get(FINETUNE);
        long t0 = System.nanoTime();
        try (Dataset data = o.data();
             StackedAutoencoder stack = new StackedAutoencoder(data.features(), hidden, act, o.get(Autoencoder.RHO),
                     o.get(StackedAutoencoder.BETA), o.get(AutoencoderCore.WEIGHT_DECAY), Kernels.current())) {
            stack.pretrain(data.images(), Trainer.Config.of(o.epochs(), o.batch(), o.seed()), o.lr(), new ConsoleProgress("stacked"));
            String tuned = "not fine-tuned";
            if (perClass > 0) {
                if (!data.hasLabels()) {
                    throw new IllegalArgumentException("--set finetune=" + perClass + " needs labels (--labels)");
                }
                int[] all = java.util.stream.IntStream.range(0, data.size()).toArray();
                int[] rows = FewLabel.draw(data.labels(), all, perClass, o.seed());
                try (Dataset labeled = data.subset(data.name() + " labeled", rows)) {
                    Classifier c = stack.fineTune(labeled.images(), labeled.labels(), data.classes(),
                            new Classifier.Settings(0, act, o.get(FINETUNE_STEPS), 128, 3e-3, 1e-4), o.seed());
                    stack.keep(c);
                    tuned = String.format(Locale.ROOT, "fine-tuned on %d labels (%d per class), accuracy on all %d images %.1f%%",
                            rows.length, perClass, data.size(), 100 * c.accuracy(data.images(), data.labels()));
                }
            }
            Path model = o.out().resolve("model.safetensors");
            stack.save(model, ModelFile.provenance(Main.version(), o.seed(), ModelFile.sha256(data.images())));
            Path filters = o.out().resolve("filters.png");
            ImageGrid.filters(filters, stack.layer(0).firstEncoder().weight().value(), data.height(), data.width(),
                    Math.min(20, hidden[0]), 2);
            List<String> losses = stack.histories().stream().map(h -> String.format(Locale.ROOT, "%.4f", h.last().trainLoss())).toList();
            out.printf(Locale.ROOT, "trained %s on %d images (%s) in %.1f s, final loss %s (layer %d; per layer %s), %s; wrote %s, %s%n",
                    stack.configJson(), data.size(), data.name(), (System.nanoTime() - t0) * 1e-9, losses.getLast(), losses.size(),
                    String.join(", ", losses), tuned, model, filters);
        }
        return 0;
    }
}
