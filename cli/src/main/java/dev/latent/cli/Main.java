package dev.latent.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code latent} command. Subcommands print results to stdout and diagnostics to stderr. Every
 * failure is one line on stderr, {@code latent COMMAND: what is wrong}, and an exit code:
 * {@value #EXIT_BAD_INPUT} for bad input (a bad option or value, a corrupt or missing file, a request
 * larger than the memory available), {@value #EXIT_INTERNAL} for an internal error (a bug: the line
 * names the exception). The stack trace follows only with {@code --debug} (anywhere on the command
 * line), {@code LATENT_DEBUG=1} or {@code -Dlatent.debug=true}. A run stopped by SIGINT or SIGTERM prints
 * one line saying where it stopped and how to resume ({@link Interruption}).
 */
@Command(name = "latent", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Unsupervised feature learning on the JVM.",
        // bench is the bench module's (it carries the peers, such as ONNX Runtime); ./latent dispatches to it.
        footer = {"", "  bench gemm|train|encode|gan|kmeans [--json]",
                "          Benchmarks beside their peers (./latent bench --help).",
                "  spark encode|kmeans|train --master local[2] --input ... --output ...",
                "          latent's Spark ML stages on an embedded or cluster Spark (./latent spark --help)."},
        subcommands = {DemoCommand.class, TourCommand.class, AnchorsCommand.class, FramesCommand.class, TrainCommand.class, FewLabelCommand.class, EncodeCommand.class, ExportCommand.class, InfoCommand.class, ReportCommand.class, WarmUpCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Exit code of bad input: an option, a value, a file, or a request too large for this JVM. */
    public static final int EXIT_BAD_INPUT = 2;
    /** Exit code of an internal error (a bug in latent). */
    public static final int EXIT_INTERNAL = 3;

    /** Whether this run asked for stack traces ({@code --debug}, ...): commands that report a failure and go on print theirs too. */
    static volatile boolean debugging;

    public static void main(String[] args) {
        Interruption.install(args);
        int code = run(args);
        Interruption.finished();
        System.exit(code);
    }

    /** Runs the command line and returns the exit code (for tests). */
    public static int run(String... args) {
        List<String> rest = new ArrayList<>(Arrays.asList(args));
        boolean debug = rest.remove("--debug") | debugFromEnvironment();
        debugging = debug;
        try {
            CommandLine cl = new CommandLine(new Main());
            // the keys are declared in code (each kind's Hyperparameters), so the footer cannot be an annotation constant
            cl.getSubcommands().get("train").getCommandSpec().usageMessage().footer(TrainCommand.keysHelp()).width(150);
            cl.getSubcommands().values().forEach(sub -> sub.getCommandSpec().versionProvider(new Version())); // -V everywhere
            cl.setParameterExceptionHandler((ex, strings) -> {
                CommandLine c = ex.getCommandLine();
                StringBuilder line = new StringBuilder(oneLine(ex.getMessage()));
                List<String> fixes = new ArrayList<>();
                if (ex instanceof CommandLine.UnmatchedArgumentException u) {
                    fixes.addAll(u.getSuggestions());
                }
                if (!fixes.isEmpty()) {
                    line.append(" (did you mean ").append(String.join(" or ", fixes)).append("?)");
                }
                line.append(" (").append(c.getCommandSpec().qualifiedName()).append(" --help lists the options)");
                c.getErr().println(prefix(c) + line);
                c.getErr().flush();
                return EXIT_BAD_INPUT;
            });
            cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> report(ex, commandLine.getErr(), prefix(commandLine), debug));
            // picocli hands only Exceptions to the handler above; an Error (OutOfMemoryError, an error in a
            // static initializer) would escape it with a stack trace
            cl.setExecutionStrategy(parseResult -> {
                try {
                    return new CommandLine.RunLast().execute(parseResult);
                } catch (Error e) {
                    List<CommandLine> path = parseResult.asCommandLineList();
                    CommandLine last = path.get(path.size() - 1);
                    return report(e, last.getErr(), prefix(last), debug);
                }
            });
            return cl.execute(rest.toArray(String[]::new));
        } catch (Throwable t) {
            // a failure outside a command (building the command line itself): still one line
            PrintWriter err = new PrintWriter(System.err, true);
            return report(t, err, "latent: ", debug);
        }
    }

    private static boolean debugFromEnvironment() {
        String env = System.getenv("LATENT_DEBUG");
        return Boolean.getBoolean("latent.debug") || (env != null && !env.isBlank() && !env.equals("0")
                && !env.equalsIgnoreCase("false"));
    }

    private static String prefix(CommandLine c) {
        return c.getCommandSpec().qualifiedName() + ": ";
    }

    /**
     * Prints one line for {@code ex} and returns its exit code. Bad input: {@link IllegalArgumentException}
     * (and so {@link dev.latent.io.BadInputException}), {@link IllegalStateException} (a configuration that
     * cannot run here), I/O errors (which name the file), a request larger than the memory; anything else is
     * internal and the line names the exception. Wrappers (an error in a static initializer, an unchecked
     * I/O error) are unwrapped to their cause.
     */
    static int report(Throwable ex, PrintWriter err, String prefix, boolean debug) {
        Failure f = describe(ex, debug);
        err.println(prefix + f.line());
        if (debug) {
            ex.printStackTrace(err);
        }
        err.flush();
        return f.code();
    }

    /** What {@link #report} prints for a failure (without the command's prefix), and its exit code. */
    record Failure(int code, String line) {
    }

    /** The exit code and the one line of {@code ex}, as {@link #report} classifies it. */
    static Failure describe(Throwable ex, boolean debug) {
        Throwable cause = unwrap(ex);
        int code;
        String line;
        if (cause instanceof OutOfMemoryError oom) {
            code = EXIT_BAD_INPUT;
            Runtime rt = Runtime.getRuntime();
            String m = message(oom);
            boolean heap = m.contains("Java heap") || m.contains("array size") || m.contains("GC overhead");
            line = "out of memory: " + oneLine(m) + (heap ? String.format(Locale.ROOT,
                    " (Java heap limit %d MiB, %d MiB in use; give the JVM more with LATENT_JAVA_OPTS=-Xmx..., or ask for a"
                            + " smaller model or batch)", rt.maxMemory() >> 20, (rt.totalMemory() - rt.freeMemory()) >> 20) : "");
        } else if (cause instanceof IllegalArgumentException || cause instanceof IllegalStateException
                || cause instanceof IOException || cause instanceof UnsupportedOperationException) {
            code = EXIT_BAD_INPUT;
            line = oneLine(ioMessage(cause));
        } else {
            code = EXIT_INTERNAL;
            line = "internal error: " + cause.getClass().getName() + (cause.getMessage() == null ? "" : ": " + oneLine(cause.getMessage()))
                    + (debug ? "" : " (a bug in latent; rerun with --debug or LATENT_DEBUG=1 for the stack trace)");
        }
        return new Failure(code, line);
    }

    private static Throwable unwrap(Throwable ex) {
        Throwable t = ex;
        while (t.getCause() != null && (t instanceof ExceptionInInitializerError || t instanceof UncheckedIOException
                || t instanceof CommandLine.ExecutionException || t instanceof java.util.concurrent.ExecutionException
                || t instanceof java.util.concurrent.CompletionException
                || t instanceof java.lang.reflect.InvocationTargetException)) {
            t = t.getCause();
        }
        return t;
    }

    /** I/O exceptions often carry only the path (NoSuchFileException: "out/x"): say what happened to it. */
    private static String ioMessage(Throwable t) {
        String m = message(t);
        if (t instanceof java.nio.file.NoSuchFileException e) {
            return e.getFile() + ": no such file or directory" + (e.getReason() == null ? "" : " (" + e.getReason() + ")");
        }
        if (t instanceof java.nio.file.AccessDeniedException e) {
            return e.getFile() + ": permission denied";
        }
        if (t instanceof java.nio.file.FileAlreadyExistsException e) {
            return e.getFile() + ": already exists (and is not a directory?)";
        }
        if (t instanceof java.nio.file.NotDirectoryException e) {
            return e.getFile() + ": not a directory";
        }
        if (t instanceof java.nio.file.FileSystemException e && e.getFile() != null && !m.contains(e.getFile())) {
            return e.getFile() + ": " + m;
        }
        if (t instanceof IOException && !(t instanceof java.nio.file.FileSystemException) && t.getMessage() != null
                && t.getClass() != IOException.class && !(t instanceof dev.latent.io.BadInputException)) {
            return t.getClass().getSimpleName() + ": " + m;
        }
        return m;
    }

    /** The message collapsed to one line. */
    static String oneLine(String m) {
        return m == null ? "" : m.strip().replaceAll("\\s*[\\r\\n]+\\s*", "; ");
    }

    private static String message(Throwable ex) {
        String m = ex.getMessage();
        return m == null || m.isBlank() ? ex.toString() : m;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The version latent-engine was built as ({@link dev.latent.io.LatentVersion}). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"latent " + version()};
        }
    }

    static String version() {
        return dev.latent.io.LatentVersion.get();
    }
}
