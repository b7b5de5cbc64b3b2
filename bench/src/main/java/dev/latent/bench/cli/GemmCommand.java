package dev.latent.bench.cli;

import dev.latent.bench.BenchMain;
import dev.latent.bench.GemmBenchmark;
import dev.latent.bench.harness.Ceiling;
import dev.latent.bench.harness.ChildJvm;
import dev.latent.bench.harness.GemmCheck;
import dev.latent.bench.harness.GemmProblem;
import dev.latent.bench.harness.GemmShape;
import dev.latent.bench.harness.Report;
import dev.latent.bench.harness.Row;
import dev.latent.bench.harness.Table;
import dev.latent.bench.harness.Timer;
import dev.latent.bench.harness.Timing;
import dev.latent.kernel.Gemm;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.KernelThreads;
import dev.latent.kernel.Kernels;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latent bench gemm}: GFLOP/s of every available kernel provider's GEMM on the shapes of the JMH
 * {@link GemmBenchmark} ({@link GemmProblem}: the same operands), at one thread and at all cores, with
 * each provider's ratio to openblas. Kernel threads are fixed per JVM, so other thread counts run in a
 * {@link ChildJvm}. Each (provider, shape) is checked with {@link GemmCheck} before it is timed and
 * again after: a wrong kernel is reported as WRONG, not timed, and fails the command.
 */
@Command(name = "gemm", mixinStandardHelpOptions = true,
        description = "GEMM GFLOP/s per provider (C = A*B, row-major, M x K times K x N).")
final class GemmCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--kernels", split = ",", description = "Providers to time (default: every available one).")
    List<String> providers;

    @Option(names = "--shapes", split = ",", description = "MxKxN[:XY] shapes (default: the JMH benchmark's, squares 64..2048 and the training shapes).")
    List<String> shapes;

    @Option(names = "--threads", split = ",", description = "Kernel thread counts (default: 1 and all cores).")
    List<Integer> threads;

    @Option(names = "--seconds", defaultValue = "0.6", description = "Timed seconds per measurement, after a warm-up until the rate is steady (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--json", description = "One JSON object per line instead of a table.")
    boolean json;

    @Option(names = "--child", hidden = true, description = "Run as a child JVM of this command: JSON rows (progress unless --json), this JVM's threads only.")
    boolean child;

    @Override
    public Integer call() throws Exception {
        Report report = new Report(spec.commandLine().getOut(), json || child, !json, "bench gemm");
        report.decorate(r -> r.correct() && r.has("gflops") && !r.has("ceiling_fraction") ? Ceiling.putFraction(r, r.number("gflops")) : r);
        List<String> names = KernelOption.resolve(providers, KernelRegistry.availableNames());
        List<GemmShape> problems = new ArrayList<>();
        for (String s : shapes != null ? shapes : GemmBenchmark.defaultShapes()) {
            problems.add(GemmShape.parse(s));
        }
        List<Integer> counts = child ? List.of(KernelThreads.count()) : threads != null ? threads
                : KernelThreads.count() == 1 ? List.of(1) : List.of(1, KernelThreads.count());
        for (int t : counts) {
            if (t == KernelThreads.count()) {
                measureHere(names, problems, report);
            } else {
                report.progress("starting a JVM with %d kernel thread(s)", t);
                List<String> args = new ArrayList<>(List.of("gemm", "--child", "--seconds=" + seconds,
                        "--kernels=" + String.join(",", names)));
                if (json) {
                    args.add("--json");
                }
                if (shapes != null) {
                    args.add("--shapes=" + String.join(",", shapes));
                }
                ChildJvm.run(Map.of(KernelThreads.PROPERTY, Integer.toString(t)), BenchCommand.class, args, report::emit);
            }
        }
        return child ? 0 : report.finish(table(report, counts));
    }

    private void measureHere(List<String> names, List<GemmShape> problems, Report report) throws Exception {
        for (String name : names) {
            Kernels k = KernelRegistry.load(name);
            for (GemmShape s : problems) {
                if (BenchMain.REFERENCE_PROVIDERS.contains(name) && s.volume() > BenchMain.REFERENCE_MAX_VOLUME && shapes == null) {
                    continue; // the naive triple loop is the specification, not a contender: small shapes only
                }
                report.progress("%s %dx%dx%d on %d thread(s)", name, s.m(), s.k(), s.n(), KernelThreads.count());
                report.emit(measure(k, s, report));
            }
        }
    }

    private Row measure(Kernels kernels, GemmShape s, Report report) throws Exception {
        Row r = Row.of("gemm", "latent").put("provider", kernels.name()).put("m", s.m()).put("k", s.k()).put("n", s.n())
                .put("threads", KernelThreads.count());
        String core = kernels.details().get("blas core");
        if (core != null) {
            r.put("core", core);
        }
        Gemm gemm = kernels.gemm();
        String what = "bench gemm provider=" + kernels.name() + " shape=" + s.m() + "x" + s.k() + "x" + s.n()
                + " threads=" + KernelThreads.count() + " seed=" + GemmProblem.SEED;
        try (GemmProblem p = new GemmProblem(s)) {
            GemmCheck check;
            try {
                p.call(gemm);
                check = p.verify(what);
            } catch (IllegalStateException wrong) {
                report.warn("%s", wrong.getMessage());
                return r.put("correct", false);
            }
            Timing t = Timer.run(() -> p.call(gemm), Timer.Plan.of(seconds));
            boolean same = true;
            try {
                p.requireUnchanged(check);
            } catch (IllegalStateException changed) {
                report.warn("%s", changed.getMessage());
                same = false;
            }
            t.putRate(r, "gflops", s.flop() / 1e9, 1);
            r.put("gflops_best", r.number("gflops_max"), 1).put("samples", t.groups()).put("correct", same);
            return t.putStats(r);
        }
    }

    private static Table table(Report report, List<Integer> counts) {
        List<Row> rows = report.rows();
        List<String> provs = rows.stream().map(r -> r.text("provider")).distinct().toList();
        List<String> header = new ArrayList<>(List.of("M x K x N", "threads"));
        provs.forEach(header::add);
        Table table = new Table("GEMM GFLOP/s (median of timed groups (min..max); in brackets the ratio to openblas;"
                + String.format(Locale.ROOT, " this machine's FMA ceiling: %.0f GFLOP/s on %d threads)", Ceiling.gflops(), KernelThreads.count()), 1,
                header.toArray(String[]::new));
        report.coreLine(table);
        Map<String, Map<String, Row>> byRow = new LinkedHashMap<>();
        for (int t : counts) {
            for (Row r : rows) {
                if ((int) r.number("threads") == t) {
                    String key = (int) r.number("m") + "x" + (int) r.number("k") + "x" + (int) r.number("n") + "|" + t;
                    byRow.computeIfAbsent(key, x -> new LinkedHashMap<>()).put(r.text("provider"), r);
                }
            }
        }
        for (Map.Entry<String, Map<String, Row>> e : byRow.entrySet()) {
            List<String> line = new ArrayList<>(List.of(e.getKey().split("\\|")));
            Row blas = e.getValue().get("openblas");
            for (String p : provs) {
                Row r = e.getValue().get(p);
                String cell;
                if (r == null) {
                    cell = "-";
                } else if (!r.correct()) {
                    cell = "WRONG";
                } else {
                    double g = r.number("gflops");
                    cell = Table.spread("%.1f", g, r.number("gflops_min"), r.number("gflops_max"))
                            + (blas == null || !blas.correct() ? "" : String.format(Locale.ROOT, " [%.2fx]", g / blas.number("gflops")));
                }
                line.add(cell);
            }
            table.add(line.toArray(String[]::new));
        }
        return table;
    }
}
