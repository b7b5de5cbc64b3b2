package dev.latent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI turns bad input into one line on stderr naming the file, and exit code 2. */
class MainTest {

    @Test
    void corruptModelFileIsOneLineAndExitTwo(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.safetensors");
        Files.write(bad, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        PrintStream old = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run("encode", "--model", bad.toString(), "--output", dir.resolve("o.safetensors").toString());
        } finally {
            System.setErr(old);
        }
        assertEquals(2, code);
        assertTrue(Files.notExists(dir.resolve("o.safetensors")), "no output may be written");
        // picocli writes the error to its own stderr writer (the JVM's System.err, captured above):
        // exactly one line that names the file.
        String[] lines = captured.toString(StandardCharsets.UTF_8).lines()
                .filter(l -> l.startsWith("latent ")).toArray(String[]::new);
        assertEquals(1, lines.length, captured.toString(StandardCharsets.UTF_8));
        assertTrue(lines[0].contains(bad.toString()), lines[0]);
    }

    @Test
    void unknownModelKindExitsTwo() {
        assertEquals(2, Main.run("train", "--kind", "nonsense", "--epochs", "1"));
    }

    @Test
    void helpExitsZero() {
        assertEquals(0, Main.run("--help"));
        assertEquals(0, Main.run("demo", "--help"));
    }
}
