package dev.latent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.Activation;
import dev.latent.model.autoencoder.Autoencoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code latent encode --csv} writes a header row then one row per image; {@code latent export} needs no --onnx. */
class EncodeExportCommandTest {

    @Test
    void csvHasAHeaderAndOneRowPerImageAndExportDefaultsToOnnx(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("m.safetensors");
        try (Autoencoder ae = Autoencoder.builder(784).hidden(8).activation(Activation.SIGMOID).build().init(1)) {
            ae.save(model, null);
        }
        Path csv = dir.resolve("codes.csv");
        assertEquals(0, Main.run("encode", "--model", model.toString(), "--output", csv.toString(), "--csv"));
        List<String> lines = Files.readAllLines(csv);
        assertEquals("label,f0,f1,f2,f3,f4,f5,f6,f7", lines.getFirst());
        assertEquals(10_001, lines.size(), "a header and one row per embedded digit");
        for (String l : lines.subList(1, lines.size())) {
            assertEquals(9, l.split(",").length, l);
        }
        Path onnx = dir.resolve("m.onnx");
        assertEquals(0, Main.run("export", "--model", model.toString(), "--output", onnx.toString()));
        assertTrue(Files.size(onnx) > 8 * 784 * 4, "the ONNX file holds at least the encoder's weights: " + Files.size(onnx) + " bytes");
    }
}
