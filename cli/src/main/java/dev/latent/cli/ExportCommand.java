package dev.latent.cli;

import dev.latent.onnx.OnnxExport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latent export --model M --output F} ({@code --onnx} optional: ONNX is the only format): the
 * features of a latent model file of any kind as an ONNX graph (input "x" (batch, n), output "code"
 * (batch, m); see {@link OnnxExport}), written atomically. A kind whose features cannot be written as
 * a graph is refused with one line saying why (exit 2). ONNX is the only export format so far; the
 * flag names it so that others can join without changing what an existing command line means.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Export a trained model's features (any kind: autoencoders, stacked, conv, self-supervised, k-means, "
                + "Hebbian, RBM, DCGAN discriminator) to ONNX, computing what latent encode computes.")
final class ExportCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--onnx", defaultValue = "true",
            description = "Write ONNX (opset 13). The only format, so the default; kept for old scripts.")
    boolean onnx;

    @Option(names = "--model", paramLabel = "FILE", required = true, description = "A latent model file (model.safetensors).")
    Path model;

    @Option(names = "--output", paramLabel = "FILE", required = true, description = "The ONNX file to write (e.g. encoder.onnx).")
    Path output;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(model)) {
            throw new IllegalArgumentException(model + (Files.isDirectory(model) ? ": is a directory, not a model file" : ": no such model file"));
        }
        Checks.outputFile("--output", output, model);
        OnnxExport.write(model, output);
        spec.commandLine().getOut().printf("exported the features of %s to %s (%d bytes, ONNX opset 13; input '%s', output '%s')%n",
                model, output, Files.size(output), OnnxExport.INPUT, OnnxExport.OUTPUT);
        return 0;
    }
}
