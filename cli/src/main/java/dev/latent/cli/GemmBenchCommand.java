package dev.latent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.kernel.Gemm;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.KernelThreads;
import dev.latent.kernel.Kernels;
import dev.latent.kernel.Transpose;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latent bench gemm}: GFLOP/s of every available kernel provider's GEMM on square and training
 * shapes, at one thread and at all cores, with each provider's ratio to openblas. Kernel threads are
 * fixed per JVM, so thread counts other than this JVM's run in a child JVM that reports JSON lines.
 * Each (provider, shape) result is checked once against a double-precision reference on sampled
 * entries before it is timed: a fast wrong kernel is reported as WRONG and fails the command.
 */
@Command(name = "gemm", mixinStandardHelpOptions = true,
        description = "GEMM GFLOP/s per provider (C = A*B, row-major, M x K times K x N).")
final class GemmBenchCommand implements java.util.concurrent.Callable<Integer> {

    static final List<String> DEFAULT_SHAPES = List.of(
            "64x64x64", "128x128x128", "256x256x256", "512x512x512", "1024x1024x1024", "2048x2048x2048",
            "256x784x1024", "784x256x1024", "256x1024x784", "1x784x1000");

    /** The scalar triple loop is the specification, not a contender: time it only on small shapes. */
    static final long SCALAR_MAX_FLOP = 2L * 256 * 256 * 256;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--providers", split = ",", description = "Providers to time (default: every available one).")
    List<String> providers;

    @Option(names = "--shapes", split = ",", description = "MxKxN shapes (default: squares 64..2048 and the training shapes).")
    List<String> shapes;

    @Option(names = "--threads", split = ",", description = "Kernel thread counts (default: 1 and all cores).")
    List<Integer> threads;

    @Option(names = "--seconds", defaultValue = "0.6", description = "Timed seconds per measurement (after a warm-up of half that).")
    double seconds;

    @Option(names = "--json", description = "One JSON object per line instead of a table.")
    boolean json;

    private final ObjectMapper mapper = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        List<String> names = providers != null ? providers : KernelRegistry.availableNames();
        List<int[]> dims = new ArrayList<>();
        for (String s : shapes != null ? shapes : DEFAULT_SHAPES) {
            dims.add(parseShape(s));
        }
        List<Integer> counts = threads != null ? threads
                : KernelThreads.count() == 1 ? List.of(1) : List.of(1, KernelThreads.count());
        List<ObjectNode> results = new ArrayList<>();
        for (int t : counts) {
            if (t == KernelThreads.count()) {
                results.addAll(measureHere(names, dims, out));
            } else {
                results.addAll(measureInChild(t, names));
            }
        }
        boolean wrong = results.stream().anyMatch(r -> !r.path("correct").asBoolean(true));
        if (!json) {
            printTable(out, results, counts);
        }
        out.flush();
        return wrong ? 1 : 0;
    }

    private List<ObjectNode> measureHere(List<String> names, List<int[]> dims, PrintWriter out) {
        List<ObjectNode> rows = new ArrayList<>();
        for (String name : names) {
            Kernels k = KernelRegistry.load(name);
            for (int[] d : dims) {
                long flop = 2L * d[0] * d[1] * d[2];
                if (name.equals("scalar") && flop > SCALAR_MAX_FLOP) {
                    continue;
                }
                if (!json) {
                    System.err.printf("bench gemm: %s %dx%dx%d on %d thread(s)%n", name, d[0], d[1], d[2], KernelThreads.count());
                }
                ObjectNode r = measure(k, d[0], d[1], d[2]);
                rows.add(r);
                if (json) {
                    out.println(r);
                    out.flush();
                }
            }
        }
        return rows;
    }

    private ObjectNode measure(Kernels kernels, int m, int k, int n) {
        Gemm gemm = kernels.gemm();
        try (Workspace ws = new Workspace("bench-gemm")) {
            Tensor a = ws.allocate(m, k);
            Tensor b = ws.allocate(k, n);
            Tensor c = ws.allocate(m, n);
            SplittableRandom rnd = new SplittableRandom(42);
            fill(a, rnd);
            fill(b, rnd);
            Runnable call = () -> gemm.gemm(Transpose.N, Transpose.N, m, n, k, 1f, a.segment(), a.offset(), k,
                    b.segment(), b.offset(), n, 0f, c.segment(), c.offset(), n);
            call.run();
            boolean correct = check(a, b, c, m, k, n);
            double flop = 2.0 * m * n * k;
            long warmEnd = System.nanoTime() + (long) (seconds * 0.5e9);
            while (System.nanoTime() < warmEnd) {
                call.run();
            }
            // Time batches of calls long enough (>= 2 ms) for the clock; keep every batch's rate.
            int perBatch = (int) Math.max(1, Math.min(1 << 20, 2e-3 / Math.max(1e-9, timeOne(call))));
            List<Double> rates = new ArrayList<>();
            long end = System.nanoTime() + (long) (seconds * 1e9);
            do {
                long t0 = System.nanoTime();
                for (int i = 0; i < perBatch; i++) {
                    call.run();
                }
                long dt = System.nanoTime() - t0;
                rates.add(flop * perBatch / dt);
            } while (System.nanoTime() < end || rates.size() < 3);
            double[] sorted = rates.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            ObjectNode r = mapper.createObjectNode();
            r.put("bench", "gemm");
            r.put("provider", kernels.name());
            r.put("m", m);
            r.put("k", k);
            r.put("n", n);
            r.put("threads", KernelThreads.count());
            r.put("gflops", round(sorted[sorted.length / 2]));
            r.put("gflops_best", round(sorted[sorted.length - 1]));
            r.put("samples", sorted.length);
            r.put("correct", correct);
            String core = kernels.details().get("blas core");
            if (core != null) {
                r.put("core", core);
            }
            return r;
        }
    }

    private static double timeOne(Runnable call) {
        long t0 = System.nanoTime();
        call.run();
        return (System.nanoTime() - t0) * 1e-9;
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    private static void fill(Tensor t, SplittableRandom rnd) {
        float[] v = new float[(int) t.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        t.copyFrom(v);
    }

    /**
     * Checks up to 64 sampled entries of C against a double-precision dot product. Tolerance: a float
     * accumulation of k products errs by at most about k * eps * sum |a||b|; 2x that plus a denormal floor.
     */
    private static boolean check(Tensor a, Tensor b, Tensor c, int m, int k, int n) {
        SplittableRandom rnd = new SplittableRandom(7);
        float eps = Math.ulp(1f);
        for (int s = 0; s < 64; s++) {
            int i = rnd.nextInt(m);
            int j = rnd.nextInt(n);
            double ref = 0;
            double abs = 0;
            for (int p = 0; p < k; p++) {
                double prod = (double) a.get(i, p) * b.get(p, j);
                ref += prod;
                abs += Math.abs(prod);
            }
            if (!(Math.abs(c.get(i, j) - ref) <= 2.0 * k * eps * abs + 1e-30)) {
                return false;
            }
        }
        return true;
    }

    private List<ObjectNode> measureInChild(int t, List<String> names) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        cmd.add("-D" + KernelThreads.PROPERTY + "=" + t);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "bench", "gemm", "--json"));
        cmd.add("--threads=" + t);
        cmd.add("--seconds=" + seconds);
        cmd.add("--providers=" + String.join(",", names));
        if (shapes != null) {
            cmd.add("--shapes=" + String.join(",", shapes));
        }
        if (!json) {
            System.err.printf("bench gemm: starting a JVM with %d kernel thread(s)%n", t);
        }
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<ObjectNode> rows = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                JsonNode node = mapper.readTree(line);
                rows.add((ObjectNode) node);
                if (json) {
                    spec.commandLine().getOut().println(line);
                    spec.commandLine().getOut().flush();
                }
            }
        }
        int code = p.waitFor();
        if (code != 0 && rows.isEmpty()) {
            throw new IllegalStateException("the " + t + "-thread benchmark JVM exited with code " + code);
        }
        return rows;
    }

    private static void printTable(PrintWriter out, List<ObjectNode> rows, List<Integer> counts) {
        List<String> provs = rows.stream().map(r -> r.get("provider").asText()).distinct().toList();
        boolean haveBlas = provs.contains("openblas");
        rows.stream().filter(r -> r.has("core")).findFirst()
                .ifPresent(r -> out.printf("OpenBLAS core: %s (OPENBLAS_CORETYPE=%s)%n", r.get("core").asText(),
                        System.getenv().getOrDefault("OPENBLAS_CORETYPE", "unset")));
        out.println("GEMM GFLOP/s (median of timed batches; in brackets the ratio to openblas)");
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-16s %7s", "M x K x N", "threads"));
        for (String p : provs) {
            head.append(String.format(Locale.ROOT, " %18s", p));
        }
        out.println(head);
        Map<String, Map<String, ObjectNode>> byRow = new LinkedHashMap<>();
        for (int t : counts) {
            for (ObjectNode r : rows) {
                if (r.get("threads").asInt() != t) {
                    continue;
                }
                String key = r.get("m").asInt() + "x" + r.get("k").asInt() + "x" + r.get("n").asInt() + "|" + t;
                byRow.computeIfAbsent(key, x -> new LinkedHashMap<>()).put(r.get("provider").asText(), r);
            }
        }
        for (Map.Entry<String, Map<String, ObjectNode>> e : byRow.entrySet()) {
            String[] parts = e.getKey().split("\\|");
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-16s %7s", parts[0], parts[1]));
            ObjectNode blas = e.getValue().get("openblas");
            for (String p : provs) {
                ObjectNode r = e.getValue().get(p);
                String cell;
                if (r == null) {
                    cell = "-";
                } else if (!r.get("correct").asBoolean()) {
                    cell = "WRONG";
                } else {
                    double g = r.get("gflops").asDouble();
                    cell = haveBlas && blas != null
                            ? String.format(Locale.ROOT, "%.1f (%.2fx)", g, g / blas.get("gflops").asDouble())
                            : String.format(Locale.ROOT, "%.1f", g);
                }
                line.append(String.format(Locale.ROOT, " %18s", cell));
            }
            out.println(line);
        }
    }

    static int[] parseShape(String s) {
        String[] parts = s.trim().toLowerCase(Locale.ROOT).split("x");
        try {
            if (parts.length == 1) {
                int n = Integer.parseInt(parts[0]);
                return positive(s, new int[] {n, n, n});
            }
            if (parts.length == 3) {
                return positive(s, new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), Integer.parseInt(parts[2])});
            }
        } catch (NumberFormatException e) {
            // fall through to the error below
        }
        throw new IllegalArgumentException("bad shape '" + s + "': expected MxKxN (e.g. 256x784x1024) or N");
    }

    private static int[] positive(String s, int[] d) {
        if (Arrays.stream(d).anyMatch(x -> x < 1)) {
            throw new IllegalArgumentException("bad shape '" + s + "': dimensions must be >= 1");
        }
        return d;
    }
}
