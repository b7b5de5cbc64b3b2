package dev.latent.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code latent} command. Subcommands print results to stdout and diagnostics to stderr; a bad
 * argument or bad input file is one line on stderr and exit code 2, a failure exit code 1.
 */
@Command(name = "latent", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Unsupervised feature learning on the JVM.",
        // bench is the bench module's (it carries the peers, such as ONNX Runtime); ./latent dispatches to it.
        footer = {"", "  bench gemm|train|encode|gan|kmeans [--json]",
                "          Benchmarks beside their peers (./latent bench --help)."},
        subcommands = {DemoCommand.class, AnchorsCommand.class, TrainCommand.class, FewLabelCommand.class, EncodeCommand.class, ExportCommand.class, InfoCommand.class, ReportCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (for tests). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        // the keys are declared in code (each kind's Hyperparameters), so the footer cannot be an annotation constant
        cl.getSubcommands().get("train").getCommandSpec().usageMessage().footer(TrainCommand.keysHelp()).width(150);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            boolean badInput = ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                    || ex instanceof java.io.IOException;
            commandLine.getErr().println("latent " + commandLine.getCommandName() + ": " + message(ex));
            if (Boolean.getBoolean("latent.debug")) {
                ex.printStackTrace(commandLine.getErr());
            }
            return badInput ? 2 : 1;
        });
        return cl.execute(args);
    }

    private static String message(Throwable ex) {
        String m = ex.getMessage();
        return m == null || m.isBlank() ? ex.toString() : m;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The version from the jar manifest, or "dev" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"latent " + version()};
        }
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-SNAPSHOT" : v;
    }
}
