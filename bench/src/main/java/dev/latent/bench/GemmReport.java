package dev.latent.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latent.bench.harness.GemmShape;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a JMH JSON result file ({@code -rf json -rff FILE}) and prints, for each GEMM benchmark class
 * and shape, every provider's GFLOP/s with its error and its ratio to openblas (the bar a Java kernel is
 * held to). GFLOP/s is the {@code gflop} aux counter ({@link GemmCounters}) when present, otherwise the
 * call rate times 2mnk / 1e9 (the same number).
 *
 * <p>{@code java -cp bench/target/benchmarks.jar dev.latent.bench.GemmReport [jmh-result.json]};
 * {@link BenchMain} also prints it after every run.
 */
public final class GemmReport {

    /** The provider every other is compared with. */
    static final String BASELINE = "openblas";

    private GemmReport() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length > 1) {
            System.err.println("usage: GemmReport [jmh-result.json]");
            System.exit(2);
        }
        Path json = Path.of(args.length == 1 ? args[0] : "jmh-result.json");
        if (!Files.isRegularFile(json)) {
            System.err.println("GemmReport: no file " + json.toAbsolutePath() + "; run the benchmarks with -rf json -rff FILE"
                    + " and pass FILE");
            System.exit(2);
        }
        print(json, System.out);
    }

    /** One GEMM result: GFLOP/s and the half-width of JMH's 99.9% confidence interval (NaN if unknown). */
    private record Score(double gflops, double error) {
    }

    /** Prints the table for every GEMM result in {@code json}; prints nothing if there is none. */
    static void print(Path json, PrintStream out) throws IOException {
        JsonNode root = new ObjectMapper().readTree(Files.readString(json));
        // benchmark class -> shape -> provider -> score, in the order JMH ran them
        Map<String, Map<String, Map<String, Score>>> table = new LinkedHashMap<>();
        List<String> providers = new ArrayList<>();
        for (JsonNode run : root) {
            JsonNode params = run.path("params");
            String benchmark = run.path("benchmark").asText();
            if (!params.has("provider") || !params.has("shape") || !benchmark.contains(".Gemm")) {
                continue;
            }
            String provider = params.get("provider").asText();
            String shape = params.get("shape").asText();
            String benchmarkClass = benchmark.substring(benchmark.lastIndexOf('.', benchmark.lastIndexOf('.') - 1) + 1,
                    benchmark.lastIndexOf('.'));
            table.computeIfAbsent(benchmarkClass, x -> new LinkedHashMap<>())
                    .computeIfAbsent(shape, x -> new LinkedHashMap<>())
                    .put(provider, score(run, shape));
            if (!providers.contains(provider)) {
                providers.add(provider);
            }
        }
        if (table.isEmpty()) {
            return;
        }
        out.println();
        out.println("GEMM GFLOP/s (± half-width of the 99.9% confidence interval, absent below 3 measured iterations),"
                + " [ratio to " + BASELINE + " on the same shape]");
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-22s", "shape (MxKxN)"));
        for (String p : providers) {
            header.append(String.format(Locale.ROOT, "  %-26s", p));
        }
        boolean anyBaseline = false;
        for (Map.Entry<String, Map<String, Map<String, Score>>> bench : table.entrySet()) {
            out.println();
            out.println(bench.getKey());
            out.println(header.toString().stripTrailing());
            for (Map.Entry<String, Map<String, Score>> row : bench.getValue().entrySet()) {
                Score base = row.getValue().get(BASELINE);
                anyBaseline |= base != null;
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-22s", row.getKey()));
                for (String p : providers) {
                    Score s = row.getValue().get(p);
                    String cell = s == null ? "-" : String.format(Locale.ROOT, "%8.2f%s%s", s.gflops,
                            Double.isNaN(s.error) ? "" : String.format(Locale.ROOT, " ±%.2f", s.error),
                            base == null ? "" : String.format(Locale.ROOT, " [%.2fx]", s.gflops / base.gflops));
                    line.append(String.format(Locale.ROOT, "  %-26s", cell));
                }
                out.println(line.toString().stripTrailing());
            }
        }
        if (!anyBaseline) {
            out.println();
            out.println("(no " + BASELINE + " results in this file, so no ratios)");
        }
    }

    private static Score score(JsonNode run, String shape) {
        JsonNode aux = run.path("secondaryMetrics").path("gflop");
        if (aux.has("score")) {
            return new Score(number(aux.get("score")), number(aux.path("scoreError")));
        }
        // No aux counter (e.g. a run in a mode without it): derive from the call rate.
        JsonNode primary = run.path("primaryMetric");
        if (!"ops/s".equals(primary.path("scoreUnit").asText())) {
            throw new IllegalArgumentException("cannot derive GFLOP/s from unit '" + primary.path("scoreUnit").asText()
                    + "' of " + run.path("benchmark").asText() + " " + shape + "; run it in throughput mode (-bm thrpt -tu s)");
        }
        double gflopPerCall = GemmShape.parse(shape).flop() / 1e9;
        return new Score(number(primary.get("score")) * gflopPerCall, number(primary.path("scoreError")) * gflopPerCall);
    }

    /** JMH writes NaN (e.g. the error of a single iteration) as the string "NaN". */
    private static double number(JsonNode node) {
        if (node == null || node.isMissingNode() || node.isNull()) {
            return Double.NaN;
        }
        return node.isNumber() ? node.doubleValue() : Double.parseDouble(node.asText());
    }
}
