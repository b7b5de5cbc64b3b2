package dev.latent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.data.Dataset;
import dev.latent.model.Classifier;
import dev.latent.eval.FewLabel;
import dev.latent.io.BadInputException;
import dev.latent.serve.Encoder;
import dev.latent.io.ModelFile;
import dev.latent.io.SafeTensors;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.model.gan.Gan;
import dev.latent.model.kmeans.KMeansFeatures;
import dev.latent.model.kmeans.KMeansStack;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
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
 * (softmax on raw pixels, an MLP by backprop on the labels alone) and softmax on each model's features,
 * over label budgets and draws; a table on stdout and fewlabel.json.
 *
 * <p>How a model file gives features depends on {@code __metadata__.kind} (see {@link #features}):
 * {@code kmeans}: {@link KMeansStack} quadrant-pooled features of whole images (one or two layers);
 * {@code dcgan}: the discriminator's pooled hidden activations ({@link Gan#discriminatorFeatures},
 * {@code --features gan-d}); every other kind (autoencoder, residual and stacked autoencoders): the
 * {@link Encoder} of the file. All features are z-scored with the pool's column
 * statistics ({@link FewLabel#standardize}), as the demo and the models' own few-label runs do.
 */
@Command(name = "fewlabel", mixinStandardHelpOptions = true,
        description = "Compare classifiers given n labels per class: raw pixels, backprop alone, and features of trained models.")
final class FewLabelCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", description = "A latent model file whose encoder gives features (repeatable).")
    List<Path> models = new ArrayList<>();

    @Option(names = "--features", defaultValue = "auto",
            description = "Which features of the models: auto (by each file's kind), encoder, kmeans or gan-d (default: ${DEFAULT-VALUE}).")
    String features;

    @CommandLine.Mixin
    DataOptions data;

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
        PrintWriter stdout = spec.commandLine().getOut();
        Kernels k = Kernels.current();
        Files.createDirectories(out);
        try (DataOptions.Data sets = data.open(0.2, seed); Workspace ws = new Workspace("fewlabel")) {
            Dataset all = sets.all();
            Dataset pool = sets.pool();
            Dataset test = sets.test();
            List<String> names = new ArrayList<>(List.of("softmax on raw pixels",
                    "MLP " + all.features() + "-" + hidden + "-" + all.classes() + " by backprop on the labels alone"));
            List<Tensor[]> feats = new ArrayList<>();
            for (Path m : models) {
                Features f = features(m, pool, test, k, ws);
                feats.add(new Tensor[] {f.pool(), f.test()});
                names.add("softmax on " + m.getFileName() + " " + f.what() + " (" + f.pool().rowSize() + ")");
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
        }
        return 0;
    }

    /** Features of the pool and test images from one model, and what they are. */
    record Features(Tensor pool, Tensor test, String what) {
    }

    /** Dispatches on the file's kind (or on --features): see the class documentation. */
    Features features(Path model, Dataset pool, Dataset test, Kernels k, Workspace ws) throws java.io.IOException {
        String kind = kindOf(model);
        String want = features.toLowerCase(Locale.ROOT);
        String use = switch (want) {
            case "auto" -> switch (kind) {
                case KMeansFeatures.KIND -> "kmeans";
                case Gan.KIND -> "gan-d";
                // Autoencoders, residual and stacked autoencoders: their files carry an encoder spec.
                default -> "encoder";
            };
            case "encoder", "kmeans", "gan-d" -> want;
            default -> throw new IllegalArgumentException("--features must be auto, encoder, kmeans or gan-d, got '" + features + "'");
        };
        if (use.equals("gan-d") && !kind.equals(Gan.KIND) || use.equals("kmeans") && !kind.equals(KMeansFeatures.KIND)) {
            throw new BadInputException(model + ": --features " + use + " needs a " + (use.equals("gan-d") ? Gan.KIND : KMeansFeatures.KIND)
                    + " model file, but __metadata__.kind is " + kind);
        }
        switch (use) {
            case "kmeans" -> {
                try (KMeansStack f = KMeansStack.load(model, k)) {
                    if (f.first().config().channels() != 1) {
                        throw new BadInputException(model + ": k-means on " + f.first().config().channels()
                                + "-channel patches cannot read the grey images of " + pool.name());
                    }
                    if (pool.height() < f.first().config().patch() || pool.width() < f.first().config().patch()) {
                        throw new BadInputException(model + ": " + f.first().config().patch() + "-pixel patches do not fit "
                                + pool.height() + "x" + pool.width() + " images");
                    }
                    Tensor p = f.features(pool.images(), pool.height(), pool.width(), ws);
                    Tensor t = f.features(test.images(), test.height(), test.width(), ws);
                    FewLabel.standardize(p, t);
                    return new Features(p, t, "k-means features (" + f.layers() + " layer" + (f.layers() == 2 ? "s" : "") + ")");
                }
            }
            case "gan-d" -> {
                try (Gan g = Gan.load(model, k)) {
                    Gan.Config c = g.config();
                    if (c.channels() != 1 || c.size() != pool.height() || c.size() != pool.width()) {
                        throw new BadInputException(model + ": the discriminator reads " + c.channels() + "x" + c.size() + "x" + c.size()
                                + " images, the data are 1x" + pool.height() + "x" + pool.width());
                    }
                    Tensor p = g.discriminatorFeatures(pool.images(), ws);
                    Tensor t = g.discriminatorFeatures(test.images(), ws);
                    FewLabel.standardize(p, t);
                    return new Features(p, t, "D features (gan-d)");
                }
            }
            default -> {
                try (Encoder enc = Encoder.load(model, k)) {
                    if (enc.inputSize() != pool.features()) {
                        throw new BadInputException(model + ": the encoder takes " + enc.inputSize() + " inputs, the images have "
                                + pool.features() + " pixels");
                    }
                    Tensor p = ws.allocate(pool.size(), enc.codeSize());
                    Tensor t = ws.allocate(test.size(), enc.codeSize());
                    enc.encode(pool.images(), p);
                    enc.encode(test.images(), t);
                    FewLabel.standardize(p, t);
                    return new Features(p, t, "features");
                }
            }
        }
    }

    /** {@code __metadata__.kind} of a latent model file (format and version checked). */
    static String kindOf(Path model) throws java.io.IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.Loaded l = SafeTensors.read(model, arena);
            ModelFile.requireKind(l, null);
            return l.meta("kind");
        }
    }
}
