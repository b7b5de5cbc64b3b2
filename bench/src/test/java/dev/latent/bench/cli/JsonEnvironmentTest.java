package dev.latent.bench.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latent.bench.harness.Environment;
import dev.latent.io.LatentVersion;
import dev.latent.kernel.KernelThreads;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every {@code latent bench ... --json} row says where it ran, as JMH's results do: a real
 * {@code bench gemm} run (scalar kernels on one small shape) at this JVM's kernel threads and, when
 * this JVM has more than one, at one thread in a child JVM, whose rows must carry the child's threads.
 */
class JsonEnvironmentTest {

    static final List<String> FIELDS = List.of("latent_version", "jdk_version", "jdk_vendor", "vm_name", "cores", "kernels",
            "kernels_requested", "vector_bits", "blas_core", "openblas_coretype", "kernel_threads");

    @Test
    void everyJsonRowCarriesTheEnvironment() throws Exception {
        assertEquals(FIELDS, List.copyOf(Environment.fields().keySet()), "the documented fields, in order");
        int here = KernelThreads.count();
        String threads = here == 1 ? "1" : "1," + here;
        PrintStream old = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = BenchCommand.run("gemm", "--json", "--kernels", "scalar", "--shapes", "16x16x16", "--threads", threads,
                    "--seconds", "0.05");
        } finally {
            System.setOut(old);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, out);
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> rows = new ArrayList<>();
        for (String line : out.lines().filter(l -> l.startsWith("{")).toList()) {
            rows.add(json.readTree(line));
        }
        assertEquals(here == 1 ? 1 : 2, rows.size(), out);
        for (JsonNode r : rows) {
            for (String f : FIELDS) {
                assertTrue(r.hasNonNull(f) && !r.get(f).asText().isBlank(), "row lacks " + f + ": " + r);
            }
            assertEquals(LatentVersion.get(), r.get("latent_version").asText());
            assertEquals(Runtime.version().toString(), r.get("jdk_version").asText());
            assertEquals(Runtime.getRuntime().availableProcessors(), r.get("cores").asInt());
            assertTrue(r.get("cores").isIntegralNumber() && r.get("vector_bits").isIntegralNumber() && r.get("kernel_threads").isIntegralNumber(), r.toString());
            // the row's own threads are the JVM's kernel threads it ran in (the child's for the child's row)
            assertEquals(r.get("threads").asInt(), r.get("kernel_threads").asInt(), r.toString());
            assertFalse(r.get("kernels").asText().startsWith("none"), r.toString());
        }
        assertEquals(1, rows.get(0).get("kernel_threads").asInt(), "the first row is the one-thread run: " + rows.get(0));
    }
}
