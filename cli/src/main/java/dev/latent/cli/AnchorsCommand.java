package dev.latent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.data.Dataset;
import dev.latent.eval.FewLabel;
import dev.latent.experiment.PublishedAnchors;
import dev.latent.kernel.Kernels;
import dev.latent.model.rbm.DeepBelief;
import dev.latent.optim.Lbfgs;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.TrainingListener;
import dev.latent.viz.ImageGrid;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latent anchors}: reruns published autoencoder results (UFLDL's self-taught learning and
 * stacked autoencoder, Hinton &amp; Salakhutdinov's deep autoencoder) on the embedded digits and
 * prints latent's numbers beside the papers'.
 */
@Command(name = "anchors", mixinStandardHelpOptions = true,
        description = {"Rerun published results (UFLDL self-taught learning and stacked autoencoder, Hinton & Salakhutdinov's",
                "deep autoencoder, pretrained greedily as autoencoders and as a stack of RBMs) and print latent's numbers beside the papers'.",
                "Writes anchors.json, self-taught-filters.png (self-taught), deep-reconstructions.png (deep) and"
                + " deep-belief-reconstructions.png (deep-belief) to --out."})
final class AnchorsCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "out/anchors", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--input", paramLabel = "FILE", description = "IDX digit images (default: the embedded 10,000 MNIST digits).")
    Path images;

    @Option(names = "--labels", paramLabel = "FILE", description = "IDX labels matching --input.")
    Path labels;

    @Option(names = "--test-input", paramLabel = "FILE", description = "IDX test images (e.g. Fashion-MNIST's t10k); with --test-labels, the deep"
            + " autoencoders train on all of --input and are scored on these instead of a 20% split.")
    Path testImages;

    @Option(names = "--test-labels", paramLabel = "FILE", description = "IDX labels matching --test-input.")
    Path testLabels;

    /** The old spelling of --input, kept hidden so scripts keep working. */
    @Option(names = "--images", hidden = true)
    void images(Path file) {
        images = file;
    }

    /** The old spelling of --test-input, kept hidden so scripts keep working. */
    @Option(names = "--test-images", hidden = true)
    void testImages(Path file) {
        testImages = file;
    }

    @Option(names = "--only", split = ",", defaultValue = "self-taught,stacked,deep,deep-belief",
            description = "Experiments to run, of self-taught, stacked, deep, deep-belief (default: ${DEFAULT-VALUE}).")
    List<String> only;

    @Option(names = "--self-taught-iterations", defaultValue = "400",
            description = "L-BFGS iterations of the self-taught sparse autoencoder (default: ${DEFAULT-VALUE}, as UFLDL).")
    int selfTaughtIterations;

    @Option(names = "--deep-epochs", defaultValue = "60",
            description = "Fine-tuning epochs of the deep autoencoder (default: ${DEFAULT-VALUE}).")
    int deepEpochs;

    @Option(names = "--deep-pretrain-epochs", defaultValue = "10",
            description = "Greedy pretraining epochs per layer of the deep autoencoder; 0 starts from random weights (default: ${DEFAULT-VALUE}).")
    int deepPretrainEpochs;

    @Option(names = "--rbm-epochs", defaultValue = "20",
            description = "CD-1 epochs per RBM of the deep-belief pretraining (default: ${DEFAULT-VALUE}; the paper: 50).")
    int rbmEpochs;

    @Option(names = "--deep-belief-epochs", defaultValue = "60",
            description = "Fine-tuning epochs of the RBM-pretrained deep autoencoder (default: ${DEFAULT-VALUE}).")
    int deepBeliefEpochs;

    @Option(names = "--deep-belief-lr", defaultValue = "1e-3",
            description = "Adam learning rate of the RBM-pretrained fine-tuning (default: ${DEFAULT-VALUE}).")
    double deepBeliefLr;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the split and the models (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        for (String o : only) {
            if (!List.of("self-taught", "stacked", "deep", "deep-belief").contains(o)) {
                throw new IllegalArgumentException("--only: unknown experiment '" + o
                        + "'; expected self-taught, stacked, deep or deep-belief");
            }
        }
        if ((images == null) != (labels == null)) {
            throw new IllegalArgumentException("--input and --labels go together");
        }
        if ((testImages == null) != (testLabels == null)) {
            throw new IllegalArgumentException("--test-input and --test-labels go together");
        }
        if (testImages != null && images == null) {
            throw new IllegalArgumentException("--test-input needs --input (the training set)");
        }
        Checks.atLeast("--rbm-epochs", rbmEpochs, 1);
        Checks.atLeast("--deep-belief-epochs", deepBeliefEpochs, 1);
        if (!(deepBeliefLr > 0 && deepBeliefLr < 1)) {
            throw new IllegalArgumentException("--deep-belief-lr must be in (0, 1), got " + deepBeliefLr);
        }
        Checks.atLeast("--self-taught-iterations", selfTaughtIterations, 1);
        Checks.atLeast("--deep-epochs", deepEpochs, 1);
        Checks.atLeast("--deep-pretrain-epochs", deepPretrainEpochs, 0);
        Checks.outputDirectory("--out", out, List.of("anchors.json", "*.png"), images, labels, testImages, testLabels);
        PrintWriter stdout = spec.commandLine().getOut();
        Files.createDirectories(out);
        Kernels k = Kernels.current();
        long t0 = System.nanoTime();
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        ArrayNode rows = root.putArray("anchors");
        PublishedAnchors.Reporter reporter = new Progress();
        try (Dataset all = images == null ? Dataset.embeddedMnist() : Dataset.readIdx(images, labels)) {
            root.put("data", all.name());
            root.put("kernels", k.name());
            if (only.contains("self-taught")) {
                PublishedAnchors.SelfTaughtSettings s = PublishedAnchors.SelfTaughtSettings.ufldl();
                try (PublishedAnchors.SelfTaught r = PublishedAnchors.selfTaught(all, new PublishedAnchors.SelfTaughtSettings(
                        s.hidden(), s.rho(), s.beta(), s.weightDecay(), selfTaughtIterations, s.softmaxWeightDecay(),
                        s.softmaxIterations(), seed), k, reporter)) {
                    String setup = String.format(Locale.ROOT, "%d unlabeled 5-9, %d/%d labeled 0-4 train/test", r.unlabeled(), r.train(), r.test());
                    add(rows, "UFLDL self-taught: softmax on raw pixels, accuracy", "about 96%", 0.96, r.raw(), true, setup);
                    add(rows, "UFLDL self-taught: softmax on sparse-AE features", "about 98%", 0.98, r.features(), true, setup);
                    ImageGrid.filters(out.resolve("self-taught-filters.png"), r.autoencoder().firstEncoder().weight().value(),
                            all.height(), all.width(), 14, 2);
                }
            }
            FewLabel.Split split = testImages == null ? PublishedAnchors.split(all, 0.2, seed) : null;
            try (Dataset train = split == null ? all.subset("train", java.util.stream.IntStream.range(0, all.size()).toArray())
                    : all.subset("train", split.pool());
                 Dataset test = split == null ? Dataset.readIdx(testImages, testLabels) : all.subset("test", split.test())) {
                if (test.features() != train.features()) {
                    throw new IllegalArgumentException("--test-input: images of " + test.features() + " pixels, the training images have "
                            + train.features());
                }
                String setup = String.format(Locale.ROOT, "%d train, %d test", train.size(), test.size());
                if (only.contains("stacked")) {
                    PublishedAnchors.StackedSettings s = PublishedAnchors.StackedSettings.ufldl();
                    PublishedAnchors.Stacked r = PublishedAnchors.stacked(train, test, new PublishedAnchors.StackedSettings(
                            s.hidden(), s.rho(), s.beta(), s.weightDecay(), s.epochs(), s.lr(), s.fineTuneSteps(), seed), k, reporter);
                    add(rows, "UFLDL stacked 784-200-200-10 before fine-tuning", "87.7%", 0.877, r.beforeFineTuning(), true, setup);
                    add(rows, "UFLDL stacked 784-200-200-10 after fine-tuning", "97.6%", 0.976, r.afterFineTuning(), true, setup);
                }
                Double pca = null;
                if (only.contains("deep")) {
                    PublishedAnchors.DeepSettings s = PublishedAnchors.DeepSettings.hinton().withEpochs(deepPretrainEpochs, deepEpochs)
                            .withSeed(seed);
                    long t = System.nanoTime();
                    try (PublishedAnchors.Deep r = PublishedAnchors.deep(train, test, s, k, reporter)) {
                        add(rows, "Hinton 784-1000-500-250-30: squared error per test image", "3.00", 3.00, r.autoencoderError(), false,
                                setup + (deepPretrainEpochs > 0 ? ", greedy AE pretraining" : ", random start") + seconds(t));
                        pca = r.pcaError();
                        writeReconstructions(r, test, "deep-reconstructions.png");
                    }
                }
                if (only.contains("deep-belief")) {
                    PublishedAnchors.DeepSettings s = new PublishedAnchors.DeepSettings(PublishedAnchors.DeepSettings.hinton().hidden(),
                            rbmEpochs, deepBeliefEpochs, deepBeliefLr, PublishedAnchors.DeepSettings.hinton().batch(), seed);
                    long t = System.nanoTime();
                    try (PublishedAnchors.Deep r = PublishedAnchors.deepBelief(train, test, s,
                            DeepBelief.Settings.hinton().withEpochs(rbmEpochs).withSeed(seed), k, reporter, pca == null)) {
                        add(rows, "Hinton 784-1000-500-250-30: squared error per test image", "3.00", 3.00, r.autoencoderError(), false,
                                setup + ", RBM (deep-belief) pretraining" + seconds(t));
                        if (pca == null) {
                            pca = r.pcaError();
                        }
                        writeReconstructions(r, test, "deep-belief-reconstructions.png");
                    }
                }
                if (pca != null) {
                    add(rows, "PCA, 30 components: squared error per test image", "13.87", 13.87, pca, false, setup);
                }
            }
        }
        print(stdout, rows);
        root.put("seconds", (System.nanoTime() - t0) * 1e-9);
        dev.latent.io.AtomicFiles.write(out.resolve("anchors.json"), tmp -> json.writeValue(tmp.toFile(), root));
        stdout.printf(Locale.ROOT, "wrote %s/anchors.json and pictures in %.0f s%n", out, (System.nanoTime() - t0) * 1e-9);
        stdout.flush();
        return 0;
    }

    private static void add(ArrayNode rows, String what, String paper, double paperValue, double latent, boolean accuracy, String setup) {
        ObjectNode o = rows.addObject();
        o.put("anchor", what);
        o.put("published", paper);
        o.put("published_value", paperValue);
        o.put("latent", latent);
        o.put("kind", accuracy ? "accuracy" : "squared_error_per_image");
        o.put("setup", setup);
    }

    private static void print(PrintWriter out, ArrayNode rows) {
        out.printf(Locale.ROOT, "%-60s %-12s %-8s  %s%n", "published anchor (paper: full MNIST)", "paper", "latent", "latent's data");
        for (var r : rows) {
            double v = r.get("latent").asDouble();
            String latent = r.get("kind").asText().equals("accuracy") ? String.format(Locale.ROOT, "%.1f%%", 100 * v)
                    : String.format(Locale.ROOT, "%.2f", v);
            out.printf(Locale.ROOT, "%-60s %-12s %-8s  %s%n", r.get("anchor").asText(), r.get("published").asText(), latent,
                    r.get("setup").asText());
        }
    }

    private static String seconds(long t0) {
        return String.format(Locale.ROOT, ", %.0f s", (System.nanoTime() - t0) * 1e-9);
    }

    private void writeReconstructions(PublishedAnchors.Deep r, Dataset test, String file) throws Exception {
        try (Workspace ws = new Workspace("pictures")) {
            int n = 10;
            Tensor pairs = ws.allocate(2 * n, test.features());
            Tensor recon = ws.allocate(n, test.features());
            r.autoencoder().reconstruct(test.images().rows(0, n), recon);
            for (int i = 0; i < n; i++) {
                pairs.row(i).copyFrom(test.images().row(i));
                pairs.row(n + i).copyFrom(recon.row(i));
            }
            ImageGrid.images(out.resolve(file), pairs, test.height(), test.width(), n, 3);
        }
    }

    /** Epoch lines from {@link ConsoleProgress}; every 25th L-BFGS iteration on stderr. */
    private static final class Progress implements PublishedAnchors.Reporter {
        @Override
        public TrainingListener training(String what) {
            return new ConsoleProgress(what);
        }

        @Override
        public Lbfgs.Progress lbfgs(String what, int iterations) {
            long t0 = System.nanoTime();
            System.err.printf(Locale.ROOT, "%s: L-BFGS, %d iterations%n", what, iterations);
            return (it, value, gradNorm) -> {
                if (it % 25 == 0 || it == iterations) {
                    System.err.printf(Locale.ROOT, "%s: iteration %d/%d  objective %.5f  |g| %.2e  %.0fs%n", what, it, iterations,
                            value, gradNorm, (System.nanoTime() - t0) * 1e-9);
                }
                return true;
            };
        }
    }
}
