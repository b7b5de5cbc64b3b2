package dev.latent.bench.cli;

import dev.latent.bench.harness.Home;
import dev.latent.bench.harness.Ceiling;
import dev.latent.bench.harness.Report;
import dev.latent.bench.harness.Row;
import dev.latent.bench.harness.Table;
import dev.latent.bench.harness.Timer;
import dev.latent.bench.harness.Timing;
import dev.latent.bench.peer.PythonPeer;
import dev.latent.data.Patches;
import dev.latent.data.Whitening;
import dev.latent.io.BadInputException;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.KernelThreads;
import dev.latent.kernel.Kernels;
import dev.latent.model.kmeans.KMeans;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
 * A Lloyd iteration is one timed group (it takes up to a second), warmed up until steady like every
 * other measurement; at least {@code --iterations} are timed.
 */
@Command(name = "kmeans", mixinStandardHelpOptions = true,
        description = "Time per Lloyd iteration and per mini-batch step, latent beside scikit-learn.")
final class KMeansCommand implements Callable<Integer> {

    /** Timed seconds of mini-batch steps (each a few milliseconds). */
    static final double MINIBATCH_SECONDS = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--k", split = ",", defaultValue = "256,1600", description = "Cluster counts (default: ${DEFAULT-VALUE}).")
    List<Integer> ks;

    @Option(names = "--patches", defaultValue = "100000", description = "Patches clustered (default: ${DEFAULT-VALUE}).")
    int n;

    @Option(names = "--patch", defaultValue = "8", description = "Patch side (default: ${DEFAULT-VALUE}).")
    int patch;

    @Option(names = "--iterations", defaultValue = "5", description = "Timed Lloyd iterations, at least (default: ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = "--batch", defaultValue = "1000", description = "Mini-batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--input", paramLabel = "DIR", description = "Directory of natural images (default: shared/data/natural-images found upwards).")
    Path images;

    @Option(names = "--kernels", split = ",",
            description = "Kernel providers to time latent on (default: every available one but scalar; k-means runs its"
                    + " per-thread path only on providers with a single-threaded GEMM, e.g. simd).")
    List<String> providers = new ArrayList<>();

    @Option(names = "--no-peers", description = "Skip scikit-learn.")
    boolean noPeers;

    @Option(names = "--json", description = "One JSON object per line instead of a table.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Report report = new Report(spec.commandLine().getOut(), json, "bench kmeans");
        // A Lloyd iteration's distances are one n x d by d x k GEMM (2 n k d FLOPs), a mini-batch step's
        // batch x d by d x k; d is the patch's pixel count (grey patches).
        int d = patch * patch;
        report.decorate(r -> !r.correct() || !r.has("ms_per_iter") || !r.has("k") || r.has("ceiling_fraction") ? r
                : Ceiling.putFraction(r, 2.0 * (r.text("method").equals("lloyd") ? n : batch) * r.number("k") * d
                        / (r.number("ms_per_iter") / 1e3) / 1e9));
        Path dir = images != null ? images : Home.naturalImages().orElseThrow(() -> new BadInputException(
                "no shared/data/natural-images directory in the working directory or above it; pass --input DIR"));
        List<Kernels> engines = new ArrayList<>();
        for (String name : KernelOption.resolve(providers,
                KernelRegistry.availableNames().stream().filter(p -> !p.equals("scalar")).toList())) {
            engines.add(KernelRegistry.load(name));
        }
        Path tmp = Files.createTempDirectory("latent-kmeans-bench");
        try (Workspace ws = new Workspace("bench-kmeans")) {
            report.progress("%d whitened %dx%d patches of %s", n, patch, patch, dir);
            Tensor raw = Patches.random(Patches.readDirectory(dir, false), n, patch, 1, ws);
            Patches.normalize(raw, Patches.DEFAULT_EPS);
            Tensor x = Whitening.fit(raw, 0.1, ws).apply(raw, ws, Kernels.current());
            if (x.rowSize() != d) {
                throw new IllegalStateException("whitened patches have " + x.rowSize() + " values, expected " + d);
            }
            Path data = tmp.resolve("x.f32");
            writeRaw(data, x);
            for (int k : ks) {
                Path init = tmp.resolve("init" + k + ".f32");
                for (Kernels e : engines) {
                    measure(report, e, x, k, d, init, ws);
                }
                if (!noPeers) {
                    report.progress("scikit-learn k=%d", k);
                    PythonPeer.once("kmeans_peers.py", "sklearn", List.of("--data", data.toString(), "--init", init.toString(),
                            "--n", Integer.toString(n), "--d", Integer.toString(d), "--k", Integer.toString(k),
                            "--iterations", Integer.toString(iterations), "--batch", Integer.toString(batch)), report);
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
        return report.finish(table(report.rows()));
    }

    /** Lloyd and mini-batch rows of one provider; writes the initial centroids to {@code init} for the peer. */
    private void measure(Report report, Kernels e, Tensor x, int k, int d, Path init, Workspace ws) throws Exception {
        try (KMeans km = new KMeans(k, d, false, e)) {
            km.seed(x, KMeans.Init.RANDOM, 7);
            writeRaw(init, km.centroids());
            report.progress("latent lloyd k=%d on %s", k, e.name());
            double[] inertia = {Double.NaN};
            Timing lloyd = Timer.run(() -> inertia[0] = km.lloydStep(x).inertia(),
                    new Timer.Plan(0, 0, 10, iterations, 0));
            report.emit(row(lloyd, "lloyd", k, d, e, inertia[0]));

            report.progress("latent minibatch k=%d on %s", k, e.name());
            km.setCentroids(readRaw(init, ws, k, d));
            SplittableRandom r = new SplittableRandom(3);
            Timing mini = Timer.run(() -> inertia[0] = km.miniBatchStep(x, batch, r).inertia(), Timer.Plan.of(MINIBATCH_SECONDS));
            report.emit(row(mini, "minibatch", k, d, e, inertia[0]).put("batch", batch));
        }
    }

    private Row row(Timing t, String method, int k, int d, Kernels e, double inertia) {
        Row r = Row.of("kmeans", "latent").put("method", method).put("k", k).put("n", n).put("d", d);
        t.putTime(r, "ms_per_iter", 1e3, 2);
        r.put("provider", e.name()).put("threads", KernelThreads.count());
        if (!Double.isFinite(inertia)) {
            r.put("correct", false); // NaN centroids: a broken provider must not post a time
        }
        return t.putStats(r.put("inertia", inertia));
    }

    /** Rows as little-endian float32, row-major, no header (numpy.fromfile reads it). */
    private static void writeRaw(Path file, Tensor t) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = t.segment().asSlice(t.offset() * Float.BYTES, t.size() * Float.BYTES).asByteBuffer()
                    .order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }
    }

    private static Tensor readRaw(Path file, Workspace ws, int k, int d) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[k * d];
        b.asFloatBuffer().get(v);
        return ws.of(v, k, d);
    }

    private static Table table(List<Row> rows) {
        Table table = new Table("k-means on whitened patches, ms per iteration, median (min..max) (lower is better;"
                + " ratio = scikit-learn / latent)", 3, "method", "k", "engine", "ms/iter", "ratio", "of FMA ceiling");
        for (Row r : rows) {
            String method = r.text("method");
            int k = (int) r.number("k");
            boolean latent = r.text("engine").equals("latent");
            double v = r.number("ms_per_iter");
            String ratio = "";
            if (latent) {
                double peer = rows.stream().filter(p -> !p.text("engine").equals("latent") && p.text("method").equals(method)
                        && (int) p.number("k") == k).mapToDouble(p -> p.number("ms_per_iter")).min().orElse(Double.NaN);
                ratio = Double.isNaN(peer) ? "" : String.format(Locale.ROOT, "%.2fx", peer / v);
            }
            String engine = latent ? "latent " + r.text("provider") : r.text("engine");
            table.add(method, Integer.toString(k), engine, r.correct()
                    ? Table.spread("%.2f", v, r.number("ms_per_iter_min"), r.number("ms_per_iter_max")) : "WRONG", ratio, Ceiling.cell(r));
        }
        return table;
    }
}
