package dev.latent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.data.Dataset;
import dev.latent.model.Classifier;
import dev.latent.eval.FewLabel;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.model.autoencoder.StackedAutoencoder;
import dev.latent.model.selfsup.SelfSupervised;
import dev.latent.model.selfsup.SelfSupervised.Pretext;
import dev.latent.nn.Corruption;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.History;
import dev.latent.train.Trainer;
import dev.latent.viz.ImageGrid;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latent demo}: seed 003's assignment on the embedded MNIST digits. A sparse autoencoder learns
 * features from the unlabeled pool, a denoising autoencoder learns to undo masking noise, and a
 * stacked autoencoder is pretrained greedily on it; with only
 * n labels per class, softmax on those features, and the stack fine-tuned end to end, are compared
 * with softmax on raw pixels and with an MLP trained by backprop on the labels alone.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Train sparse, denoising and stacked autoencoders on unlabeled digits, then compare classifiers given few labels.",
                "Writes report.html, filters.png, reconstructions.png, loss.png, results.json, metrics.jsonl and model.safetensors to --out."})
final class DemoCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "out", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @CommandLine.Mixin
    DataOptions data;

    @Option(names = "--hidden", defaultValue = "196", description = "Code size of the sparse autoencoder (default: ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--epochs", defaultValue = "40", description = "Autoencoder epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--denoise", defaultValue = "masking:0.3",
            description = "Corruption of the denoising autoencoder, masking:FRACTION or gaussian:SIGMA; none leaves it out"
                    + " (default: ${DEFAULT-VALUE}).")
    String denoise;

    @Option(names = "--stack", split = ",", defaultValue = "200,200",
            description = "Layer sizes of the stacked autoencoder (default: ${DEFAULT-VALUE}).")
    int[] stackSizes;

    @Option(names = "--stack-epochs", defaultValue = "15",
            description = "Pretraining epochs per stacked layer; 0 leaves the stack out (default: ${DEFAULT-VALUE}).")
    int stackEpochs;

    @Option(names = "--selfsup-epochs", defaultValue = "2",
            description = "Epochs of the contrastive (SimCLR-style) conv encoder; 0 leaves it out (default: ${DEFAULT-VALUE}).")
    int selfsupEpochs;

    @Option(names = "--budgets", split = ",", defaultValue = "1,10,100", description = "Labels per class (default: ${DEFAULT-VALUE}).")
    List<Integer> budgets;

    @Option(names = "--force", description = "Replace --out's model.safetensors even when it holds a model of another kind.")
    boolean force;

    @Option(names = "--draws", defaultValue = "5", description = "Label draws (seeds) per budget (default: ${DEFAULT-VALUE}).")
    int draws;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the split and the autoencoder (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--test-fraction", defaultValue = "0.2", description = "Held-out test fraction (default: ${DEFAULT-VALUE}).")
    double testFraction;

    @Override
    public Integer call() throws Exception {
        Checks.atLeast("--hidden", hidden, 1);
        Checks.atLeast("--epochs", epochs, 1);
        Checks.allAtLeast("--stack", stackSizes, 1);
        Checks.atLeast("--stack-epochs", stackEpochs, 0);
        Checks.atLeast("--selfsup-epochs", selfsupEpochs, 0);
        Checks.allAtLeast("--budgets", budgets, 1);
        Checks.atLeast("--draws", draws, 1);
        Checks.between("--test-fraction", testFraction, 0, 1);
        data.check("--out", out, List.of("results.json", "metrics.jsonl", "model.safetensors", Report.FILE, "*.png"));
        Checks.replacesOnlyItsKind("--out", out.resolve("model.safetensors"), dev.latent.model.autoencoder.Autoencoder.KIND, force);
        PrintWriter stdout = spec.commandLine().getOut();
        Corruption corruption = denoise.equals("none") ? null : Corruption.parse(denoise);
        Files.createDirectories(out);
        Kernels k = Kernels.current();
        long t0 = System.nanoTime();
        try (DataOptions.Data sets = data.open(testFraction, seed)) {
            Dataset all = sets.all();
            Dataset pool = sets.pool();
            Dataset test = sets.test();
            try (Workspace ws = new Workspace("demo")) {
                System.err.printf(Locale.ROOT, "demo: %s: %d unlabeled pool images, %d test images, kernels %s%n",
                        all.name(), pool.size(), test.size(), k.name());
                // The ETA of the run: the training of the three models, in sample-epochs (the few-label part follows).
                ConsoleProgress.Run run = new ConsoleProgress.Run((double) pool.size()
                        * (epochs + (corruption != null ? epochs : 0) + (long) stackEpochs * stackSizes.length + 30L * selfsupEpochs));
                Autoencoder sae = Autoencoder.builder(all.features()).hidden(hidden).activation(Activation.SIGMOID)
                        .klSparsity(0.1, 3).weightDecay(3e-3).maxBatch(128).kernels(k).build().init(seed);
                History h;
                try {
                    h = sae.fit(pool.images(), test.images(), Trainer.Config.of(epochs, 128, seed)
                            .withMetrics(out.resolve("metrics.jsonl")), 3e-3, new ConsoleProgress("sparse autoencoder", run));
                } catch (RuntimeException e) {
                    sae.close();
                    throw e;
                }
                Autoencoder dae = corruption == null ? null : Autoencoder.builder(all.features()).hidden(hidden)
                        .activation(Activation.SIGMOID).denoising(corruption).weightDecay(3e-3).maxBatch(128).kernels(k).build()
                        .init(seed + 1);
                SelfSupervised contrastive = selfsupEpochs == 0 || all.height() != all.width() ? null
                        : new SelfSupervised(new SelfSupervised.Config(Pretext.CONTRASTIVE, new int[] {1, all.height(), all.width()},
                                SelfSupervised.hyperparameters(Pretext.CONTRASTIVE).parse(Map.of(), "demo"), 128), k)
                                .init(seed);
                try (sae; dae; contrastive; StackedAutoencoder stack = new StackedAutoencoder(all.features(), stackSizes, Activation.SIGMOID, 0.1, 3,
                        3e-3, k)) {
                    writePictures(sae, test, h);
                    sae.save(out.resolve("model.safetensors"), dev.latent.io.ModelFile.provenance(Main.version(), seed,
                            dev.latent.io.ModelFile.sha256(pool.images())));
                    if (corruption != null) {
                        dae.fit(pool.images(), test.images(), Trainer.Config.of(epochs, 128, seed + 1), 3e-3,
                                new ConsoleProgress("denoising autoencoder (" + corruption + ")", run));
                    }
                    if (stackEpochs > 0) {
                        stack.pretrain(pool.images(), Trainer.Config.of(stackEpochs, 128, seed), 3e-3,
                                new ConsoleProgress("stacked autoencoder " + all.features() + "-" + join(stackSizes), run));
                    }
                    if (contrastive != null) {
                        contrastive.fit(pool.images(), selfsupEpochs, 3e-3, seed, new ConsoleProgress("contrastive conv encoder", run));
                    }
                    int[] testLabels = test.labels();
                    int classes = all.classes();
                    List<FewLabel.Row> rows = new ArrayList<>();
                    rows.add(new FewLabel.Row("softmax on raw pixels", "raw",
                            FewLabel.pixels(pool.images(), test.images(), testLabels, classes, k, ws)));
                    rows.add(new FewLabel.Row("MLP " + all.features() + "-" + hidden + "-" + classes + " by backprop on the labels alone", "bp",
                            FewLabel.mlp(pool.images(), test.images(), testLabels, classes,
                                    Classifier.Settings.mlp(hidden, Activation.SIGMOID), k)));
                    rows.add(new FewLabel.Row("softmax on sparse autoencoder features", "sae",
                            FewLabel.frozen(sae, pool.images(), test.images(), testLabels, classes, k, ws)));
                    if (corruption != null) {
                        rows.add(new FewLabel.Row("softmax on denoising autoencoder features", "dae",
                                FewLabel.frozen(dae, pool.images(), test.images(), testLabels, classes, k, ws)));
                    }
                    if (stackEpochs > 0) {
                        rows.add(new FewLabel.Row("softmax on stacked autoencoder " + join(stackSizes) + " features", "stack",
                                FewLabel.frozen(stack, pool.images(), test.images(), testLabels, classes, k, ws)));
                        rows.add(new FewLabel.Row("stacked autoencoder fine-tuned on the labels", "stack-ft", draw -> {
                            try (Workspace dw = new Workspace("fine-tune-draw");
                                 Classifier c = stack.fineTune(FewLabel.gather(pool.images(), draw.rows(), dw), draw.labels(), classes,
                                         Classifier.Settings.mlp(0, Activation.SIGMOID), draw.seed())) {
                                return c.accuracy(test.images(), testLabels);
                            }
                        }));
                    }
                    if (contrastive != null) {
                        rows.add(new FewLabel.Row("softmax on contrastive (SimCLR-style) conv encoder features", "contrastive",
                                FewLabel.frozen(contrastive, pool.images(), test.images(), testLabels, classes, k, ws)));
                    }
                    List<FewLabel.Result> results = FewLabel.run(pool.labels(), budgets.stream().mapToInt(Integer::intValue).toArray(), draws,
                            rows, line -> System.err.println("demo: " + line));
                    FewLabel.printTable(stdout, Checks.finite(results));
                    writeJson(results, all, pool.size(), test.size(), h, sae, (System.nanoTime() - t0) * 1e-9, k);
                    Report.write(out);
                    stdout.printf(Locale.ROOT, "wrote %s/{report.html, filters.png, reconstructions.png, loss.png, results.json, metrics.jsonl, model.safetensors} in %.0f s%n",
                            out, (System.nanoTime() - t0) * 1e-9);
                    stdout.flush();
                }
            }
        }
        return 0;
    }

    private static String join(int[] sizes) {
        return String.join("-", java.util.stream.IntStream.of(sizes).mapToObj(Integer::toString).toList());
    }

    private void writePictures(Autoencoder sae, Dataset test, History h) throws Exception {
        int side = test.height();
        ImageGrid.filters(out.resolve("filters.png"), sae.firstEncoder().weight().value(), side, test.width(), 14, 2);
        try (Workspace ws = new Workspace("pictures")) {
            int n = 10;
            Tensor pairs = ws.allocate(2 * n, test.features());
            Tensor recon = ws.allocate(n, test.features());
            sae.reconstruct(test.images().rows(0, n), recon);
            for (int i = 0; i < n; i++) {
                pairs.row(i).copyFrom(test.images().row(i));
                pairs.row(n + i).copyFrom(recon.row(i));
            }
            ImageGrid.images(out.resolve("reconstructions.png"), pairs, side, test.width(), n, 3);
        }
        Map<String, double[]> series = new LinkedHashMap<>();
        series.put("training objective (reconstruction + sparsity + decay)", h.epochs().stream().mapToDouble(e -> e.trainLoss()).toArray());
        series.put("test reconstruction loss", h.epochs().stream().mapToDouble(e -> e.valLoss()).toArray());
        Plots.lines(out.resolve("loss.png"), "Sparse autoencoder on " + test.height() + "x" + test.width() + " digits", "epoch",
                "loss (1/2 sum of squares per image)", series);
    }

    private void writeJson(List<FewLabel.Result> results, Dataset all, int pool, int test, History h, Autoencoder sae,
                           double seconds, Kernels k) throws Exception {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        root.set("methods", FewLabel.json(results));
        ObjectNode data = root.putObject("data");
        data.put("name", all.name());
        data.put("pool", pool);
        data.put("test", test);
        data.put("draws", draws);
        ObjectNode model = root.putObject("autoencoder");
        sae.config().forEach(model::put);
        model.put("epochs", h.epochs().size());
        model.put("final_train_loss", h.last().trainLoss());
        model.put("final_test_reconstruction_loss", h.last().valLoss());
        root.put("kernels", k.name());
        root.put("seconds", seconds);
        dev.latent.io.AtomicFiles.write(out.resolve("results.json"), tmp -> json.writeValue(tmp.toFile(), root));
    }
}
