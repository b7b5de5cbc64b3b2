package dev.latent.model.rbm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.latent.data.Dataset;
import dev.latent.io.BadInputException;
import dev.latent.io.ModelFile;
import dev.latent.io.SafeTensors;
import dev.latent.kernel.Kernels;
import dev.latent.serve.Encoder;
import dev.latent.serve.ModelKinds;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An RBM saved and loaded is the same model bit for bit (parameters, config, features, the file
 * itself when saved again), served through {@link ModelKinds} and {@link Encoder} with the same
 * features; training is reproducible (same seed and provider, same bits); a file with a stray tensor
 * is refused.
 */
class RbmRoundTripTest {

    static int[] bits(Tensor t) {
        int[] out = new int[(int) t.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.floatToRawIntBits(t.get(i));
        }
        return out;
    }

    static Rbm trained(Rbm.Config c, Tensor x, long seed) {
        return new Rbm(c, new int[] {784}, seed, Kernels.current()).fit(x, 1, 50, seed, null);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"bernoulli CD-1", "gaussian PCD-2"})
    void savedAndLoadedBitExactly(String what, @TempDir Path dir) throws Exception {
        boolean gaussian = what.startsWith("gaussian");
        Rbm.Config c = Rbm.Config.defaults(gaussian ? Rbm.Units.GAUSSIAN : Rbm.Units.BERNOULLI, 24)
                .withK(gaussian ? 2 : 1, gaussian).withTraining(gaussian ? 0.01 : 0.05, 0.5, 2e-4);
        try (Dataset d = Dataset.embeddedMnist(); Workspace ws = new Workspace("t")) {
            Tensor x = d.images().rows(0, 600);
            Tensor probe = d.images().rows(600, 900);
            Path f = dir.resolve("rbm.safetensors");
            Path again = dir.resolve("again.safetensors");
            try (Rbm m = trained(c, x, 5); Rbm twin = trained(c, x, 5)) {
                assertArrayEquals(bits(m.weight()), bits(twin.weight()), "same seed, same bits");
                m.save(f, ModelFile.provenance("test", 5, ModelFile.sha256(x)));
                Tensor want = m.features(probe, ws);
                try (Rbm l = Rbm.load(f, Kernels.current())) {
                    assertEquals(m.config(), l.config());
                    assertEquals(m.updates(), l.updates());
                    assertArrayEquals(bits(m.weight()), bits(l.weight()));
                    assertArrayEquals(bits(m.visibleBias()), bits(l.visibleBias()));
                    assertArrayEquals(bits(m.hiddenBias()), bits(l.hiddenBias()));
                    assertArrayEquals(bits(want), bits(l.features(probe, ws)), "features");
                    l.save(again, ModelFile.provenance("test", 5, ModelFile.sha256(x)));
                    assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(again), "saved again: the same file");
                }
                assertEquals(Rbm.KIND, ModelKinds.kindOf(f));
                try (var served = ModelKinds.load(f, Kernels.current())) {
                    assertArrayEquals(bits(want), bits(served.features(probe, ws)), "through ModelKinds");
                }
                try (Encoder enc = Encoder.load(f, Kernels.current())) {
                    assertEquals(24, enc.codeSize());
                    // one row: a GEMM of one row may sum in another order than a batch's, so the reference is one row too
                    Tensor one = m.features(probe.rows(7, 8), ws);
                    float[] code = enc.encode(probe.row(7).toArray());
                    for (int j = 0; j < 24; j++) {
                        assertEquals(Float.floatToRawIntBits(one.get(j)), Float.floatToRawIntBits(code[j]), "Encoder unit " + j);
                    }
                }
            }
        }
    }

    @Test
    void aStrayTensorIsRefused(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("rbm.safetensors");
        try (Rbm m = new Rbm(Rbm.Config.defaults(Rbm.Units.BERNOULLI, 4), new int[] {784}, 1, Kernels.current());
             Workspace ws = new Workspace("t")) {
            m.save(f, null);
            Map<String, Tensor> t = new LinkedHashMap<>();
            t.put("weight", m.weight());
            t.put("visible_bias", m.visibleBias());
            t.put("hidden_bias", m.hiddenBias());
            t.put("extra", ws.allocate(3));
            Map<String, String> meta;
            try (var arena = java.lang.foreign.Arena.ofConfined()) {
                meta = new LinkedHashMap<>(SafeTensors.read(f, arena).metadata());
            }
            SafeTensors.write(f, t, meta);
            BadInputException e = assertThrows(BadInputException.class, () -> Rbm.load(f, Kernels.current()));
            System.out.println("stray tensor: " + e.getMessage());
        }
    }
}
