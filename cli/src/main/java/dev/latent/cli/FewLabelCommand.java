package dev.latent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.data.Dataset;
import dev.latent.eval.FewLabel;
import dev.latent.io.BadInputException;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.model.Classifier;
import dev.latent.model.FeatureExtractor;
import dev.latent.serve.ModelKinds;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latent fewlabel}: the few-label protocol ({@link FewLabel}) for the features of trained model
 * files of any kind, read through the feature interface ({@link ModelKinds#load}: the file's kind
 * decides what its features are). Baselines (softmax on raw pixels, an MLP by backprop on the labels
 * alone, and with {@code --joint} the same MLP trained on a joint loss with a decoder,
 * {@link FewLabel#joint}) and softmax on each model's standardized features, over label budgets and
 * draws; the table on stdout and fewlabel.json.
 */
@Command(name = "fewlabel", mixinStandardHelpOptions = true,
        description = {"Compare classifiers given n labels per class: raw pixels, backprop alone, and features of trained models.",
                "Prints the table; writes fewlabel.json and report.html to --out."})
final class FewLabelCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "FILE", description = "A latent model file of any kind whose features are scored (repeatable).")
    List<Path> models = new ArrayList<>();

    @CommandLine.Mixin
    DataOptions data;

    @Option(names = "--budgets", split = ",", defaultValue = "1,10,100", description = "Labels per class (default: ${DEFAULT-VALUE}).")
    List<Integer> budgets;

    @Option(names = "--draws", defaultValue = "5", description = "Draws per budget (default: ${DEFAULT-VALUE}).")
    int draws;

    @Option(names = "--mlp-hidden", paramLabel = "N", defaultValue = "196",
            description = "Hidden units of the MLP baseline trained by backprop on the labels alone (default: ${DEFAULT-VALUE}).")
    int hidden;

    /** The old name of --mlp-hidden: refused, since --hidden is a code size in every other command. */
    @Option(names = "--hidden", hidden = true)
    void hidden(int units) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--hidden is now --mlp-hidden in fewlabel (the MLP baseline's width;"
                + " --hidden is a code size in the other commands)");
    }

    @Option(names = "--joint", description = {"Add the row 'joint loss (MLP + decoder)': the same MLP with a decoder from its hidden layer,"
            + " cross-entropy on the labels + w x reconstruction error on the labelled and unlabeled pool images, w cross-validated"
            + " from 10, 1, 0.1 on the labels alone. Off by default: about 10 more fits of 400 steps a draw."})
    boolean joint;

    @Option(names = "--seed", defaultValue = "1", description = "Split seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "out", description = "Output directory: fewlabel.json and report.html (default: ${DEFAULT-VALUE}).")
    Path out;

    @Override
    public Integer call() throws Exception {
        Checks.allAtLeast("--budgets", budgets, 1);
        Checks.atLeast("--draws", draws, 1);
        Checks.atLeast("--mlp-hidden", hidden, 1);
        data.check("--out", out, List.of("fewlabel.json", Report.FILE), models.toArray(Path[]::new));
        for (Path m : models) {
            if (!Files.isRegularFile(m)) {
                throw new BadInputException("--model " + m + (Files.isDirectory(m) ? ": is a directory, not a model file" : ": no such file"));
            }
        }
        PrintWriter stdout = spec.commandLine().getOut();
        Kernels k = Kernels.current();
        Files.createDirectories(out);
        try (DataOptions.Data sets = data.open(0.2, seed); Workspace ws = new Workspace("fewlabel")) {
            Dataset all = sets.all();
            Dataset pool = sets.pool();
            Dataset test = sets.test();
            int classes = all.classes();
            int[] testLabels = test.labels();
            List<FewLabel.Row> rows = new ArrayList<>();
            rows.add(new FewLabel.Row("softmax on raw pixels", "raw",
                    FewLabel.pixels(pool.images(), test.images(), testLabels, classes, k, ws)));
            rows.add(new FewLabel.Row("MLP " + all.features() + "-" + hidden + "-" + classes + " by backprop on the labels alone", "bp",
                    FewLabel.mlp(pool.images(), test.images(), testLabels, classes, Classifier.Settings.mlp(hidden, Activation.SIGMOID), k)));
            if (joint) {
                rows.add(new FewLabel.Row("joint loss (MLP + decoder)", "joint",
                        FewLabel.joint(pool.images(), test.images(), testLabels, classes, Classifier.Settings.mlp(hidden, Activation.SIGMOID), k)));
            }
            for (Path m : models) {
                try (FeatureExtractor f = ModelKinds.load(m, k)) {
                    if (f.inputSize() != pool.features()) {
                        throw new BadInputException(m + ": the " + f.kind() + " model reads inputs of shape " + Tensor.format(f.inputShape())
                                + ", the images of " + all.name() + " are " + pool.height() + "x" + pool.width() + " (" + pool.features() + " values)");
                    }
                    rows.add(new FewLabel.Row("softmax on " + m.getFileName() + " " + f.kind() + " features (" + f.featureSize() + ")",
                            String.valueOf(m.getFileName()), FewLabel.frozen(f, pool.images(), test.images(), testLabels, classes, k, ws)));
                }
            }
            List<FewLabel.Result> results = FewLabel.run(pool.labels(), budgets.stream().mapToInt(Integer::intValue).toArray(), draws,
                    rows, line -> System.err.println("fewlabel: " + line));
            FewLabel.printTable(stdout, Checks.finite(results));
            ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ObjectNode root = json.createObjectNode();
            root.set("methods", FewLabel.json(results));
            root.put("data", all.name());
            root.put("pool", pool.size());
            root.put("test", test.size());
            dev.latent.io.AtomicFiles.write(out.resolve("fewlabel.json"), tmp -> json.writeValue(tmp.toFile(), root));
            stdout.println("wrote " + out.resolve("fewlabel.json") + " and " + Report.write(out));
        }
        return 0;
    }
}
