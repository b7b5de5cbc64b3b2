package dev.latent.bench.cli;

import dev.latent.bench.harness.Report;
import dev.latent.bench.harness.Row;
import dev.latent.bench.harness.Timer;
import dev.latent.bench.harness.Timing;
import dev.latent.bench.peer.PythonPeer;
import dev.latent.data.Dataset;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.KernelThreads;
import dev.latent.kernel.Kernels;
import dev.latent.workload.GanWorkload;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latent bench gan}: workload W4 ({@link GanWorkload}: one D step plus one G step of the default
 * 28x28 DCGAN on a batch of 64) on latent's kernel providers and, in the same command, in PyTorch
 * (bench/peers/gan_peers.py) under its thread settings, with the ratio to PyTorch's best. Rows have
 * the format of {@code latent bench train} (bench "train", workload "w4") plus {@code steps_per_s}.
 */
@Command(name = "gan", mixinStandardHelpOptions = true,
        description = "W4: DCGAN D step + G step (batch 64) per second, latent beside PyTorch.")
final class GanCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--kernels", split = ",", description = "latent providers (default: the one in use).")
    List<String> providers;

    @Option(names = "--seconds", defaultValue = "3", description = "Timed seconds per measurement, after a warm-up until the rate is steady (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--no-peers", description = "Skip PyTorch.")
    boolean noPeers;

    @Option(names = "--json", description = "One JSON object per line instead of a table.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Report report = new Report(spec.commandLine().getOut(), json, "bench gan");
        try (Dataset digits = Dataset.embeddedMnist()) {
            measureAll(KernelOption.resolve(providers, List.of(Kernels.current().name())), seconds, noPeers, digits, report);
        }
        return report.finish(TrainCommand.table(report.rows(), "W4 (DCGAN D step + G step, batch 64): samples/s = 64 x step pairs/s"));
    }

    /** W4 rows for the given latent providers and (unless skipped) PyTorch's settings. */
    static void measureAll(List<String> providerNames, double seconds, boolean skipPeers, Dataset digits, Report report) throws Exception {
        for (String p : providerNames) {
            Kernels k = KernelRegistry.load(p);
            report.progress("latent w4 on %s", k.name());
            Row r = Row.of("train", "latent").put("workload", "w4").put("provider", k.name()).put("threads", KernelThreads.count())
                    .put("batch", GanWorkload.BATCH);
            try (GanWorkload w4 = new GanWorkload(k, digits.images().rows(0, GanWorkload.BATCH))) {
                w4.step(); // the result check: the first losses must be finite (a NaN never recovers)
                if (!Double.isFinite(w4.discriminatorLoss()) || !Double.isFinite(w4.generatorLoss())) {
                    report.warn("WRONG W4 STEP on %s: D loss %s, G loss %s", k.name(), w4.discriminatorLoss(), w4.generatorLoss());
                    report.emit(r.put("correct", false));
                    continue;
                }
                Timing t = Timer.run(w4::step, Timer.Plan.of(seconds));
                boolean finite = Double.isFinite(w4.discriminatorLoss()) && Double.isFinite(w4.generatorLoss());
                if (!finite) {
                    report.warn("W4 diverged on %s while timed: D loss %s, G loss %s", k.name(), w4.discriminatorLoss(), w4.generatorLoss());
                }
                t.putRate(r, "samples_per_s", GanWorkload.BATCH, 1);
                t.putRate(r, "steps_per_s", 1, 3);
                report.emit(t.putStats(r.put("correct", finite)));
            }
        }
        if (!skipPeers) {
            PythonPeer.torch("gan_peers.py", List.of("--seconds", Double.toString(seconds)), report);
        }
    }
}
