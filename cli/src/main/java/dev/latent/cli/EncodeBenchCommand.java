package dev.latent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.management.ThreadMXBean;
import dev.latent.serve.Encoder;
import dev.latent.onnx.OnnxExport;
import dev.latent.kernel.Activation;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.KernelThreads;
import dev.latent.kernel.Kernels;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.nn.Dense;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latent bench encode}: workload W5, the encoder 784-1000-500-250-30 (sigmoid, linear code,
 * float32, random init from a fixed seed), served through {@link Encoder}'s segment API: single-sample
 * latency (us per call, batch 1) and batch-256 throughput (samples/s), with the bytes the calling
 * thread allocates per call (ThreadMXBean). In the same command the same encoder runs in ONNX Runtime
 * (in-process, on latent's exported ONNX file, intra-op threads 1 and 2; {@link OrtPeer}) and in
 * PyTorch (bench/peers/encode_peers.py, on the same model file, several thread settings); the table
 * compares latent with each peer's best setting against the W5 targets. Every engine's codes are
 * checked once against a double-precision recomputation before timing: a wrong result is reported
 * as WRONG and fails the command. Kernel threads are fixed per JVM, so counts other than this JVM's
 * run in a child JVM that reports JSON lines.
 */
@Command(name = "encode", mixinStandardHelpOptions = true,
        description = "W5 encoder latency (batch 1) and throughput (batch 256), latent beside ONNX Runtime and PyTorch.")
final class EncodeBenchCommand implements Callable<Integer> {

    static final int[] SIZES = {784, 1000, 500, 250, 30};
    static final int BATCH = 256;
    static final long SEED = 42;
    /** Entries checked against the double-precision reference: the first CHECK_ROWS rows of each batch. */
    static final int CHECK_ROWS = 8;
    /** Observed |float - double| is ~1e-6 on this encoder (OnnxExportTest); 1e-4 flags real errors only. */
    static final double TOLERANCE = 1e-4;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--providers", split = ",", description = "latent providers (default: every available one but scalar).")
    List<String> providers;

    @Option(names = "--threads", split = ",", description = "latent kernel thread counts (default: this JVM's).")
    List<Integer> threads;

    @Option(names = "--ort-threads", split = ",", defaultValue = "1,2", description = "ONNX Runtime intra-op threads (default: ${DEFAULT-VALUE}).")
    List<Integer> ortThreads;

    @Option(names = "--seconds", defaultValue = "2", description = "Timed seconds per measurement (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--no-peers", description = "Skip ONNX Runtime and PyTorch.")
    boolean noPeers;

    @Option(names = "--json", description = "One JSON object per line instead of a table.")
    boolean json;

    private final ObjectMapper mapper = new ObjectMapper();
    private final List<ObjectNode> rows = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        List<String> names = providers != null ? providers
                : KernelRegistry.availableNames().stream().filter(n -> !n.equals("scalar")).toList();
        List<Integer> counts = threads != null ? threads : List.of(KernelThreads.count());
        Path dir = Files.createTempDirectory("latent-bench-encode");
        try {
            Path model = dir.resolve("w5.safetensors");
            Path onnx = dir.resolve("w5.onnx");
            float[] x = input();
            double[] reference;
            try (Autoencoder ae = Autoencoder.builder(SIZES[0]).hidden(Arrays.copyOfRange(SIZES, 1, SIZES.length))
                    .activation(Activation.SIGMOID).codeActivation(Activation.IDENTITY).build().init(SEED)) {
                ae.save(model, null);
                reference = reference(ae, x);
            }
            for (int t : counts) {
                if (t == KernelThreads.count()) {
                    for (String p : names) {
                        measureLatent(out, KernelRegistry.load(p), model, x, reference);
                    }
                } else {
                    measureInChild(out, t, names);
                }
            }
            if (!noPeers) {
                OnnxExport.write(model, onnx);
                for (int t : ortThreads) {
                    measureOrt(out, onnx, t, x, reference);
                }
                measureTorch(out, model);
            }
        } finally {
            try (var s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
        boolean wrong = rows.stream().anyMatch(r -> !r.path("correct").asBoolean(true));
        if (!json) {
            printTable(out);
        }
        out.flush();
        return wrong ? 1 : 0;
    }

    /** BATCH rows of uniform [0, 1) pixels from a fixed seed (the peers draw their own: timing only). */
    static float[] input() {
        float[] x = new float[BATCH * SIZES[0]];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextDouble();
        }
        return x;
    }

    /** The codes of the first CHECK_ROWS rows of x, computed in double from the model's weights. */
    static double[] reference(Autoencoder ae, float[] x) {
        List<Dense> layers = ae.encoders();
        double[] ref = new double[CHECK_ROWS * SIZES[SIZES.length - 1]];
        for (int r = 0; r < CHECK_ROWS; r++) {
            double[] h = new double[SIZES[0]];
            for (int i = 0; i < h.length; i++) {
                h[i] = x[r * SIZES[0] + i];
            }
            for (int l = 0; l < layers.size(); l++) {
                float[] w = layers.get(l).weight().value().toArray();
                float[] b = layers.get(l).bias().value().toArray();
                double[] y = new double[b.length];
                for (int o = 0; o < y.length; o++) {
                    double z = b[o];
                    for (int i = 0; i < h.length; i++) {
                        z += (double) w[o * h.length + i] * h[i];
                    }
                    y[o] = l == layers.size() - 1 ? z : 1 / (1 + Math.exp(-z));
                }
                h = y;
            }
            System.arraycopy(h, 0, ref, r * h.length, h.length);
        }
        return ref;
    }

    static boolean matches(float[] codes, int rows, double[] reference) {
        int m = SIZES[SIZES.length - 1];
        for (int i = 0; i < Math.min(rows, CHECK_ROWS) * m; i++) {
            if (!(Math.abs(codes[i] - reference[i]) <= TOLERANCE)) {
                return false;
            }
        }
        return true;
    }

    /** A timed call. */
    /** Calls of warm-up before timing (see {@link #secondsPerCall}). */
    static final int WARM_CALLS = 5000;

    interface Body {
        void run() throws Exception;
    }

    /**
     * Median seconds per call over timed groups of calls (each group >= 5 ms, so the clock's
     * resolution does not matter), after a warm-up (C2 and thread pools) of half the time and at least
     * {@link #WARM_CALLS} calls, within ten times the time. A call count and not only a time: the
     * kernels are compiled by C2 after some thousands of calls, and on a loaded machine half a
     * second of batch-1 calls was too few (the OpenBLAS row, measured first, then timed the simd
     * kernels it shares (bias, activations) interpreted: 4x slower, 100 KB allocated per call).
     */
    static double secondsPerCall(Body call, double seconds) throws Exception {
        long start = System.nanoTime();
        long warmEnd = start + (long) (seconds * 0.5e9);
        long warmCap = start + (long) (seconds * 10e9);
        int warm = 0;
        while (System.nanoTime() < warmEnd || warm < 20 || (warm < WARM_CALLS && System.nanoTime() < warmCap)) {
            call.run();
            warm++;
        }
        long t0 = System.nanoTime();
        call.run();
        double one = Math.max(1e-7, (System.nanoTime() - t0) * 1e-9);
        int perGroup = (int) Math.max(1, Math.min(1 << 20, 5e-3 / one));
        List<Double> perCall = new ArrayList<>();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        do {
            long s = System.nanoTime();
            for (int i = 0; i < perGroup; i++) {
                call.run();
            }
            perCall.add((System.nanoTime() - s) * 1e-9 / perGroup);
        } while (System.nanoTime() < end || perCall.size() < 5);
        perCall.sort(Comparator.naturalOrder());
        return perCall.get(perCall.size() / 2);
    }

    /** Bytes the calling thread allocates per call, over 200 calls after the timing's warm-up. */
    static long bytesPerCall(Body call) throws Exception {
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        int n = 200;
        long before = mx.getThreadAllocatedBytes(tid);
        for (int i = 0; i < n; i++) {
            call.run();
        }
        return (mx.getThreadAllocatedBytes(tid) - before) / n;
    }

    private ObjectNode row(String engine, int batch, double secondsPerCall, long bytes, boolean correct) {
        ObjectNode r = mapper.createObjectNode();
        r.put("bench", "encode");
        r.put("engine", engine);
        r.put("batch", batch);
        r.put("us_per_call", Math.round(secondsPerCall * 1e7) / 10.0);
        r.put("samples_per_s", Math.round(batch / secondsPerCall * 10) / 10.0);
        r.put("bytes_per_call", bytes);
        r.put("correct", correct);
        return r;
    }

    private void emit(PrintWriter out, ObjectNode r) {
        rows.add(r);
        if (json) {
            out.println(r);
            out.flush();
        }
    }

    private void progress(String what) {
        if (!json) {
            System.err.println("bench encode: " + what);
        }
    }

    private void measureLatent(PrintWriter out, Kernels k, Path model, float[] x, double[] reference) throws Exception {
        int n = SIZES[0];
        int m = SIZES[SIZES.length - 1];
        try (Encoder enc = Encoder.load(model, k); Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate((long) BATCH * n * Float.BYTES, 64);
            MemorySegment codes = arena.allocate((long) BATCH * m * Float.BYTES, 64);
            MemorySegment.copy(x, 0, in, ValueLayout.JAVA_FLOAT, 0, x.length);
            for (int batch : new int[] {1, BATCH}) {
                progress("latent " + k.name() + " (" + KernelThreads.count() + " threads), batch " + batch);
                codes.fill((byte) 0xff); // NaN: a call that writes nothing cannot pass the check
                enc.encode(in, codes, batch);
                boolean correct = matches(codes.toArray(ValueLayout.JAVA_FLOAT), batch, reference);
                Body call = () -> enc.encode(in, codes, batch);
                double s = secondsPerCall(call, seconds);
                ObjectNode r = row("latent", batch, s, bytesPerCall(call), correct);
                r.put("provider", k.name());
                r.put("threads", KernelThreads.count());
                String core = k.details().get("blas core");
                if (core != null) {
                    r.put("core", core);
                }
                emit(out, r);
            }
        }
    }

    private void measureOrt(PrintWriter out, Path onnx, int intra, float[] x, double[] reference) throws Exception {
        int m = SIZES[SIZES.length - 1];
        try (OrtPeer ort = new OrtPeer(onnx, intra, SIZES[0])) {
            for (int batch : new int[] {1, BATCH}) {
                progress("onnxruntime intra_op=" + intra + ", batch " + batch);
                float[] codes = new float[batch * m];
                try (OrtPeer.Call c = ort.call(x, batch)) {
                    c.run(codes);
                    boolean correct = matches(codes, batch, reference);
                    Body call = () -> c.run(codes);
                    double s = secondsPerCall(call, seconds);
                    ObjectNode r = row("onnxruntime", batch, s, bytesPerCall(call), correct);
                    r.put("config", "intra_op=" + intra);
                    emit(out, r);
                }
            }
        }
    }

    private void measureTorch(PrintWriter out, Path model) throws Exception {
        Optional<String> noTorch = Peers.unavailable("torch");
        Optional<Path> script = Peers.script("encode_peers.py");
        if (noTorch.isPresent() || script.isEmpty()) {
            progress("PyTorch peer skipped: " + noTorch.orElse("bench/peers/encode_peers.py not found (run from the source tree)"));
            return;
        }
        for (Map<String, String> cfg : TrainBenchCommand.TORCH_CONFIGS) {
            String label = "intra_op=" + cfg.get("intra") + ",openblas=" + cfg.get("OPENBLAS_NUM_THREADS");
            progress("pytorch " + label);
            Map<String, String> env = Map.of("OPENBLAS_NUM_THREADS", cfg.get("OPENBLAS_NUM_THREADS"),
                    "OMP_NUM_THREADS", cfg.get("OMP_NUM_THREADS"));
            for (ObjectNode r : Peers.run(script.get(), List.of("--model", model.toString(), "--seconds", Double.toString(seconds),
                    "--intra-op", cfg.get("intra"), "--config", label), env)) {
                emit(out, r);
            }
        }
    }

    private void measureInChild(PrintWriter out, int t, List<String> names) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        cmd.add("-D" + KernelThreads.PROPERTY + "=" + t);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "bench", "encode", "--json",
                "--no-peers", "--threads=" + t, "--seconds=" + seconds, "--providers=" + String.join(",", names)));
        progress("starting a JVM with " + t + " kernel thread(s)");
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("{")) {
                    emit(out, (ObjectNode) mapper.readTree(line));
                }
            }
        }
        if (p.waitFor() != 0) {
            throw new IllegalStateException("the " + t + "-thread benchmark JVM exited with code " + p.exitValue());
        }
    }

    private static String label(JsonNode r) {
        return switch (r.get("engine").asText()) {
            case "latent" -> "latent " + r.get("provider").asText() + " threads=" + r.get("threads").asInt();
            default -> r.get("engine").asText() + " " + r.path("config").asText();
        };
    }

    /** The best (lowest) batch-1 latency and (highest) batch-256 throughput of an engine's rows. */
    private double best(String engine, int batch) {
        return rows.stream().filter(r -> r.get("engine").asText().equals(engine) && r.get("batch").asInt() == batch
                        && r.path("correct").asBoolean(true))
                .mapToDouble(r -> batch == 1 ? r.get("us_per_call").asDouble() : -r.get("samples_per_s").asDouble())
                .min().stream().map(v -> batch == 1 ? v : -v).findFirst().orElse(Double.NaN);
    }

    private void printTable(PrintWriter out) {
        rows.stream().filter(r -> r.has("core")).findFirst()
                .ifPresent(r -> out.printf("OpenBLAS core: %s (OPENBLAS_CORETYPE=%s)%n", r.get("core").asText(),
                        System.getenv().getOrDefault("OPENBLAS_CORETYPE", "unset")));
        out.println("W5 encoder 784-1000-500-250-30 (sigmoid, linear code), float32; median of timed groups");
        out.printf(Locale.ROOT, "%-40s %14s %18s %14s %16s%n", "engine", "batch-1 us", "batch-256 samp/s", "bytes/call@1",
                "bytes/call@256");
        List<String> labels = rows.stream().map(EncodeBenchCommand::label).distinct().toList();
        for (String l : labels) {
            JsonNode one = rows.stream().filter(r -> label(r).equals(l) && r.get("batch").asInt() == 1).findFirst().orElse(null);
            JsonNode big = rows.stream().filter(r -> label(r).equals(l) && r.get("batch").asInt() == BATCH).findFirst().orElse(null);
            out.printf(Locale.ROOT, "%-40s %14s %18s %14s %16s%n", l, cell(one, "us_per_call", "%.1f"), cell(big, "samples_per_s", "%.0f"),
                    cell(one, "bytes_per_call", "%.0f"), cell(big, "bytes_per_call", "%.0f"));
        }
        double lat = best("latent", 1);
        double thr = best("latent", BATCH);
        double torchLat = best("pytorch", 1);
        double ortLat = best("onnxruntime", 1);
        double ortThr = best("onnxruntime", BATCH);
        out.println("Targets (latent's best against each peer's best configuration):");
        target(out, "batch-1 latency <= 0.5x PyTorch's", lat / torchLat, lat / torchLat <= 0.5);
        target(out, "batch-1 latency <= ONNX Runtime's", lat / ortLat, lat / ortLat <= 1);
        target(out, "batch-256 throughput >= ONNX Runtime's", thr / ortThr, thr / ortThr >= 1);
    }

    private static void target(PrintWriter out, String what, double ratio, boolean met) {
        out.printf(Locale.ROOT, "  %-42s ratio %6s  %s%n", what, Double.isNaN(ratio) ? "-" : String.format(Locale.ROOT, "%.2fx", ratio),
                Double.isNaN(ratio) ? "not measured" : met ? "met" : "MISSED");
    }

    private static String cell(JsonNode r, String field, String fmt) {
        if (r == null || !r.has(field)) {
            return "-";
        }
        if (!r.path("correct").asBoolean(true)) {
            return "WRONG";
        }
        return String.format(Locale.ROOT, fmt, r.get(field).asDouble());
    }
}
