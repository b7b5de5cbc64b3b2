package dev.latent.bench;

import dev.latent.bench.harness.GemmShape;
import dev.latent.kernel.KernelProvider;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.KernelThreads;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatFactory;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.NoBenchmarksException;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Main class of {@code benchmarks.jar}: JMH's command line (same options as {@code org.openjdk.jmh.Main})
 * with three defaults that make "benchmark every provider" mean what it says.
 * <ul>
 *   <li>Without {@code -p provider=...}, {@code provider} is every provider available in this JVM
 *       ({@link KernelRegistry#availableNames()}), found at run time, so a provider registered by anyone
 *       is benchmarked and an unavailable one is listed with its reason instead of failing a fork.
 *       This JVM must therefore see what the forks see: start it with
 *       {@code --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED}.
 *   <li>Reference providers (the {@code scalar} triple loop) run only shapes with m*n*k &le; 256^3, in a
 *       second JMH run; {@code -p provider=scalar} runs whatever shapes you ask.
 *   <li>{@code -foe true} unless given: a failed result check must fail the run, not vanish from it.
 * </ul>
 * Afterwards it writes the combined results where {@code -rf}/{@code -rff} asked and prints
 * {@link GemmReport}'s GFLOP/s table.
 */
public final class BenchMain {

    /** Providers that are slow naive loops: benchmarked on small shapes only, unless named explicitly. */
    public static final Set<String> REFERENCE_PROVIDERS = Set.of("scalar");
    /** Largest m*n*k a reference provider runs by default: 256^3, ~0.1 s per call for the triple loop. */
    public static final long REFERENCE_MAX_VOLUME = 256L * 256 * 256;

    private BenchMain() {
    }

    public static void main(String[] args) throws IOException {
        CommandLineOptions cmd;
        try {
            cmd = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            System.err.println("Error parsing command line: " + e.getMessage());
            System.exit(1);
            return;
        }
        if (cmd.shouldHelp() || cmd.shouldList() || cmd.shouldListWithParams() || cmd.shouldListProfilers()
                || cmd.shouldListResultFormats()) {
            org.openjdk.jmh.Main.main(args);
            return;
        }
        List<Plan> plans = plan(cmd);
        if (plans.isEmpty()) {
            System.err.println("# latent bench: nothing to run (no available provider matched)");
            System.exit(1);
        }
        List<RunResult> results = new ArrayList<>();
        for (Plan plan : plans) {
            System.out.println("# latent bench: running " + plan);
            // Each JMH run writes its own part (JMH prints its name); the combined file is written below.
            Path part = Files.createTempFile("latent-jmh-part-", ".json");
            boolean failed = false;
            try {
                OptionsBuilder options = new OptionsBuilder();
                options.parent(cmd).shouldFailOnError(cmd.shouldFailOnError().orElse(true))
                        .resultFormat(ResultFormatType.JSON).result(part.toString());
                if (plan.providers != null) {
                    options.param("provider", plan.providers.toArray(String[]::new));
                }
                if (plan.shapes != null) {
                    options.param("shape", plan.shapes.toArray(String[]::new));
                }
                results.addAll(new Runner(options.build()).run());
            } catch (NoBenchmarksException e) {
                System.err.println("No matching benchmarks. Miss-spelled regexp? (java -jar benchmarks.jar -l lists them)");
                failed = true;
            } catch (RunnerException e) {
                System.err.print("ERROR: ");
                e.printStackTrace(System.err);
                failed = true;
            } finally {
                Files.deleteIfExists(part);
            }
            if (failed) {
                System.exit(1);
            }
        }
        writeRequestedResults(cmd, results);
        Path json = Files.createTempFile("latent-jmh-all-", ".json");
        try {
            ResultFormatFactory.getInstance(ResultFormatType.JSON, json.toString()).writeOut(results);
            GemmReport.print(json, System.out);
        } finally {
            Files.deleteIfExists(json);
        }
    }

    /** One JMH run: which providers and shapes it overrides (null = leave JMH's value). */
    private record Plan(List<String> providers, List<String> shapes) {
        @Override
        public String toString() {
            return "provider=" + (providers == null ? "(as given)" : providers)
                    + " shape=" + (shapes == null ? "(as given or default)" : shapes);
        }
    }

    private static List<Plan> plan(CommandLineOptions cmd) {
        if (cmd.getParameter("provider").hasValue()) {
            return List.of(new Plan(null, null));
        }
        requireSameModulesAsForks();
        List<String> fast = new ArrayList<>();
        List<String> reference = new ArrayList<>();
        for (KernelProvider p : KernelRegistry.providers()) {
            if (p.unavailableReason().isPresent()) {
                System.out.println("# latent bench: provider '" + p.name() + "' is unavailable and not benchmarked: "
                        + p.unavailableReason().get());
                continue;
            }
            try {
                // What the forks will report too (e.g. OpenBLAS's core and threads), once here at the top.
                System.out.println("# latent bench: provider '" + p.name() + "' " + KernelRegistry.load(p.name()).details());
            } catch (RuntimeException | LinkageError e) {
                System.out.println("# latent bench: provider '" + p.name() + "' failed to start and is not benchmarked: " + e);
                continue;
            }
            if (REFERENCE_PROVIDERS.contains(p.name())) {
                reference.add(p.name());
            } else {
                fast.add(p.name());
            }
        }
        System.out.println("# latent bench: benchmarking providers " + Stream.concat(fast.stream(), reference.stream()).toList() + ", kernel threads in this JVM "
                + KernelThreads.count() + ", OPENBLAS_CORETYPE=" + System.getenv().getOrDefault("OPENBLAS_CORETYPE", "(unset)"));
        List<Plan> plans = new ArrayList<>();
        if (!fast.isEmpty()) {
            plans.add(new Plan(fast, null));
        }
        if (!reference.isEmpty()) {
            List<String> shapes = cmd.getParameter("shape").hasValue()
                    ? new ArrayList<>(cmd.getParameter("shape").get()) : new ArrayList<>(GemmBenchmark.defaultShapes());
            List<String> small = shapes.stream().filter(BenchMain::smallEnoughForReference).toList();
            List<String> skipped = shapes.stream().filter(s -> !smallEnoughForReference(s)).toList();
            if (!skipped.isEmpty()) {
                System.out.println("# latent bench: " + reference + " (naive triple loop) skips shapes " + skipped
                        + "; pass -p provider=" + String.join(",", reference) + " to force them");
            }
            if (!small.isEmpty()) {
                plans.add(new Plan(reference, small));
            }
        }
        return plans;
    }

    /** Shapes that do not parse as GEMM shapes belong to some other benchmark and are kept as they are. */
    private static boolean smallEnoughForReference(String shape) {
        try {
            return GemmShape.parse(shape).volume() <= REFERENCE_MAX_VOLUME;
        } catch (IllegalArgumentException e) {
            return true;
        }
    }

    /**
     * Availability is decided here but the benchmarks run in forks started with the Vector API and native
     * access enabled; if this JVM lacks them, providers would be wrongly reported unavailable and silently
     * left out, so stop and say how to start it.
     */
    private static void requireSameModulesAsForks() {
        boolean vector = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        boolean nativeAccess = BenchMain.class.getModule().isNativeAccessEnabled();
        if (!vector || !nativeAccess) {
            System.err.println("latent bench: start the launcher JVM with the flags the benchmark forks get, so it sees"
                    + " the same providers:\n  java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED"
                    + " -jar bench/target/benchmarks.jar ...\n(or name providers with -p provider=..., which skips this check)");
            System.exit(2);
        }
    }

    /** Writes the results of all runs where -rf/-rff asked (each JMH run only wrote its own part). */
    private static void writeRequestedResults(CommandLineOptions cmd, Collection<RunResult> results) {
        if (!cmd.getResult().hasValue() && !cmd.getResultFormat().hasValue()) {
            return;
        }
        ResultFormatType format = cmd.getResultFormat().orElse(ResultFormatType.CSV);
        String file = cmd.getResult().orElse("jmh-result." + format.toString().toLowerCase(Locale.ROOT));
        ResultFormatFactory.getInstance(format, file).writeOut(results);
        System.out.println("# latent bench: results of all runs saved to " + file);
    }
}
