package dev.latent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.data.Dataset;
import dev.latent.eval.Classifier;
import dev.latent.eval.FewLabel;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.model.Autoencoder;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.History;
import dev.latent.train.Trainer;
import dev.latent.viz.ImageGrid;
import dev.latent.viz.Plots;
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
 * features from the unlabeled pool; with only n labels per class, softmax on those features is
 * compared with softmax on raw pixels and with an MLP trained by backprop on the labels alone.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Train a sparse autoencoder on unlabeled digits, then compare classifiers given few labels.",
                "Writes filters.png, reconstructions.png, loss.png and results.json to --out."})
final class DemoCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", defaultValue = "out", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--images", description = "IDX image file (default: the embedded 10,000 MNIST digits).")
    Path images;

    @Option(names = "--labels", description = "IDX label file matching --images.")
    Path labels;

    @Option(names = "--hidden", defaultValue = "196", description = "Code size of the sparse autoencoder (default: ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--epochs", defaultValue = "40", description = "Autoencoder epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--budgets", split = ",", defaultValue = "1,10,100", description = "Labels per class (default: ${DEFAULT-VALUE}).")
    List<Integer> budgets;

    @Option(names = "--draws", defaultValue = "5", description = "Label draws (seeds) per budget (default: ${DEFAULT-VALUE}).")
    int draws;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the split and the autoencoder (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--test-fraction", defaultValue = "0.2", description = "Held-out test fraction (default: ${DEFAULT-VALUE}).")
    double testFraction;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        if ((images == null) != (labels == null)) {
            throw new IllegalArgumentException("--images and --labels go together");
        }
        Files.createDirectories(out);
        Kernels k = Kernels.current();
        long t0 = System.nanoTime();
        try (Dataset all = images == null ? Dataset.embeddedMnist() : Dataset.readIdx(images, labels)) {
            FewLabel.Split split = FewLabel.split(all.labels(), testFraction, seed);
            try (Dataset pool = all.subset("pool", split.pool()); Dataset test = all.subset("test", split.test());
                 Workspace ws = new Workspace("demo")) {
                System.err.printf(Locale.ROOT, "demo: %s: %d unlabeled pool images, %d test images, kernels %s%n",
                        all.name(), pool.size(), test.size(), k.name());
                Autoencoder sae = Autoencoder.builder(all.features()).hidden(hidden).activation(Activation.SIGMOID)
                        .klSparsity(0.1, 3).weightDecay(3e-3).maxBatch(128).kernels(k).build().init(seed);
                History h;
                try {
                    h = sae.fit(pool.images(), test.images(), Trainer.Config.of(epochs, 128, seed)
                            .withMetrics(out.resolve("metrics.jsonl")), 3e-3, new ConsoleProgress("sparse autoencoder"));
                } catch (RuntimeException e) {
                    sae.close();
                    throw e;
                }
                try (sae) {
                    writePictures(sae, test, h);
                    sae.save(out.resolve("model.safetensors"), dev.latent.io.ModelFile.provenance(Main.version(), seed,
                            dev.latent.io.ModelFile.sha256(pool.images())));
                    Tensor poolCodes = sae.encode(pool.images(), ws);
                    Tensor testCodes = sae.encode(test.images(), ws);
                    int[] poolLabels = pool.labels();
                    int[] testLabels = test.labels();
                    List<FewLabel.Result> results = new ArrayList<>();
                    for (int n : budgets) {
                        double[][] acc = new double[3][draws];
                        for (int d = 0; d < draws; d++) {
                            int[] rows = FewLabel.draw(poolLabels, allRows(pool.size()), n, 1000L * n + d);
                            int[] y = FewLabel.labelsOf(pool, rows);
                            Tensor xs = gather(pool.images(), rows, ws);
                            Tensor cs = gather(poolCodes, rows, ws);
                            long s = 17L * d + n;
                            acc[0][d] = score(xs, y, test.images(), testLabels, Classifier.Settings.softmax(), s, k, all.classes());
                            acc[1][d] = score(xs, y, test.images(), testLabels, Classifier.Settings.mlp(hidden, Activation.SIGMOID), s, k, all.classes());
                            acc[2][d] = score(cs, y, testCodes, testLabels, Classifier.Settings.softmax(), s, k, all.classes());
                            System.err.printf(Locale.ROOT, "demo: %d labels/class, draw %d/%d: raw %.3f  bp %.3f  sae %.3f%n",
                                    n, d + 1, draws, acc[0][d], acc[1][d], acc[2][d]);
                        }
                        results.add(new FewLabel.Result("softmax on raw pixels", n, acc[0]));
                        results.add(new FewLabel.Result("MLP " + all.features() + "-" + hidden + "-" + all.classes()
                                + " by backprop on the labels alone", n, acc[1]));
                        results.add(new FewLabel.Result("softmax on sparse autoencoder features", n, acc[2]));
                    }
                    printTable(stdout, results);
                    writeJson(results, all, pool.size(), test.size(), h, sae, (System.nanoTime() - t0) * 1e-9, k);
                    stdout.printf(Locale.ROOT, "wrote %s/{filters.png, reconstructions.png, loss.png, results.json, metrics.jsonl, model.safetensors} in %.0f s%n",
                            out, (System.nanoTime() - t0) * 1e-9);
                    stdout.flush();
                }
            }
        }
        return 0;
    }

    private static int[] allRows(int n) {
        return java.util.stream.IntStream.range(0, n).toArray();
    }

    private static Tensor gather(Tensor src, int[] rows, Workspace ws) {
        Tensor t = ws.allocate(rows.length, src.rowSize());
        for (int i = 0; i < rows.length; i++) {
            t.row(i).copyFrom(src.row(rows[i]));
        }
        return t;
    }

    private static double score(Tensor x, int[] y, Tensor testX, int[] testY, Classifier.Settings s, long seed, Kernels k, int classes) {
        try (Classifier c = Classifier.train(x, y, classes, s, seed, k)) {
            return c.accuracy(testX, testY);
        }
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

    private static void printTable(PrintWriter out, List<FewLabel.Result> results) {
        List<Integer> ns = results.stream().map(FewLabel.Result::labelsPerClass).distinct().toList();
        List<String> methods = results.stream().map(FewLabel.Result::method).distinct().toList();
        int w = methods.stream().mapToInt(String::length).max().orElse(10);
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s", "test accuracy (mean +- std)"));
        for (int n : ns) {
            head.append(String.format(Locale.ROOT, "  %15s", n + " labels/class"));
        }
        out.println(head);
        for (String m : methods) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s", m));
            for (int n : ns) {
                FewLabel.Result r = results.stream().filter(x -> x.method().equals(m) && x.labelsPerClass() == n).findFirst().orElseThrow();
                line.append(String.format(Locale.ROOT, "  %8.1f +- %4.1f", 100 * r.mean(), 100 * r.std()));
            }
            out.println(line);
        }
    }

    private void writeJson(List<FewLabel.Result> results, Dataset all, int pool, int test, History h, Autoencoder sae,
                           double seconds, Kernels k) throws Exception {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        ArrayNode ms = root.putArray("methods");
        for (FewLabel.Result r : results) {
            ObjectNode o = ms.addObject();
            o.put("name", r.method());
            o.put("labels_per_class", r.labelsPerClass());
            o.put("accuracy_mean", r.mean());
            o.put("accuracy_std", r.std());
            ArrayNode a = o.putArray("accuracies");
            for (double v : r.accuracies()) {
                a.add(v);
            }
        }
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
        Path tmp = out.resolve(".results.json.tmp");
        json.writeValue(tmp.toFile(), root);
        Files.move(tmp, out.resolve("results.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
