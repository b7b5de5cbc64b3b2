package dev.latent.io;

import dev.latent.serve.Encoder;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.latent.kernel.Kernels;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The published format is enough: tools/latent_model.py (json + numpy only) reads a latent model file
 * and reproduces its encoder's output, and writes a file (tensors reversed, header unpadded so the data
 * is unaligned) that latent loads bit-exactly. Runs when /usr/bin/python3 with numpy is present
 * (.ci/run installs it).
 */
class PythonInteropTest {

    static Path script;

    @BeforeAll
    static void findPython() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python), "no /usr/bin/python3");
        Process p = new ProcessBuilder(python.toString(), "-c", "import numpy").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assumeTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "no numpy for /usr/bin/python3");
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("tools/latent_model.py"))) {
            dir = dir.getParent();
        }
        assumeTrue(dir != null, "tools/latent_model.py not found above " + Path.of("").toAbsolutePath());
        script = dir.resolve("tools/latent_model.py");
    }

    static void python(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("/usr/bin/python3", script.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "python failed: " + out);
    }

    @Test
    void numpyReproducesTheEncoder(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("ae.safetensors");
        try (Autoencoder ae = EncoderTest.trainedish(8); Workspace ws = new Workspace("py")) {
            ae.save(model, null);
            Tensor x = EncoderTest.rows(ws, 50, 20, 4);
            SafeTensors.write(dir.resolve("x.safetensors"), Map.of("x", x), Map.of());
            python("encode", model.toString(), dir.resolve("x.safetensors").toString(), dir.resolve("codes.safetensors").toString());
            Tensor ours = ae.encode(x, ws);
            try (Arena a = Arena.ofConfined()) {
                float[] theirs = SafeTensors.read(dir.resolve("codes.safetensors"), a).tensor("codes", 50, 7).toArray();
                float[] mine = ours.toArray();
                // numpy computes in double and rounds once; latent in float: 1e-5 relative.
                for (int i = 0; i < mine.length; i++) {
                    assertEquals(theirs[i], mine[i], 1e-5 * Math.max(1, Math.abs(theirs[i])), "code " + i);
                }
            }
        }
    }

    /** The residual autoencoder's shared_input_residual layers, h + f([h, x] W^T + b), in numpy: 1e-5 relative as above. */
    @Test
    void numpyReproducesTheResidualEncoder(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("residual.safetensors");
        try (dev.latent.model.autoencoder.ResidualAutoencoder ae = dev.latent.model.autoencoder.ResidualAutoencoder.builder(20).width(6).blocks(3).build().init(8);
             Workspace ws = new Workspace("py")) {
            ae.save(model, null);
            Tensor x = EncoderTest.rows(ws, 50, 20, 5);
            SafeTensors.write(dir.resolve("x.safetensors"), Map.of("x", x), Map.of());
            python("encode", model.toString(), dir.resolve("x.safetensors").toString(), dir.resolve("codes.safetensors").toString());
            float[] mine = ae.encode(x, ws).toArray();
            try (Arena a = Arena.ofConfined()) {
                float[] theirs = SafeTensors.read(dir.resolve("codes.safetensors"), a).tensor("codes", 50, 6).toArray();
                for (int i = 0; i < mine.length; i++) {
                    assertEquals(theirs[i], mine[i], 1e-5 * Math.max(1, Math.abs(theirs[i])), "code " + i);
                }
            }
        }
    }

    @Test
    void latentLoadsWhatPythonWrote(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("ae.safetensors");
        Path rewritten = dir.resolve("py.safetensors");
        try (Autoencoder ae = EncoderTest.trainedish(9)) {
            ae.save(model, null);
            python("rewrite", model.toString(), rewritten.toString());
            try (Autoencoder back = Autoencoder.load(rewritten, Kernels.current())) {
                assertArrayEquals(ae.network().slab().values().toArray(), back.network().slab().values().toArray());
            }
            try (Encoder e = Encoder.load(rewritten)) {
                assertEquals(7, e.codeSize());
            }
        }
    }
}
