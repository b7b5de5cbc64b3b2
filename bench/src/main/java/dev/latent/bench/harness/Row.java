package dev.latent.bench.harness;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One result of {@code latent bench}: a flat JSON object printed as one line with {@code --json}, in
 * the order fields were put. Every row has {@code bench} (gemm, train, encode, kmeans) and
 * {@code engine} (latent, pytorch, onnxruntime, scikit-learn); latent's rows name their kernel
 * {@code provider} and {@code threads}; a {@link Report} adds the {@link Environment} (latent and JDK
 * version, cores, kernels, vector bits, BLAS core, kernel threads) to every row. Rows from peers and child
 * JVMs are parsed back from their lines.
 */
public final class Row {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ObjectNode node;

    private Row(ObjectNode node) {
        this.node = node;
    }

    public static Row of(String bench, String engine) {
        return new Row(JSON.createObjectNode()).put("bench", bench).put("engine", engine);
    }

    /** The row printed as {@code line}; peers' rows without {@code engine} get their {@code provider} as engine. */
    public static Row parse(String line) {
        try {
            JsonNode n = JSON.readTree(line);
            if (!(n instanceof ObjectNode o)) {
                throw new IllegalArgumentException("not a JSON object: " + line);
            }
            if (!o.has("engine") && o.has("provider")) {
                o.put("engine", o.get("provider").asText());
            }
            return new Row(o);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a JSON row: " + line, e);
        }
    }

    public Row put(String name, String value) {
        node.put(name, value);
        return this;
    }

    public Row put(String name, long value) {
        node.put(name, value);
        return this;
    }

    public Row put(String name, boolean value) {
        node.put(name, value);
        return this;
    }

    /** Puts {@code value} rounded to {@code decimals} places (benchmarks are not precise beyond that). */
    public Row put(String name, double value, int decimals) {
        double scale = Math.pow(10, decimals);
        node.put(name, Math.round(value * scale) / scale);
        return this;
    }

    /** Puts an unrounded value (e.g. an inertia to compare between engines). */
    public Row put(String name, double value) {
        node.put(name, value);
        return this;
    }

    public boolean has(String name) {
        return node.has(name);
    }

    /** The field as text, or "" when absent. */
    public String text(String name) {
        return node.path(name).asText("");
    }

    /** The field as a number, or NaN when absent. */
    public double number(String name) {
        JsonNode v = node.get(name);
        return v == null || !v.isNumber() ? Double.NaN : v.doubleValue();
    }

    /** False only when the row's result check failed ({@code "correct": false}). */
    public boolean correct() {
        return node.path("correct").asBoolean(true);
    }

    /** The one-line JSON form. */
    @Override
    public String toString() {
        return node.toString();
    }
}
