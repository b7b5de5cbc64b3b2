package dev.latent.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.workload.EncoderWorkload;
import dev.latent.workload.WarmUp;
import dev.latent.workload.Workload;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Encoder#warmUp} and {@link WarmUp#train}: warming up changes no result (the codes after it are
 * bit for bit the codes of a cold encoder), reports what it did, respects its budget's zero, and refuses
 * a closed handle; the training warm-up refuses a step count below 1.
 */
class EncoderWarmUpTest {

    static Stream<String> providers() {
        return KernelRegistry.availableNames().stream();
    }

    @ParameterizedTest
    @MethodSource("providers")
    void warmUpChangesNoCode(String provider, @TempDir Path dir) throws Exception {
        Kernels k = KernelRegistry.load(provider);
        Path model = dir.resolve("w5.safetensors");
        try (Autoencoder ae = EncoderWorkload.build(k)) {
            ae.save(model, null);
        }
        float[] input = EncoderWorkload.input();
        float[][] cold = new float[3][];
        try (Encoder enc = Encoder.load(model, k)) {
            for (int r = 0; r < cold.length; r++) {
                cold[r] = enc.encode(row(input, r));
            }
        }
        try (Encoder enc = Encoder.load(model, k)) {
            Encoder.WarmUp none = enc.warmUp(Duration.ZERO);
            assertEquals(0, none.calls(), "a zero budget makes no call");
            assertFalse(none.steady());
            Encoder.WarmUp w = enc.warmUp(Duration.ofMillis(300));
            // at least one block of 64 one-row calls and one CHUNK-row call, and never more time than the
            // budget plus one block (about a second on the scalar reference, allowed 30 for a busy host)
            assertTrue(w.calls() >= 65 && w.calls() % 65 == 0, "calls " + w.calls());
            assertTrue(w.seconds() > 0 && w.seconds() < 0.3 + 30, "seconds " + w.seconds());
            for (int r = 0; r < cold.length; r++) {
                assertArrayEquals(cold[r], enc.encode(row(input, r)), provider + ": row " + r + " after warm-up");
            }
            enc.close();
            assertThrows(IllegalStateException.class, () -> enc.warmUp(Duration.ofMillis(10)));
        }
    }

    @Test
    void trainingWarmUpRefusesNoSteps() {
        Kernels k = KernelRegistry.load("scalar");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WarmUp.train(Workload.W1, k, 0));
        assertTrue(e.getMessage().contains("steps must be >= 1, got 0"), e.getMessage());
    }

    private static float[] row(float[] x, int r) {
        float[] out = new float[EncoderWorkload.INPUT];
        System.arraycopy(x, r * out.length, out, 0, out.length);
        return out;
    }
}
