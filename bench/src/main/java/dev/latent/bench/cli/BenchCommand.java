package dev.latent.bench.cli;

import java.io.IOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code latent bench ...}: short benchmarks of the standard workloads beside their peers, printing a
 * table (or JSON lines with {@code --json}). ./latent runs this class from the bench module, so the
 * CLI's jar carries no peer. Exit codes: 0; 1 when a result check failed (WRONG in the table) or a
 * benchmark failed; 2 for a bad argument or input.
 */
@Command(name = "latent bench", mixinStandardHelpOptions = true, versionProvider = BenchCommand.Version.class,
        description = "Short benchmarks beside OpenBLAS, PyTorch, ONNX Runtime and scikit-learn; the rigorous versions are the JMH benchmarks in bench/.",
        subcommands = {GemmCommand.class, TrainCommand.class, EncodeCommand.class, GanCommand.class, KMeansCommand.class})
public final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        CommandLine cl = new CommandLine(new BenchCommand());
        cl.getSubcommands().values().forEach(sub -> sub.getCommandSpec().versionProvider(new Version()));
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            String m = ex.getMessage() == null || ex.getMessage().isBlank() ? ex.toString() : ex.getMessage();
            commandLine.getErr().println(commandLine.getCommandSpec().qualifiedName() + ": " + m);
            if (Boolean.getBoolean("latent.debug")) {
                ex.printStackTrace(commandLine.getErr());
            }
            boolean badInput = ex instanceof IllegalArgumentException || ex instanceof IOException; // BadInputException is one
            return badInput ? 2 : 1;
        });
        return cl.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code -V}: latent's version ({@link dev.latent.io.LatentVersion}). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"latent " + dev.latent.io.LatentVersion.get()};
        }
    }
}
