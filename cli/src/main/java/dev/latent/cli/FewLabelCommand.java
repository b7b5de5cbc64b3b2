package dev.latent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.data.Dataset;
import dev.latent.eval.Classifier;
import dev.latent.eval.FewLabel;
import dev.latent.io.Encoder;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latent fewlabel}: the few-label protocol for features from trained model files. Baselines
 * (softmax on raw pixels, an MLP by backprop on the labels alone) and softmax on each model's codes,
 * over label budgets and draws; a table on stdout and results.json.
 */
@Command(name = "fewlabel", mixinStandardHelpOptions = true,
        description = "Compare classifiers given n labels per class: raw pixels, backprop alone, and features of trained models.")
final class FewLabelCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", description = "A latent model file whose encoder gives features (repeatable).")
    List<Path> models = new ArrayList<>();

    @Option(names = "--images", description = "IDX image file (default: the embedded 10,000 MNIST digits).")
    Path images;

    @Option(names = "--labels", description = "IDX label file matching --images.")
    Path labels;

    @Option(names = "--test-images", description = "IDX test images (default: a stratified split of --images).")
    Path testImages;

    @Option(names = "--test-labels", description = "IDX test labels.")
    Path testLabels;

    @Option(names = "--budgets", split = ",", defaultValue = "1,10,100", description = "Labels per class (default: ${DEFAULT-VALUE}).")
    List<Integer> budgets;

    @Option(names = "--draws", defaultValue = "5", description = "Draws per budget (default: ${DEFAULT-VALUE}).")
    int draws;

    @Option(names = "--hidden", defaultValue = "196", description = "Hidden units of the backprop-only MLP (default: ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--seed", defaultValue = "1", description = "Split seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", defaultValue = "out", description = "Directory for results.json (default: ${DEFAULT-VALUE}).")
    Path out;

    @Override
    public Integer call() throws Exception {
        if ((images == null) != (labels == null) || (testImages == null) != (testLabels == null)) {
            throw new IllegalArgumentException("--images/--labels and --test-images/--test-labels go in pairs");
        }
        PrintWriter stdout = spec.commandLine().getOut();
        Kernels k = Kernels.current();
        Files.createDirectories(out);
        try (Dataset all = images == null ? Dataset.embeddedMnist() : Dataset.readIdx(images, labels); Workspace ws = new Workspace("fewlabel")) {
            Dataset pool;
            Dataset test;
            if (testImages != null) {
                pool = all;
                test = Dataset.readIdx(testImages, testLabels);
            } else {
                FewLabel.Split split = FewLabel.split(all.labels(), 0.2, seed);
                pool = all.subset("pool", split.pool());
                test = all.subset("test", split.test());
            }
            try {
                List<String> names = new ArrayList<>(List.of("softmax on raw pixels",
                        "MLP " + all.features() + "-" + hidden + "-" + all.classes() + " by backprop on the labels alone"));
                List<Tensor[]> feats = new ArrayList<>();
                for (Path m : models) {
                    try (Encoder enc = Encoder.load(m, k)) {
                        Tensor p = ws.allocate(pool.size(), enc.codeSize());
                        Tensor t = ws.allocate(test.size(), enc.codeSize());
                        enc.encode(pool.images(), p);
                        enc.encode(test.images(), t);
                        feats.add(new Tensor[] {p, t});
                        names.add("softmax on " + m.getFileName() + " features (" + enc.codeSize() + ")");
                    }
                }
                List<FewLabel.Result> results = new ArrayList<>();
                int[] poolLabels = pool.labels();
                for (int n : budgets) {
                    double[][] acc = new double[names.size()][draws];
                    for (int d = 0; d < draws; d++) {
                        int[] rows = FewLabel.draw(poolLabels, DemoCommand.allRows(pool.size()), n, 1000L * n + d);
                        int[] y = FewLabel.labelsOf(pool, rows);
                        long s = 17L * d + n;
                        Tensor xs = DemoCommand.gather(pool.images(), rows, ws);
                        acc[0][d] = DemoCommand.score(xs, y, test.images(), test.labels(), Classifier.Settings.softmax(), s, k, all.classes());
                        acc[1][d] = DemoCommand.score(xs, y, test.images(), test.labels(), Classifier.Settings.mlp(hidden, Activation.SIGMOID), s, k,
                                all.classes());
                        for (int f = 0; f < feats.size(); f++) {
                            acc[2 + f][d] = DemoCommand.score(DemoCommand.gather(feats.get(f)[0], rows, ws), y, feats.get(f)[1], test.labels(),
                                    Classifier.Settings.softmax(), s, k, all.classes());
                        }
                        System.err.printf(Locale.ROOT, "fewlabel: %d labels/class, draw %d/%d done%n", n, d + 1, draws);
                    }
                    for (int i = 0; i < names.size(); i++) {
                        results.add(new FewLabel.Result(names.get(i), n, acc[i]));
                    }
                }
                DemoCommand.printTable(stdout, results);
                ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
                ObjectNode root = json.createObjectNode();
                ArrayNode ms = root.putArray("methods");
                for (FewLabel.Result r : results) {
                    ObjectNode o = ms.addObject();
                    o.put("name", r.method());
                    o.put("labels_per_class", r.labelsPerClass());
                    o.put("accuracy_mean", r.mean());
                    o.put("accuracy_std", r.std());
                }
                root.put("data", all.name());
                root.put("pool", pool.size());
                root.put("test", test.size());
                json.writeValue(out.resolve("fewlabel.json").toFile(), root);
                stdout.println("wrote " + out.resolve("fewlabel.json"));
            } finally {
                if (pool != all) {
                    pool.close();
                }
                test.close();
            }
        }
        return 0;
    }
}
