package dev.latent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latent.kernel.Kernels;
import dev.latent.model.rbm.Rbm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code latent train --kind rbm} as a user runs it (through {@link Main#run}), on the embedded digits
 * with a tiny budget: 2 epochs of a 16-hidden-unit PCD-1 RBM. It writes a loadable model whose config
 * holds the {@code --set} values, filters.png, and metrics.jsonl with one line per epoch carrying the
 * free energy, the reconstruction error (falling) and, for so few hidden units, the exact
 * log-likelihood; an unknown {@code --set} key is exit 2.
 */
class RbmJobTest {

    @Test
    void trainsWritesMetricsAndAModel(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        int code = Main.run("train", "--kind", "rbm", "--epochs", "2", "--batch", "100", "--out", out.toString(),
                "--set", "hidden=16", "--set", "persistent=true", "--set", "eta=0.1");
        assertEquals(0, code);
        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(2, lines.size(), lines.toString());
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(lines.get(0));
        JsonNode last = json.readTree(lines.get(1));
        System.out.println("rbm job metrics: " + lines);
        for (String key : List.of("free_energy", "reconstruction_error", "test_free_energy", "test_reconstruction_error", "log_likelihood",
                "test_log_likelihood")) {
            assertTrue(last.get(key).isNumber() && Double.isFinite(last.get(key).asDouble()), key + " in " + last);
        }
        assertTrue(last.get("reconstruction_error").asDouble() < first.get("reconstruction_error").asDouble(), lines.toString());
        assertTrue(Files.size(out.resolve("filters.png")) > 0);
        try (Rbm m = Rbm.load(out.resolve("model.safetensors"), Kernels.current())) {
            assertEquals(16, m.featureSize());
            assertTrue(m.config().persistent());
            assertEquals(0.1, m.config().eta());
            assertEquals(160, m.updates());
        }
        assertEquals(2, Main.run("train", "--kind", "rbm", "--epochs", "1", "--out", out.toString(), "--set", "hiden=16"));
    }
}
