package dev.latent.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.io.SafeTensors;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, class 5 (data lost): a command that writes a model never replaces a model of another kind
 * (or a file that is not a latent model) without {@code --force}: one line naming the option, the file
 * and what it holds, exit 2, the file untouched, nothing trained. A model of the same kind is replaced
 * as before, and codes are never written over a model without {@code --force}.
 */
class OverwriteTest {

    static String kind(Path model) throws Exception {
        try (Arena a = Arena.ofConfined()) {
            return SafeTensors.read(model, a).metadata().get("kind");
        }
    }

    static String[] train(String kind, Path images, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--model", kind, "--images", images.toString(), "--epochs", "1",
                "--batch", "32", "--out", out.toString()));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void aModelOfAnotherKindIsReplacedOnlyWithForce(@TempDir Path dir) throws Exception {
        Path images = dir.resolve("images.idx");
        HardeningTest.writeIdx(images, dir.resolve("labels.idx"), 64, 28);
        Path out = dir.resolve("out");
        Path model = out.resolve("model.safetensors");
        assertEquals(0, HardeningTest.run(train("autoencoder", images, out, "--set", "hidden=4")).code());
        assertEquals("autoencoder", kind(model));
        byte[] before = Files.readAllBytes(model);
        byte[] metrics = Files.readAllBytes(out.resolve("metrics.jsonl"));

        HardeningTest.Run r = HardeningTest.run(train("hebbian", images, out));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.line().contains("--out") && r.line().contains(model.toString()) && r.line().contains("kind autoencoder")
                && r.line().contains("--force"), r.line());
        assertArrayEquals(before, Files.readAllBytes(model), "the autoencoder is untouched");
        assertArrayEquals(metrics, Files.readAllBytes(out.resolve("metrics.jsonl")), "nothing was trained");

        // the same kind again replaces it, as before
        assertEquals(0, HardeningTest.run(train("autoencoder", images, out, "--set", "hidden=5")).code());
        assertEquals("autoencoder", kind(model));
        // --force replaces another kind
        r = HardeningTest.run(train("hebbian", images, out, "--force"));
        assertEquals(0, r.code(), r.err());
        assertEquals("hebbian", kind(model));

        // codes never go over a model without --force; the demo refuses a model of another kind
        r = HardeningTest.run("encode", "--model", HardeningTest.model(dir).toString(), "--output", model.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.line().contains("--output") && r.line().contains("kind hebbian") && r.line().contains("codes"), r.line());
        assertEquals("hebbian", kind(model));
        r = HardeningTest.run("demo", "--epochs", "1", "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.line().contains("kind hebbian") && r.line().contains("--force"), r.line());
        r = HardeningTest.run("encode", "--model", HardeningTest.model(dir).toString(), "--output", model.toString(), "--force");
        assertEquals(0, r.code(), r.err());
        assertEquals(null, kind(model), "codes replaced the model");
    }

    @Test
    void aFileThatIsNotAModelIsNotReplacedByOne(@TempDir Path dir) throws Exception {
        Path images = dir.resolve("images.idx");
        HardeningTest.writeIdx(images, dir.resolve("labels.idx"), 64, 28);
        Path out = dir.resolve("out");
        Files.createDirectories(out);
        Files.writeString(out.resolve("model.safetensors"), "my notes, not a model");
        HardeningTest.Run r = HardeningTest.run(train("autoencoder", images, out, "--set", "hidden=4"));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.line().contains("not a latent model"), r.line());
        assertEquals("my notes, not a model", Files.readString(out.resolve("model.safetensors")));
        assertFalse(Files.exists(out.resolve("checkpoint.safetensors")), "nothing was trained");
    }
}
