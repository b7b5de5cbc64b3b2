package dev.latent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.data.Patches;
import dev.latent.data.Whitening;
import dev.latent.kernel.KernelThreads;
import dev.latent.kernel.Kernels;
import dev.latent.model.kmeans.KMeans;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latent bench kmeans}: milliseconds per full Lloyd iteration on N whitened 8x8 grey patches
 * of the natural images (k = 256 and 1600 by default), and per mini-batch step of 1,000 rows; in the
 * same command scikit-learn's KMeans (lloyd, n_init=1) and MiniBatchKMeans on the same rows from the
 * same initial centroids (bench/peers/kmeans_peers.py, the data passed as raw float32 files).
 */
@Command(name = "kmeans", mixinStandardHelpOptions = true,
        description = "Time per Lloyd iteration and per mini-batch step, latent beside scikit-learn.")
final class KMeansBenchCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--k", split = ",", defaultValue = "256,1600", description = "Cluster counts (default: ${DEFAULT-VALUE}).")
    List<Integer> ks;

    @Option(names = "--n", defaultValue = "100000", description = "Patches (default: ${DEFAULT-VALUE}).")
    int n;

    @Option(names = "--patch", defaultValue = "8", description = "Patch side (default: ${DEFAULT-VALUE}).")
    int patch;

    @Option(names = "--iterations", defaultValue = "5", description = "Timed Lloyd iterations (default: ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = "--batch", defaultValue = "1000", description = "Mini-batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--images", description = "Directory of natural images (default: shared/data/natural-images found upwards).")
    Path images;

    @Option(names = "--kernels", split = ",",
            description = "Kernel providers to time latent on (default: every available one but scalar; k-means runs its"
                    + " per-thread path only on providers with a single-threaded GEMM, e.g. simd).")
    List<String> providers = new ArrayList<>();

    @Option(names = "--no-peers", description = "Skip scikit-learn.")
    boolean noPeers;

    @Option(names = "--json", description = "One JSON object per line instead of a table.")
    boolean json;

    private final ObjectMapper mapper = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Kernels kern = Kernels.current();
        Path dir = images != null ? images : NaturalImages.find();
        List<ObjectNode> rows = new ArrayList<>();
        Optional<String> noSk = noPeers ? Optional.of("--no-peers") : Peers.unavailable("sklearn");
        Optional<Path> script = Peers.script("kmeans_peers.py");
        Path tmp = Files.createTempDirectory("latent-kmeans-bench");
        try (Workspace ws = new Workspace("bench-kmeans")) {
            log("bench kmeans: %d whitened %dx%d patches of %s", n, patch, patch, dir);
            Tensor raw = Patches.random(Patches.readDirectory(dir, false), n, patch, 1, ws);
            Patches.normalize(raw, Patches.DEFAULT_EPS);
            Tensor x = Whitening.fit(raw, 0.1, ws).apply(raw, ws, kern);
            int d = x.rowSize();
            Path data = tmp.resolve("x.f32");
            writeRaw(data, x);
            List<Kernels> engines = new ArrayList<>();
            for (String name : providers) {
                engines.add(dev.latent.kernel.KernelRegistry.load(name));
            }
            if (engines.isEmpty()) {
                for (String name : dev.latent.kernel.KernelRegistry.availableNames()) {
                    if (!name.equals("scalar")) {
                        engines.add(dev.latent.kernel.KernelRegistry.load(name));
                    }
                }
            }
            for (int k : ks) {
                Path init = tmp.resolve("init" + k + ".f32");
                for (Kernels e : engines) {
                    try (KMeans km = new KMeans(k, d, false, e)) {
                        km.seed(x, KMeans.Init.RANDOM, 7);
                        writeRaw(init, km.centroids());
                        log("bench kmeans: latent lloyd k=%d on %s", k, e.name());
                        // Two untimed iterations: the JIT compiles the GEMM and argmin loops (scikit-learn's time is
                        // a difference of fits, which leaves its first iteration out too).
                        km.lloydStep(x);
                        km.lloydStep(x);
                        long t0 = System.nanoTime();
                        double inertia = 0;
                        for (int i = 0; i < iterations; i++) {
                            inertia = km.lloydStep(x).inertia();
                        }
                        double ms = (System.nanoTime() - t0) * 1e-6 / iterations;
                        emit(out, rows, row("lloyd", k, d, "latent", e.name(), ms, inertia));
                        km.setCentroids(readInit(init, ws, k, d));
                        SplittableRandom r = new SplittableRandom(3);
                        for (int i = 0; i < 20; i++) {
                            km.miniBatchStep(x, batch, r);
                        }
                        int steps = 0;
                        t0 = System.nanoTime();
                        do {
                            inertia = km.miniBatchStep(x, batch, r).inertia();
                            steps++;
                        } while (System.nanoTime() - t0 < 1e9 || steps < 20);
                        ms = (System.nanoTime() - t0) * 1e-6 / steps;
                        ObjectNode mb = row("minibatch", k, d, "latent", e.name(), ms, inertia);
                        mb.put("batch", batch);
                        emit(out, rows, mb);
                    }
                }
                if (noSk.isEmpty() && script.isPresent()) {
                    log("bench kmeans: scikit-learn k=%d", k);
                    for (ObjectNode p : Peers.run(script.get(), List.of("--data", data.toString(), "--init", init.toString(),
                            "--n", Integer.toString(n), "--d", Integer.toString(d), "--k", Integer.toString(k),
                            "--iterations", Integer.toString(iterations), "--batch", Integer.toString(batch)), java.util.Map.of())) {
                        emit(out, rows, p);
                    }
                } else {
                    log("bench kmeans: scikit-learn skipped: %s",
                            noSk.orElse("bench/peers/kmeans_peers.py not found (run from the source tree)"));
                }
            }
        } finally {
            try (var s = Files.list(tmp)) {
                for (Path p : s.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(tmp);
        }
        if (!json) {
            printTable(out, rows);
        }
        out.flush();
        return 0;
    }

    private ObjectNode row(String method, int k, int d, String engine, String provider, double ms, double inertia) {
        ObjectNode r = mapper.createObjectNode();
        r.put("bench", "kmeans");
        r.put("method", method);
        r.put("k", k);
        r.put("n", n);
        r.put("d", d);
        r.put("ms_per_iter", Math.round(ms * 100) / 100.0);
        r.put("engine", engine);
        r.put("provider", provider);
        r.put("threads", KernelThreads.count());
        r.put("inertia", inertia);
        return r;
    }

    private void log(String fmt, Object... args) {
        if (!json) {
            System.err.printf(Locale.ROOT, fmt + "%n", args);
        }
    }

    private void emit(PrintWriter out, List<ObjectNode> rows, ObjectNode r) {
        rows.add(r);
        if (json) {
            out.println(r);
            out.flush();
        }
    }

    /** Rows as little-endian float32, row-major, no header (numpy.fromfile reads it). */
    static void writeRaw(Path file, Tensor t) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = t.segment().asSlice(t.offset() * Float.BYTES, t.size() * Float.BYTES).asByteBuffer()
                    .order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }
    }

    private static Tensor readInit(Path file, Workspace ws, int k, int d) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[k * d];
        b.asFloatBuffer().get(v);
        return ws.of(v, k, d);
    }

    private static void printTable(PrintWriter out, List<ObjectNode> rows) {
        out.println("k-means on whitened patches, ms per iteration (lower is better; ratio = scikit-learn / latent)");
        out.printf(Locale.ROOT, "%-10s %6s %-26s %10s %8s%n", "method", "k", "engine", "ms/iter", "ratio");
        for (ObjectNode r : rows) {
            String method = r.get("method").asText();
            int k = r.get("k").asInt();
            boolean latent = r.get("engine").asText().equals("latent");
            double v = r.get("ms_per_iter").asDouble();
            String ratio = "";
            if (latent) {
                double peer = rows.stream().filter(p -> !p.get("engine").asText().equals("latent") && p.get("method").asText().equals(method)
                        && p.get("k").asInt() == k).mapToDouble(p -> p.get("ms_per_iter").asDouble()).min().orElse(Double.NaN);
                ratio = Double.isNaN(peer) ? "" : String.format(Locale.ROOT, "%.2fx", peer / v);
            }
            String engine = latent ? "latent " + r.get("provider").asText() : r.get("engine").asText();
            out.printf(Locale.ROOT, "%-10s %6d %-26s %10.2f %8s%n", method, k, engine, v, ratio);
        }
    }
}
