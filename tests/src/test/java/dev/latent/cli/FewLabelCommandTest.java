package dev.latent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latent.data.Dataset;
import dev.latent.data.Patches;
import dev.latent.io.ModelFile;
import dev.latent.kernel.Kernels;
import dev.latent.model.gan.Gan;
import dev.latent.model.hebbian.Hebbian;
import dev.latent.model.kmeans.KMeansFeatures;
import dev.latent.model.kmeans.KMeansStack;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code latent fewlabel} on model files of several kinds, run through {@link Main#run} as a user runs
 * it: tiny k-means (one and two layers) and DCGAN models, on an IDX pair of the first 1,500 embedded
 * digits (1,200 pool, 300 test), 10 labels per class, one draw. Each model's row must be present and
 * well above chance (0.10): 0.30 is 11 standard deviations of a chance classifier's accuracy on 300
 * test digits above chance, and well below what the tiny models reach (printed by the test).
 */
class FewLabelCommandTest {

    private final Kernels kern = Kernels.current();

    @Test
    void readsKmeansAndDcganFilesByKind(@TempDir Path dir) throws Exception {
        Path km1 = dir.resolve("km1.safetensors");
        Path km2 = dir.resolve("km2.safetensors");
        Path gan = dir.resolve("gan.safetensors");
        try (Dataset all = Dataset.embeddedMnist(); Dataset some = all.subset("500", IntStream.range(0, 500).toArray())) {
            KMeansFeatures.Config c = KMeansFeatures.Config.defaults(8).withStride(3).withTraining(2_000, 3, false, 0, 1);
            try (KMeansFeatures f = KMeansFeatures.train(Patches.of(some), c, kern)) {
                f.save(km1, ModelFile.provenance("test", 1, "none"));
            }
            KMeansStack.Layer2 l2 = KMeansStack.Layer2.defaults(8).withMaps(4).withTraining(2_000, 100, 3, 2);
            try (KMeansStack s = KMeansStack.train(Patches.of(some), c, l2, kern)) {
                s.save(km2, ModelFile.provenance("test", 1, "none"));
            }
        }
        try (Gan g = new Gan(Gan.Config.dcgan28().withWidths(8, 4, 4, 8).withZ(8), kern)) {
            g.init(1);
            g.save(gan, ModelFile.provenance("test", 1, "none"));
        }
        Path out = dir.resolve("out");
        Path images = dir.resolve("images.idx");
        Path labels = dir.resolve("labels.idx");
        writeIdx(images, labels, 1_500);
        int code = Main.run("fewlabel", "--model", km1.toString(), "--model", km2.toString(), "--model", gan.toString(),
                "--input", images.toString(), "--labels", labels.toString(),
                "--budgets", "10", "--draws", "1", "--mlp-hidden", "16", "--out", out.toString());
        assertEquals(0, code);
        JsonNode methods = new ObjectMapper().readTree(out.resolve("fewlabel.json").toFile()).get("methods");
        System.out.println("fewlabel.json methods: " + methods);
        assertEquals(5, methods.size(), methods.toString());
        String[] expect = {"km1.safetensors kmeans features (32)", "km2.safetensors kmeans features (64)",
                "gan.safetensors dcgan features (192)"};
        for (int i = 0; i < expect.length; i++) {
            JsonNode m = methods.get(2 + i);
            assertEquals("softmax on " + expect[i], m.get("name").asText());
            assertTrue(m.get("accuracy_mean").asDouble() > 0.30, m.toString());
        }
    }

    /** The first n embedded digits as an IDX image file (ubyte, n x 28 x 28) and label file (ubyte, n). */
    private static void writeIdx(Path images, Path labels, int n) throws java.io.IOException {
        try (Dataset all = Dataset.embeddedMnist()) {
            java.nio.ByteBuffer im = java.nio.ByteBuffer.allocate(16 + n * 784);
            im.putInt(0x00000803).putInt(n).putInt(28).putInt(28);
            java.nio.ByteBuffer lb = java.nio.ByteBuffer.allocate(8 + n);
            lb.putInt(0x00000801).putInt(n);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < 784; j++) {
                    im.put((byte) Math.round(all.images().get((long) i * 784 + j) * 255f));
                }
                lb.put((byte) all.label(i));
            }
            java.nio.file.Files.write(images, im.array());
            java.nio.file.Files.write(labels, lb.array());
        }
    }

    /**
     * {@code --joint} adds the row "joint loss (MLP + decoder)" right after backprop alone (and only with
     * the option: the test above counts 5 rows without it), trained on the same 10-label draw of the 1,200
     * pool digits; above chance by the margin of the test above (0.30, 11 standard deviations on 300
     * test digits). A 16-unit MLP keeps its 16 fits affordable.
     */
    @Test
    void jointOptionAddsTheJointLossRow(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        Path images = dir.resolve("images.idx");
        Path labels = dir.resolve("labels.idx");
        writeIdx(images, labels, 1_500);
        int code = Main.run("fewlabel", "--joint", "--input", images.toString(), "--labels", labels.toString(),
                "--budgets", "10", "--draws", "1", "--mlp-hidden", "16", "--out", out.toString());
        assertEquals(0, code);
        JsonNode methods = new ObjectMapper().readTree(out.resolve("fewlabel.json").toFile()).get("methods");
        assertEquals(3, methods.size(), methods.toString());
        JsonNode joint = methods.get(2);
        assertEquals("joint loss (MLP + decoder)", joint.get("name").asText());
        assertTrue(joint.get("accuracy_mean").asDouble() > 0.30, joint.toString());
    }

    @Test
    void aModelOfAnotherInputShapeIsBadInputNamingTheFileAndBothShapes(@TempDir Path dir) throws Exception {
        // A Hebbian model of 20 inputs cannot read the 28x28 digits: exit 2, one line naming the file and both shapes.
        Path gan = dir.resolve("hebbian20.safetensors");
        new Hebbian(Hebbian.Rule.SANGER, 4, 20, false, 1).save(gan, ModelFile.provenance("test", 1, "none"));
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = Main.run("fewlabel", "--model", gan.toString(), "--budgets", "1", "--draws", "1",
                    "--out", dir.resolve("out").toString());
        } finally {
            System.setErr(old);
        }
        assertEquals(2, code);
        String msg = err.toString(StandardCharsets.UTF_8);
        assertTrue(msg.contains(gan.toString()) && msg.contains("[20]") && msg.contains("28x28"), msg);
    }
}
