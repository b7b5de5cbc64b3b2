package dev.latent.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.data.Dataset;
import dev.latent.kernel.Activation;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.kernel.PackedDense;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.model.autoencoder.ResidualAutoencoder;
import dev.latent.nn.Param;
import dev.latent.workload.EncoderWorkload;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Serving with bfloat16 weights ({@link Encoder#load(Path, Kernels, PackedDense.Storage)}): the codes
 * are bit for bit those of the float32 encoder of the same model with its weights rounded to bfloat16,
 * their error against float32 on the W5 encoder (784-1000-500-250-30) over real digits is small and
 * stated, and a request the packed kernel cannot serve is refused, not served as float32.
 */
class EncoderBfloat16Test {

    @Test
    void codesEqualTheFloatEncoderOfRoundedWeightsAndStayCloseToFloat32(@TempDir Path dir) throws Exception {
        Kernels k = KernelRegistry.load("simd");
        Path model = dir.resolve("w5.safetensors");
        Path rounded = dir.resolve("w5-rounded.safetensors");
        try (Autoencoder ae = EncoderWorkload.build(k)) {
            ae.save(model, null);
            for (Param p : ae.network().params()) {
                if (p.decay()) { // weights; biases stay float32 in both
                    for (long i = 0; i < p.value().size(); i++) {
                        p.value().set(i, roundBf16(p.value().get(i)));
                    }
                }
            }
            ae.save(rounded, null);
        }
        int rows = 300;
        float[][] x = new float[rows][];
        try (Dataset digits = Dataset.embeddedMnist()) {
            for (int i = 0; i < rows; i++) {
                x[i] = new float[784];
                for (int p = 0; p < 784; p++) {
                    x[i][p] = digits.images().get((long) i * 784 + p);
                }
            }
        }
        try (Encoder half = Encoder.load(model, k, PackedDense.Storage.BFLOAT16);
             Encoder exact = Encoder.load(rounded, k);
             Encoder full = Encoder.load(model, k)) {
            double sq = 0;
            double ref = 0;
            double worst = 0;
            for (int i = 0; i < rows; i++) {
                float[] h = half.encode(x[i]);
                float[] e = exact.encode(x[i]);
                float[] f = full.encode(x[i]);
                for (int j = 0; j < h.length; j++) {
                    assertEquals(Float.floatToRawIntBits(e[j]), Float.floatToRawIntBits(h[j]),
                            "row " + i + " code " + j + ": bfloat16 encoder vs float32 encoder of the rounded weights");
                    double d = h[j] - f[j];
                    sq += d * d;
                    ref += (double) f[j] * f[j];
                    worst = Math.max(worst, Math.abs(d));
                }
            }
            double relRms = Math.sqrt(sq / ref);
            System.out.printf("W5 bfloat16 vs float32 on %d digits: relative RMS error %.2e, max |diff| %.2e%n", rows, relRms, worst);
            // Each weight moves by at most 2^-8 relative, independently rounded, so a sum of 784 (then 1000,
            // 500, 250) such terms moves by about 2^-8 / sqrt(3) relative in RMS per layer; four layers in
            // series with sigmoid slopes <= 1/4 keep the code's relative RMS error near that, 2e-3 to 5e-3
            // (measured 1.9e-3 on these 300 digits). 1e-2 is the bound: an encoder that widened the weights wrongly (a lost
            // shift, a sign-extension bug) is off by 100% or more.
            assertTrue(relRms < 1e-2, "relative RMS error " + relRms);
        }
    }

    @Test
    void whatThePackedKernelCannotServeIsRefused(@TempDir Path dir) throws Exception {
        Path dense = dir.resolve("ae.safetensors");
        try (Autoencoder ae = Autoencoder.builder(20).hidden(8).codeActivation(Activation.IDENTITY).build().init(3)) {
            ae.save(dense, null);
        }
        IllegalArgumentException scalar = assertThrows(IllegalArgumentException.class,
                () -> Encoder.load(dense, KernelRegistry.load("scalar"), PackedDense.Storage.BFLOAT16));
        assertTrue(scalar.getMessage().contains("bfloat16") && scalar.getMessage().contains("scalar"), scalar.getMessage());
        Path residual = dir.resolve("res.safetensors");
        try (ResidualAutoencoder r = ResidualAutoencoder.builder(20).width(8).blocks(2).build().init(3)) {
            r.save(residual, null);
        }
        IllegalArgumentException res = assertThrows(IllegalArgumentException.class,
                () -> Encoder.load(residual, KernelRegistry.load("simd"), PackedDense.Storage.BFLOAT16));
        assertTrue(res.getMessage().contains("shared_input_residual"), res.getMessage());
    }

    private static float roundBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        return Float.intBitsToFloat(((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16) << 16);
    }
}
