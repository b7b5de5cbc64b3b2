package dev.latent.cli;

import dev.latent.data.Dataset;
import dev.latent.model.Hyperparameters;
import dev.latent.model.selfsup.SelfSupervised.Pretext;
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

/** {@code latent train --kind KIND ...}: trains one model kind on a data set and writes its model file. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a model on unlabeled data and write it to --out: model.safetensors, report.html and the kind's files listed"
                + " below (files named as those and as checkpoint.safetensors, *.json and *.png in --out are replaced).",
                "Kinds: see --kind (--model KIND, the old spelling, still works); model-specific hyperparameters go in --set key=value."})
final class TrainCommand implements Callable<Integer> {

    /** Every model kind; a new kind is one more entry. */
    static final List<TrainJob> JOBS = List.of(new AutoencoderJob(), new ConvAutoencoderJob(), new ResidualAutoencoderJob(),
            new StackedJob(), new GanJob(), new KMeansJob(), new HebbianJob(), new RbmJob(),
            new SelfSupervisedJob(Pretext.CONTRASTIVE), new SelfSupervisedJob(Pretext.EXEMPLAR), new SelfSupervisedJob(Pretext.PATCH_POSITION));

    /** The options every kind reads; {@code set} holds its {@code --set} values, checked against its keys. */
    record Options(String model, Path images, Path labels, Path out, int epochs, int batch, double lr, long seed,
                   boolean resume, Hyperparameters.Values set) {

        /** The embedded digits unless --input/--labels were given. */
        Dataset data() throws java.io.IOException {
            return DataOptions.nonEmpty(images == null ? Dataset.embeddedMnist() : Dataset.readIdx(images, labels), "--input", images);
        }

        /** The value of {@code --set key=...}, or the key's declared default. */
        <T> T get(Hyperparameters.Param<T> p) {
            return set.get(p);
        }

        /** Whether {@code --set} gave the key (for defaults that depend on other keys). */
        boolean given(Hyperparameters.Param<?> p) {
            return set.given(p);
        }
    }

    /** Every kind's {@code --set} keys with types, ranges and defaults: the footer of {@code train --help}. */
    static String keysHelp() {
        StringBuilder b = new StringBuilder("%n--set keys of each --kind (key=default, type, range, what it is), and the files it writes:%n");
        for (TrainJob j : JOBS) {
            b.append("%n").append(j.name()).append(" (").append(j.description()).append("):%n");
            b.append("  writes ").append(String.join(", ", j.writes()).replace("%", "%%")).append("%n");
            for (String line : j.hyperparameters().help().split("\n")) {
                b.append("  ").append(line.replace("%", "%%")).append("%n");
            }
        }
        return b.toString();
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--kind", paramLabel = "KIND", description = "Model kind (required): ${COMPLETION-CANDIDATES}.",
            completionCandidates = Kinds.class)
    String model;

    @Option(names = "--input", paramLabel = "FILE", description = "IDX image file (default: the embedded 10,000 MNIST digits).")
    Path images;

    @Option(names = "--labels", paramLabel = "FILE", description = "IDX label file matching --input (optional).")
    Path labels;

    /** The old spelling of --kind: train reads no model file, so --model can only name a kind here. */
    @Option(names = "--model", hidden = true)
    void model(String kind) {
        model = kind;
    }

    /** The old spelling of --input, kept hidden so scripts keep working. */
    @Option(names = "--images", hidden = true)
    void images(Path file) {
        images = file;
    }

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "out", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "20", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "128", description = "Mini-batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr", paramLabel = "RATE", defaultValue = "3e-3", description = "Learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--resume", description = "Continue from --out's checkpoint.safetensors if there is one.")
    boolean resume;

    @Option(names = "--force", description = "Replace --out's model.safetensors even when it holds a model of another kind"
            + " (or a file that is not a latent model).")
    boolean force;

    @Option(names = "--denoise", paramLabel = "NOISE:AMOUNT", converter = CorruptionConverter.class,
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

    @Option(names = "--layers", paramLabel = "N", description = "Layers of a stacked model (k-means: 1 or 2); the same as --set layers=N.")
    Integer layers;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Model hyperparameter key=value (repeatable); the keys of each kind are listed below.")
    Map<String, String> set = new LinkedHashMap<>();

    static final class Kinds implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return JOBS.stream().map(TrainJob::name).iterator();
        }
    }

    @Override
    public Integer call() throws Exception {
        if (model == null) {
            throw new IllegalArgumentException("--kind is required: one of " + JOBS.stream().map(TrainJob::name).collect(Collectors.joining(", ")));
        }
        Checks.atLeast("--epochs", epochs, 1);
        Checks.atLeast("--batch", batch, 1);
        Checks.positive("--lr", lr);
        if (layers != null) {
            Checks.atLeast("--layers", layers, 1);
        }
        Checks.outputDirectory("--out", out, Checks.TRAIN_WRITES, images, labels);
        if (resume) {
            requireEpochsLeft(out.resolve("checkpoint.safetensors"), epochs);
        }
        TrainJob job = JOBS.stream().filter(j -> j.name().equals(model)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown --kind '" + model + "'; known: "
                        + JOBS.stream().map(TrainJob::name).collect(Collectors.joining(", "))));
        Checks.replacesOnlyItsKind("--out", out.resolve("model.safetensors"), job.kind(), force);
        if (resume && !job.checkpoints()) {
            throw new IllegalArgumentException("--resume: --kind " + model + " keeps no checkpoint to resume from (kinds that do: "
                    + JOBS.stream().filter(TrainJob::checkpoints).map(TrainJob::name).collect(Collectors.joining(", ")) + ")");
        }
        if (job.checkpoints()) {
            Interruption.checkpointsTo(out.resolve("checkpoint.safetensors"), resume);
        }
        if (denoise != null && !job.denoises()) {
            throw new IllegalArgumentException("--denoise applies to autoencoder kinds, not --kind " + model);
        }
        if ((images == null) && labels != null) {
            throw new IllegalArgumentException("--labels needs --input");
        }
        Map<String, String> keys = new LinkedHashMap<>(set);
        if (layers != null) {
            keys.put("layers", Integer.toString(layers));
        }
        if (denoise != null) {
            keys.put("denoising", denoise.toString());
        }
        Hyperparameters.Values values = job.hyperparameters().parse(keys, "--kind " + model + " --set");
        PrintWriter pw = spec.commandLine().getOut();
        int code = job.run(new Options(model, images, labels, out, epochs, batch, lr, seed, resume, values), pw);
        if (code == 0) {
            pw.println("wrote " + Report.write(out));
        }
        pw.flush();
        return code;
    }

    /**
     * Refuses a --resume with nothing left to train (a finished run resumed with the same --epochs), naming
     * the checkpoint and the fix, before any work; no checkpoint (or one without an epoch) starts afresh.
     */
    static void requireEpochsLeft(Path checkpoint, int epochs) throws java.io.IOException {
        if (!java.nio.file.Files.isRegularFile(checkpoint)) {
            return;
        }
        String epoch;
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            epoch = dev.latent.io.SafeTensors.read(checkpoint, a).metadata().get("epoch");
        }
        if (epoch == null) {
            return;
        }
        int done;
        try {
            done = Integer.parseInt(epoch.trim());
        } catch (NumberFormatException e) {
            throw new dev.latent.io.BadInputException(checkpoint + ": __metadata__.epoch '" + epoch + "' is not a whole number");
        }
        if (done >= epochs) {
            throw new dev.latent.io.BadInputException(checkpoint + ": the checkpoint has " + done + " epoch" + (done == 1 ? "" : "s")
                    + " done, so --resume with --epochs " + epochs + " has nothing left to train; raise --epochs above " + done
                    + " to continue, or drop --resume to start again");
        }
    }
}
