package dev.latent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.data.Dataset;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.model.kmeans.KMeansFeatures;
import dev.latent.model.autoencoder.Autoencoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code latent encode --csv} writes a header row then one row per image; {@code latent export} needs no
 * --onnx, exports a non-dense kind (k-means), and refuses a model whose features it cannot write with
 * one line and exit code 2, writing nothing.
 */
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

    @Test
    void exportWritesKMeansFeaturesAndRefusesAFileWithoutInputShape(@TempDir Path dir) throws Exception {
        Path km = dir.resolve("km.safetensors");
        Path old = dir.resolve("old.safetensors");
        try (Dataset digits = Dataset.embeddedMnist();
             KMeansFeatures f = KMeansFeatures.train(KMeansFeatures.images(digits.images().rows(0, 50), 28, 28),
                     KMeansFeatures.Config.defaults(4).withTraining(500, 2, false, 0, 1), Kernels.current());
             KMeansFeatures noShape = KMeansFeatures.of(f.config(), Kernels.current(), f.whitening(), f.centroids(), null)) {
            f.save(km, null);
            noShape.save(old, null);
        }
        Path onnx = dir.resolve("km.onnx");
        assertEquals(0, Main.run("export", "--model", km.toString(), "--output", onnx.toString()));
        assertTrue(Files.size(onnx) > 4 * 36 * 4, "the ONNX file holds at least the centroids: " + Files.size(onnx) + " bytes");
        HardeningTest.Run r = HardeningTest.run("export", "--model", old.toString(), "--output", dir.resolve("old.onnx").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.line().startsWith("latent export: " + old + ": cannot export its kmeans features to ONNX: ")
                && r.line().contains("input_shape"), r.line());
        assertTrue(Files.notExists(dir.resolve("old.onnx")));
    }
}
