package dev.latent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.data.Dataset;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.KernelThreads;
import dev.latent.kernel.Kernels;
import dev.latent.workload.GanBench;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latent bench gan}: workload W4 (one D step plus one G step of the default 28x28 DCGAN on a
 * batch of 64, {@link GanBench}) on latent's kernel providers and, in the same command, in PyTorch
 * (bench/peers/gan_peers.py) under the thread configurations of {@link TrainBenchCommand#TORCH_CONFIGS},
 * with the ratio to PyTorch's best. Rows have the JSON format of {@code latent bench train}.
 */
@Command(name = "gan", mixinStandardHelpOptions = true,
        description = "W4: DCGAN D step + G step (batch 64) per second, latent beside PyTorch.")
final class GanBenchCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--providers", split = ",", description = "latent providers (default: the one in use).")
    List<String> providers;

    @Option(names = "--seconds", defaultValue = "3", description = "Timed seconds per measurement (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--no-peers", description = "Skip PyTorch.")
    boolean noPeers;

    @Option(names = "--json", description = "One JSON object per line instead of a table.")
    boolean json;

    private final ObjectMapper mapper = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        List<ObjectNode> rows = new ArrayList<>();
        for (ObjectNode r : measureAll(providers != null ? providers : List.of(Kernels.current().name()), seconds, noPeers, !json)) {
            rows.add(r);
            if (json) {
                out.println(r);
            }
        }
        if (!json) {
            printTable(out, rows);
        }
        out.flush();
        return 0;
    }

    /** W4 rows for the given latent providers and (unless skipped) PyTorch's configurations. */
    static List<ObjectNode> measureAll(List<String> providerNames, double seconds, boolean skipPeers, boolean log) throws Exception {
        ObjectMapper m = new ObjectMapper();
        List<ObjectNode> rows = new ArrayList<>();
        try (Dataset digits = Dataset.embeddedMnist()) {
            for (String p : providerNames) {
                Kernels k = KernelRegistry.load(p);
                if (log) {
                    System.err.printf("bench gan: latent w4 on %s%n", k.name());
                }
                GanBench.Result r = GanBench.run(k, digits.images().rows(0, GanBench.BATCH), seconds);
                ObjectNode o = m.createObjectNode();
                o.put("bench", "train");
                o.put("workload", "w4");
                o.put("provider", k.name());
                o.put("threads", KernelThreads.count());
                o.put("batch", GanBench.BATCH);
                o.put("samples_per_s", Math.round(r.samplesPerSecond() * 10) / 10.0);
                o.put("steps_per_s", Math.round(r.stepsPerSecond() * 1000) / 1000.0);
                rows.add(o);
            }
        }
        Optional<String> noTorch = skipPeers ? Optional.of("--no-peers") : Peers.unavailable("torch");
        Optional<Path> script = Peers.script("gan_peers.py");
        if (noTorch.isEmpty() && script.isPresent()) {
            for (Map<String, String> cfg : TrainBenchCommand.TORCH_CONFIGS) {
                String label = "intra_op=" + cfg.get("intra") + ",openblas=" + cfg.get("OPENBLAS_NUM_THREADS");
                if (log) {
                    System.err.printf("bench gan: pytorch w4 %s%n", label);
                }
                rows.addAll(Peers.run(script.get(), List.of("--seconds", Double.toString(seconds), "--intra-op", cfg.get("intra"),
                        "--config", label), Map.of("OPENBLAS_NUM_THREADS", cfg.get("OPENBLAS_NUM_THREADS"),
                        "OMP_NUM_THREADS", cfg.get("OMP_NUM_THREADS"))));
            }
        } else if (log) {
            System.err.println("bench gan: PyTorch peer skipped: "
                    + noTorch.orElse("bench/peers/gan_peers.py not found (run from the source tree)"));
        }
        return rows;
    }

    private static void printTable(PrintWriter out, List<ObjectNode> rows) {
        out.println("W4 (DCGAN D step + G step, batch 64): samples/s = 64 x step pairs/s; ratio = latent / PyTorch's best");
        out.printf(Locale.ROOT, "%-34s %12s %10s %8s%n", "engine", "samples/s", "steps/s", "ratio");
        double best = rows.stream().filter(r -> r.get("provider").asText().equals("pytorch"))
                .mapToDouble(r -> r.get("samples_per_s").asDouble()).max().orElse(Double.NaN);
        for (ObjectNode r : rows) {
            boolean torch = r.get("provider").asText().equals("pytorch");
            String engine = torch ? "pytorch " + r.get("config").asText() : "latent " + r.get("provider").asText();
            double v = r.get("samples_per_s").asDouble();
            String ratio = torch || Double.isNaN(best) ? "" : String.format(Locale.ROOT, "%.2fx", v / best);
            out.printf(Locale.ROOT, "%-34s %12.1f %10.3f %8s%n", engine, v, r.get("steps_per_s").asDouble(), ratio);
        }
    }
}
