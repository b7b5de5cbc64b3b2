package dev.latent.bench.cli;

import dev.latent.bench.harness.Ceiling;
import dev.latent.bench.harness.Contention;
import dev.latent.bench.harness.Report;
import dev.latent.bench.harness.Row;
import dev.latent.bench.harness.Table;
import dev.latent.bench.harness.Timer;
import dev.latent.bench.harness.Timing;
import dev.latent.bench.harness.TrainSession;
import dev.latent.bench.peer.PythonPeer;
import dev.latent.data.Dataset;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.KernelThreads;
import dev.latent.kernel.Kernels;
import dev.latent.workload.Workload;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latent bench train}: training-step throughput (samples/s) of the standard workloads W1-W3
 * ({@link Workload}, set up by {@link TrainSession} as in the JMH benchmark) on latent's kernel
 * providers and, in the same command, of the same workloads in PyTorch (bench/peers/train_peers.py)
 * under several thread settings; the table compares latent with PyTorch's best. W4 is
 * {@link GanCommand}'s work, in the same row format.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Training steps per second of workloads W1-W4, latent beside PyTorch.")
final class TrainCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--workload", split = ",", defaultValue = "w1,w2,w3", description = "Workloads w1, w2, w3, w4 (default: ${DEFAULT-VALUE}).")
    List<String> workloads;

    @Option(names = "--kernels", split = ",", description = "latent providers (default: the one in use).")
    List<String> providers;

    @Option(names = "--seconds", defaultValue = "3", description = "Timed seconds per measurement, after a warm-up until the rate is steady (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--no-peers", description = "Skip PyTorch.")
    boolean noPeers;

    @Option(names = "--json", description = "One JSON object per line instead of a table.")
    boolean json;

    @Option(names = "--contended", description = "Measure everything twice: quietly, then with one CPU-bound process"
            + " per core started by the command (yes > /dev/null); rows carry load=quiet|contended and the table what"
            + " each engine kept.")
    boolean contended;

    /** The load the rows being measured run under (a field of every row). */
    private String load = "quiet";

    @Override
    public Integer call() throws Exception {
        Report report = new Report(spec.commandLine().getOut(), json, "bench train");
        report.decorate(Ceiling.fromRate("samples_per_s", TrainCommand::flopPerSample));
        report.decorate(r -> r.has("load") ? r : r.put("load", load));
        List<String> names = KernelOption.resolve(providers, List.of(Kernels.current().name()));
        try (Dataset digits = Dataset.embeddedMnist()) {
            measureAll(names, digits, report);
            if (contended) {
                int cores = Runtime.getRuntime().availableProcessors();
                report.progress("again with %d competing CPU-bound process(es)", cores);
                try (Contention c = Contention.start(cores)) {
                    load = "contended";
                    measureAll(names, digits, report);
                }
            }
        }
        return report.finish(table(report.rows(), "Training throughput, samples/s"));
    }

    private void measureAll(List<String> names, Dataset digits, Report report) throws Exception {
        for (String w : workloads) {
            if (w.equalsIgnoreCase("w4")) {
                GanCommand.measureAll(names, seconds, noPeers, digits, report);
                continue;
            }
            Workload wl = Workload.parse(w);
            String id = wl.name().toLowerCase(Locale.ROOT);
            for (String p : names) {
                report.progress("latent %s on %s (%s)", id, p, load);
                report.emit(measure(wl, KernelRegistry.load(p), digits, report));
            }
            if (!noPeers) {
                PythonPeer.torch("train_peers.py", List.of("--workload", id, "--seconds", Double.toString(seconds)), report);
            }
        }
    }

    private Row measure(Workload wl, Kernels k, Dataset digits, Report report) throws Exception {
        Row r = Row.of("train", "latent").put("workload", wl.name().toLowerCase(Locale.ROOT)).put("provider", k.name())
                .put("threads", KernelThreads.count()).put("batch", wl.batch());
        try (TrainSession s = new TrainSession(wl, k, digits)) {
            try {
                s.requireLearning(k.name());
            } catch (IllegalStateException wrong) {
                report.warn("%s", wrong.getMessage());
                return r.put("correct", false);
            }
            Timing t = Timer.run(s::step, Timer.Plan.of(seconds));
            return t.putStats(t.putRate(r, "samples_per_s", wl.batch(), 1).put("correct", true));
        }
    }

    /** FLOPs of one training sample of the row's workload; NaN for W4 (not counted yet). */
    static double flopPerSample(Row r) {
        String w = r.text("workload");
        return w.equals("w4") ? Double.NaN : Workload.parse(w).trainingFlopPerSample();
    }

    /**
     * Rows of bench train and bench gan: per workload and load, latent's and PyTorch's, with latent /
     * PyTorch's best under the same load; under contention also what each row kept of its quiet rate.
     */
    static Table table(List<Row> rows, String title) {
        Table table = new Table(title + " (median of timed groups (min..max); ratio = latent / PyTorch's best setting"
                + " under the same load)", 2, "workload", "engine", "samples/s", "ratio", "of FMA ceiling", "kept under load");
        for (String w : rows.stream().map(r -> r.text("workload")).distinct().toList()) {
            for (String load : List.of("quiet", "contended")) {
                List<Row> group = rows.stream().filter(r -> r.text("workload").equals(w) && load(r).equals(load)).toList();
                double bestTorch = group.stream().filter(r -> r.text("engine").equals("pytorch") && r.correct())
                        .mapToDouble(r -> r.number("samples_per_s")).max().orElse(Double.NaN);
                for (Row r : group) {
                    boolean torch = r.text("engine").equals("pytorch");
                    String engine = label(r) + (load.equals("contended") ? " +load" : "");
                    double v = r.number("samples_per_s");
                    String ratio = torch || Double.isNaN(bestTorch) || !r.correct() ? "" : String.format(Locale.ROOT, "%.2fx", v / bestTorch);
                    String kept = "";
                    if (load.equals("contended") && r.correct()) {
                        kept = rows.stream().filter(q -> q.text("workload").equals(w) && load(q).equals("quiet") && q.correct()
                                && label(q).equals(label(r))).findFirst()
                                .map(q -> String.format(Locale.ROOT, "%.0f%%", 100 * v / q.number("samples_per_s"))).orElse("");
                    }
                    table.add(w, engine, r.correct() ? Table.spread("%.0f", v, r.number("samples_per_s_min"), r.number("samples_per_s_max")) : "WRONG",
                            ratio, Ceiling.cell(r), kept);
                }
            }
        }
        return table;
    }

    private static String load(Row r) {
        return r.has("load") ? r.text("load") : "quiet";
    }

    private static String label(Row r) {
        return r.text("engine").equals("pytorch") ? "pytorch " + r.text("config") : "latent " + r.text("provider");
    }
}
