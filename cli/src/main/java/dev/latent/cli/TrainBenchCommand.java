package dev.latent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.data.Dataset;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.KernelThreads;
import dev.latent.kernel.Kernels;
import dev.latent.loss.Loss;
import dev.latent.loss.WeightDecay;
import dev.latent.nn.Sequential;
import dev.latent.optim.Adam;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.Trainer;
import dev.latent.workload.Workload;
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
 * {@code latent bench train}: training-step throughput (samples/s) of the standard workloads W1-W3
 * ({@link Workload}) on latent's kernel providers and, in the same command, of the same workloads in
 * PyTorch (bench/peers/train_peers.py) under several thread configurations, reporting PyTorch's best.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Training steps per second of workloads W1-W3, latent beside PyTorch.")
final class TrainBenchCommand implements Callable<Integer> {

    /** PyTorch thread settings tried; on 2 cores intra-op 1 with 2 OpenBLAS threads is usually best. */
    static final List<Map<String, String>> TORCH_CONFIGS = List.of(
            Map.of("intra", "1", "OPENBLAS_NUM_THREADS", "2", "OMP_NUM_THREADS", "2"),
            Map.of("intra", "2", "OPENBLAS_NUM_THREADS", "1", "OMP_NUM_THREADS", "2"),
            Map.of("intra", "2", "OPENBLAS_NUM_THREADS", "2", "OMP_NUM_THREADS", "2"));

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--workload", split = ",", defaultValue = "w1,w2,w3", description = "Workloads w1, w2, w3, w4 (default: ${DEFAULT-VALUE}).")
    List<String> workloads;

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
        List<String> names = providers != null ? providers : List.of(Kernels.current().name());
        List<ObjectNode> rows = new ArrayList<>();
        Optional<String> noTorch = noPeers ? Optional.of("--no-peers") : Peers.unavailable("torch");
        Optional<Path> script = Peers.script("train_peers.py");
        try (Dataset digits = Dataset.embeddedMnist()) {
            for (String w : workloads) {
                if (w.equalsIgnoreCase("w4")) {
                    // W4 (one D step plus one G step of the default DCGAN) is not a Trainer.step: GanBenchCommand measures it.
                    for (ObjectNode r : GanBenchCommand.measureAll(names, seconds, noPeers, !json)) {
                        emit(out, rows, r);
                    }
                    continue;
                }
                Workload wl = Workload.parse(w);
                for (String p : names) {
                    ObjectNode r = measure(wl, KernelRegistry.load(p), digits);
                    emit(out, rows, r);
                }
                if (noTorch.isEmpty() && script.isPresent()) {
                    for (Map<String, String> cfg : TORCH_CONFIGS) {
                        String label = "intra_op=" + cfg.get("intra") + ",openblas=" + cfg.get("OPENBLAS_NUM_THREADS");
                        if (!json) {
                            System.err.printf("bench train: pytorch %s %s%n", wl.name().toLowerCase(Locale.ROOT), label);
                        }
                        Map<String, String> env = Map.of("OPENBLAS_NUM_THREADS", cfg.get("OPENBLAS_NUM_THREADS"),
                                "OMP_NUM_THREADS", cfg.get("OMP_NUM_THREADS"));
                        for (ObjectNode r : Peers.run(script.get(), List.of("--workload", wl.name().toLowerCase(Locale.ROOT),
                                "--seconds", Double.toString(seconds), "--intra-op", cfg.get("intra"), "--config", label), env)) {
                            emit(out, rows, r);
                        }
                    }
                } else if (!json) {
                    System.err.println("bench train: PyTorch peer skipped: "
                            + noTorch.orElse("bench/peers/train_peers.py not found (run from the source tree)"));
                }
            }
        }
        if (!json) {
            printTable(out, rows);
        }
        out.flush();
        return 0;
    }

    private void emit(PrintWriter out, List<ObjectNode> rows, ObjectNode r) {
        rows.add(r);
        if (json) {
            out.println(r);
            out.flush();
        }
    }

    private ObjectNode measure(Workload wl, Kernels k, Dataset digits) {
        if (!json) {
            System.err.printf("bench train: latent %s on %s%n", wl.name().toLowerCase(Locale.ROOT), k.name());
        }
        int batch = wl.batch();
        try (Sequential net = wl.build(k, 1); Adam adam = Adam.of(net.slab(), 1e-3); Workspace ws = new Workspace("bench-train")) {
            int[] shape = new int[wl.inputShape().length + 1];
            shape[0] = batch;
            System.arraycopy(wl.inputShape(), 0, shape, 1, wl.inputShape().length);
            Tensor x = ws.allocate(shape);
            x.reshape(batch, 784).copyFrom(digits.images().rows(0, batch));
            Loss loss = wl.loss();
            WeightDecay wd = wl.weightDecay();
            long warmEnd = System.nanoTime() + (long) (Math.max(0.5, seconds / 3) * 1e9);
            while (System.nanoTime() < warmEnd) {
                Trainer.step(net, loss, adam, wd, x, x);
            }
            int steps = 0;
            double sink = 0;
            long t0 = System.nanoTime();
            long dt;
            do {
                sink += Trainer.step(net, loss, adam, wd, x, x);
                steps++;
                dt = System.nanoTime() - t0;
            } while (dt < seconds * 1e9 || steps < 3);
            if (!Double.isFinite(sink)) {
                throw new IllegalStateException(wl + " diverged on " + k.name());
            }
            ObjectNode r = mapper.createObjectNode();
            r.put("bench", "train");
            r.put("workload", wl.name().toLowerCase(Locale.ROOT));
            r.put("provider", k.name());
            r.put("threads", KernelThreads.count());
            r.put("batch", batch);
            r.put("samples_per_s", Math.round(batch * steps / (dt * 1e-9) * 10) / 10.0);
            return r;
        }
    }

    private static void printTable(PrintWriter out, List<ObjectNode> rows) {
        out.println("Training throughput, samples/s (higher is better; ratio = latent / PyTorch's best configuration)");
        out.printf(Locale.ROOT, "%-9s %-34s %12s %8s%n", "workload", "engine", "samples/s", "ratio");
        for (String w : rows.stream().map(r -> r.get("workload").asText()).distinct().toList()) {
            double bestTorch = rows.stream().filter(r -> r.get("workload").asText().equals(w) && r.get("provider").asText().equals("pytorch"))
                    .mapToDouble(r -> r.get("samples_per_s").asDouble()).max().orElse(Double.NaN);
            for (ObjectNode r : rows) {
                if (!r.get("workload").asText().equals(w)) {
                    continue;
                }
                boolean torch = r.get("provider").asText().equals("pytorch");
                String engine = torch ? "pytorch " + r.get("config").asText() : "latent " + r.get("provider").asText();
                double v = r.get("samples_per_s").asDouble();
                String ratio = torch || Double.isNaN(bestTorch) ? "" : String.format(Locale.ROOT, "%.2fx", v / bestTorch);
                out.printf(Locale.ROOT, "%-9s %-34s %12.0f %8s%n", w, engine, v, ratio);
            }
        }
    }
}
