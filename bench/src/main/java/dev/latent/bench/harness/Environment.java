package dev.latent.bench.harness;

import dev.latent.io.LatentVersion;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.KernelThreads;
import dev.latent.kernel.Kernels;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a benchmark ran, put on every row as JMH puts its environment beside every result, so a row
 * read on its own says what produced it: {@code latent_version}, {@code jdk_version}, {@code jdk_vendor},
 * {@code vm_name}, {@code cores} (available processors), {@code kernels} (the provider this JVM chose,
 * or was told to use) and {@code kernels_requested} (auto or a name), {@code vector_bits} (the Vector API
 * size, 0 when the simd provider cannot run), {@code blas_core} (the core OpenBLAS runs, or "none" when it
 * does not load), {@code openblas_coretype} (OPENBLAS_CORETYPE, or "unset") and {@code kernel_threads}.
 * A field the row already has is kept: a child JVM's rows carry the child's environment (its threads).
 */
public final class Environment {

    private static final Map<String, Object> FIELDS = read();

    private Environment() {
    }

    /** The environment's fields, in row order. */
    public static Map<String, Object> fields() {
        return FIELDS;
    }

    /** {@code row} with every environment field it lacks. */
    public static Row put(Row row) {
        FIELDS.forEach((name, value) -> {
            if (!row.has(name)) {
                if (value instanceof Integer i) {
                    row.put(name, (long) i);
                } else {
                    row.put(name, value.toString());
                }
            }
        });
        return row;
    }

    private static Map<String, Object> read() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("latent_version", LatentVersion.get());
        m.put("jdk_version", Runtime.version().toString());
        m.put("jdk_vendor", System.getProperty("java.vendor", "unknown"));
        m.put("vm_name", System.getProperty("java.vm.name", "unknown"));
        m.put("cores", Runtime.getRuntime().availableProcessors());
        Kernels chosen = null;
        try {
            chosen = Kernels.current();
        } catch (RuntimeException e) { // a bad -Dlatent.kernels: rows of providers named by --kernels still say where they ran
            m.put("kernels", "none (" + e.getMessage() + ")");
        }
        if (chosen != null) {
            m.put("kernels", chosen.name());
        }
        m.put("kernels_requested", KernelRegistry.requested());
        m.put("vector_bits", vectorBits(chosen));
        m.put("blas_core", KernelRegistry.availableNames().contains("openblas")
                ? KernelRegistry.load("openblas").details().getOrDefault("blas core", "unknown") : "none");
        m.put("openblas_coretype", System.getenv().getOrDefault("OPENBLAS_CORETYPE", "unset"));
        m.put("kernel_threads", KernelThreads.count());
        return java.util.Collections.unmodifiableMap(m);
    }

    /** The Vector API size the chosen kernels (may be null) use, else the simd provider's, else 0 (no Vector API here). */
    private static int vectorBits(Kernels chosen) {
        String bits = chosen == null ? null : chosen.details().entrySet().stream().filter(e -> e.getKey().endsWith("vector.bits"))
                .map(Map.Entry::getValue).findFirst().orElse(null);
        if (bits == null && KernelRegistry.availableNames().contains("simd")) {
            bits = KernelRegistry.load("simd").details().get("vector.bits");
        }
        return bits == null ? 0 : Integer.parseInt(bits);
    }
}
