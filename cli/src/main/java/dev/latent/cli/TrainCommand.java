package dev.latent.cli;

import dev.latent.data.Dataset;
import dev.latent.nn.Corruption;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code latent train --model KIND ...}: trains one model kind on a data set and writes its model file. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a model on unlabeled data and write it to --out.",
                "Kinds: see --model; model-specific hyperparameters go in --set key=value."})
final class TrainCommand implements Callable<Integer> {

    /** Every model kind; a new kind is one more entry. */
    static final List<TrainJob> JOBS = List.of(new AutoencoderJob(), new ConvAutoencoderJob(), new ResidualAutoencoderJob(),
            new StackedJob(), new GanJob(), new KMeansJob(), new HebbianJob());

    /** The options every kind reads. */
    record Options(String model, Path images, Path labels, Path out, int epochs, int batch, double lr, long seed,
                   boolean resume, Map<String, String> set, Corruption denoise) {

        /** The embedded digits unless --images/--labels were given. */
        Dataset data() throws java.io.IOException {
            return images == null ? Dataset.embeddedMnist() : Dataset.readIdx(images, labels);
        }

        String get(String key, String def) {
            return set.getOrDefault(key, def);
        }

        double getDouble(String key, double def) {
            String v = set.get(key);
            try {
                return v == null ? def : Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--set " + key + "=" + v + ": not a number");
            }
        }

        int getInt(String key, int def) {
            String v = set.get(key);
            try {
                return v == null ? def : Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--set " + key + "=" + v + ": not an integer");
            }
        }
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, description = "Model kind: ${COMPLETION-CANDIDATES}.",
            completionCandidates = Kinds.class)
    String model;

    @Option(names = "--images", description = "IDX image file (default: the embedded 10,000 MNIST digits).")
    Path images;

    @Option(names = "--labels", description = "IDX label file (optional).")
    Path labels;

    @Option(names = "--out", defaultValue = "out", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--epochs", defaultValue = "20", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch", defaultValue = "128", description = "Mini-batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr", defaultValue = "3e-3", description = "Learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--seed", defaultValue = "1", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--resume", description = "Continue from --out's checkpoint.safetensors if there is one.")
    boolean resume;

    @Option(names = "--denoise", paramLabel = "KIND:AMOUNT", converter = CorruptionConverter.class,
            description = "Denoising (autoencoder kinds): corrupt the training input with masking:FRACTION (e.g. masking:0.3)"
                    + " or gaussian:SIGMA (e.g. gaussian:0.1); the loss target stays the clean input.")
    Corruption denoise;

    static final class CorruptionConverter implements CommandLine.ITypeConverter<Corruption> {
        @Override
        public Corruption convert(String value) {
            try {
                return Corruption.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("--denoise " + e.getMessage());
            }
        }
    }

    @Option(names = "--layers", description = "Layers of a stacked model (k-means: 1 or 2); the same as --set layers=N.")
    Integer layers;

    @Option(names = "--set", description = "Model hyperparameter key=value (repeatable).")
    Map<String, String> set = new LinkedHashMap<>();

    static final class Kinds implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return JOBS.stream().map(TrainJob::name).iterator();
        }
    }

    @Override
    public Integer call() throws Exception {
        TrainJob job = JOBS.stream().filter(j -> j.name().equals(model)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown --model '" + model + "'; known: "
                        + JOBS.stream().map(TrainJob::name).collect(Collectors.joining(", "))));
        if (denoise != null && !job.denoises()) {
            throw new IllegalArgumentException("--denoise applies to autoencoder kinds, not --model " + model);
        }
        if ((images == null) && labels != null) {
            throw new IllegalArgumentException("--labels needs --images");
        }
        if (layers != null) {
            set.put("layers", Integer.toString(layers));
        }
        PrintWriter pw = spec.commandLine().getOut();
        int code = job.run(new Options(model, images, labels, out, epochs, batch, lr, seed, resume, Map.copyOf(set), denoise), pw);
        pw.flush();
        return code;
    }
}
