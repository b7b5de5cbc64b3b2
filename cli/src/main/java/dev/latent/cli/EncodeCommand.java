package dev.latent.cli;

import dev.latent.data.Dataset;
import dev.latent.serve.Encoder;
import dev.latent.io.ModelFile;
import dev.latent.io.SafeTensors;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.BufferedWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latent encode}: the codes (features, through the {@link Encoder}) of every image of a data set
 * under a trained model of any kind, written as
 * safetensors (tensor "codes" (N, m), plus "labels" when the data has them) or CSV (a header row
 * {@code label,f0,...,f(m-1)}, then one row per image; the label first when known). Output is written to a temporary file and renamed.
 */
@Command(name = "encode", mixinStandardHelpOptions = true,
        description = {"Write the embeddings (codes) of a data set under a trained model.",
                "Writes one file, --output: safetensors (tensors codes, N x m, and labels when known), or CSV with --csv."})
final class EncodeCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "FILE", required = true, description = "A latent model file (model.safetensors).")
    Path model;

    @Option(names = "--input", paramLabel = "FILE", description = "IDX image file (default: the embedded 10,000 MNIST digits).")
    Path input;

    @Option(names = "--labels", paramLabel = "FILE", description = "IDX label file for --input (optional).")
    Path labels;

    @Option(names = "--output", paramLabel = "FILE", required = true, description = "Output file (.safetensors, or .csv with --csv).")
    Path output;

    @Option(names = "--csv", description = "Write CSV instead of safetensors.")
    boolean csv;

    @Option(names = "--allow-non-finite", description = "Pass NaN and infinity through instead of rejecting them.")
    boolean allowNonFinite;

    @Option(names = "--force", description = "Write --output even over a latent model file.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        Checks.outputFile("--output", output, model, input, labels);
        Checks.notOverAModel("--output", output, force);
        PrintWriter out = spec.commandLine().getOut();
        long t0 = System.nanoTime();
        try (Encoder base = Encoder.load(model); Dataset data = input == null ? Dataset.embeddedMnist() : Dataset.readIdx(input, labels);
             Workspace ws = new Workspace("encode")) {
            Encoder enc = allowNonFinite ? base.allowNonFinite() : base;
            if (data.features() != enc.inputSize()) {
                throw new dev.latent.io.BadInputException(data.name() + ": images have " + data.features() + " pixels but " + model
                        + " encodes rows of " + enc.inputSize());
            }
            Tensor codes = ws.allocate(data.size(), enc.codeSize());
            enc.encode(data.images(), codes);
            Path parent = output.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            if (csv) {
                dev.latent.io.AtomicFiles.write(output, tmp -> {
                    try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                        // Header row: label (when known), then f0 .. f{m-1}.
                        StringBuilder head = new StringBuilder(data.hasLabels() ? "label" : "");
                        for (int j = 0; j < enc.codeSize(); j++) {
                            head.append(head.isEmpty() ? "" : ",").append('f').append(j);
                        }
                        w.write(head.toString());
                        w.newLine();
                        for (int i = 0; i < data.size(); i++) {
                            StringBuilder sb = new StringBuilder();
                            if (data.hasLabels()) {
                                sb.append(data.label(i)).append(',');
                            }
                            for (int j = 0; j < enc.codeSize(); j++) {
                                if (j > 0) {
                                    sb.append(',');
                                }
                                sb.append(codes.get((long) i * enc.codeSize() + j));
                            }
                            w.write(sb.toString());
                            w.newLine();
                        }
                    }
                });
            } else {
                Map<String, Tensor> tensors = new LinkedHashMap<>();
                tensors.put("codes", codes);
                if (data.hasLabels()) {
                    Tensor lab = ws.allocate(data.size());
                    for (int i = 0; i < data.size(); i++) {
                        lab.set(i, data.label(i));
                    }
                    tensors.put("labels", lab);
                }
                SafeTensors.write(output, tensors, Map.of("model_sha256", ModelFile.sha256(model), "data", data.name()));
            }
            out.printf(Locale.ROOT, "encoded %d images of %s into %d-dimensional codes in %.2f s: %s%n", data.size(), data.name(),
                    enc.codeSize(), (System.nanoTime() - t0) * 1e-9, output);
        }
        return 0;
    }
}
