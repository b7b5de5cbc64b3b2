package dev.latent.io;

import dev.latent.onnx.OnnxExport;
import dev.latent.serve.Encoder;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.latent.kernel.Activation;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ONNX export: the exported file, run by ONNX Runtime's Java API, gives latent's {@link Encoder} output
 * for every activation and for the deep W5 encoder (784-1000-500-250-30).
 *
 * <p>Tolerance: |ort - latent| <= 2e-5 + 2e-5 |latent| per code entry. Both engines compute in float32
 * but in different orders: ORT's MLAS GEMM and latent's kernels block the k-sum differently (float32
 * rounding, about sqrt(k) eps |z| per layer with random signs, k <= 1000), and ORT's Sigmoid/Tanh are
 * polynomial approximations accurate to a few ulp, not libm. Through four layers with sigmoid's
 * slope <= 1/4 this stays around 1e-6; 2e-5 leaves room for the rounding of a linear code of
 * magnitude ~10 while still catching a wrong transposition, bias or activation (errors of order 0.1).
 */
class OnnxExportTest {

    private static final double ATOL = 2e-5;
    private static final double RTOL = 2e-5;

    private static Tensor rows(Workspace ws, int n, int d, long seed) {
        Tensor x = ws.allocate(n, d);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < x.size(); i++) {
            x.set(i, (float) r.nextDouble());
        }
        return x;
    }

    /** ORT's output for the rows of x (n, in), as a flat row-major array. */
    private static float[] runOrt(Path onnx, Tensor x) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
             OrtSession s = env.createSession(onnx.toString(), opts)) {
            assertEquals(List.of(OnnxExport.INPUT), List.copyOf(s.getInputNames()));
            assertEquals(List.of(OnnxExport.OUTPUT), List.copyOf(s.getOutputNames()));
            try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.toArray()), new long[] {x.dim(0), x.dim(1)});
                 OrtSession.Result r = s.run(Map.of(OnnxExport.INPUT, in))) {
                float[][] out = (float[][]) r.get(0).getValue();
                float[] flat = new float[out.length * out[0].length];
                for (int i = 0; i < out.length; i++) {
                    System.arraycopy(out[i], 0, flat, i * out[i].length, out[i].length);
                }
                return flat;
            }
        }
    }

    /** Exports ae via its model file, runs n rows through ORT and latent's Encoder, compares. */
    private static void assertOrtMatchesEncoder(Autoencoder ae, Path dir, int n, long seed) throws Exception {
        Path model = dir.resolve("m.safetensors");
        Path onnx = dir.resolve("m.onnx");
        ae.save(model, null);
        OnnxExport.write(model, onnx);
        try (Workspace ws = new Workspace("onnx-test"); Encoder enc = Encoder.load(model)) {
            Tensor x = rows(ws, n, ae.inputSize(), seed);
            Tensor codes = ws.allocate(n, ae.codeSize());
            enc.encode(x, codes);
            float[] latent = codes.toArray();
            float[] ort = runOrt(onnx, x);
            assertEquals(latent.length, ort.length);
            double worst = 0;
            for (int i = 0; i < latent.length; i++) {
                double d = Math.abs(ort[i] - latent[i]);
                worst = Math.max(worst, d);
                double tol = ATOL + RTOL * Math.abs(latent[i]);
                if (!(d <= tol)) {
                    throw new AssertionError("code[" + i / ae.codeSize() + ", " + i % ae.codeSize() + "]: ONNX Runtime " + ort[i]
                            + ", latent " + latent[i] + ", difference " + d + " > " + tol + " (input seed " + seed + ", "
                            + ae.configJson() + ")");
                }
            }
            System.out.printf("OnnxExportTest: %s, %d rows: largest |ort - latent| = %.3g%n", ae.config().get("hidden"), n, worst);
        }
    }

    @ParameterizedTest(name = "activation {0}")
    @ValueSource(strings = {"sigmoid", "tanh", "relu", "leaky_relu:0.2", "softplus", "identity"})
    void everyActivationMatchesTheEncoder(String activation, @TempDir Path dir) throws Exception {
        // Code activation linear as in Hinton and Salakhutdinov, except for the identity case where
        // the code uses sigmoid so that both graph shapes (activation node or none) end the graph.
        Activation a = Activation.parse(activation);
        Activation code = a.kind() == Activation.Kind.IDENTITY ? Activation.SIGMOID : Activation.IDENTITY;
        try (Autoencoder ae = Autoencoder.builder(20).hidden(16, 7).activation(a).codeActivation(code).maxBatch(64).build().init(11)) {
            assertOrtMatchesEncoder(ae, dir, 300, 5);
        }
    }

    @Test
    void deepW5EncoderMatches(@TempDir Path dir) throws Exception {
        try (Autoencoder ae = Autoencoder.builder(784).hidden(1000, 500, 250, 30).activation(Activation.SIGMOID)
                .codeActivation(Activation.IDENTITY).build().init(42)) {
            assertOrtMatchesEncoder(ae, dir, 64, 17);
        }
    }

    @Test
    void autoencoderAndModelFileExportTheSameBytes(@TempDir Path dir) throws Exception {
        try (Autoencoder ae = Autoencoder.builder(20).hidden(16, 7).activation(Activation.TANH).codeActivation(Activation.IDENTITY)
                .maxBatch(64).build().init(3)) {
            Path model = dir.resolve("m.safetensors");
            ae.save(model, null);
            OnnxExport.write(model, dir.resolve("a.onnx"));
            OnnxExport.write(ae, dir.resolve("b.onnx"));
            assertArrayEquals(Files.readAllBytes(dir.resolve("a.onnx")), Files.readAllBytes(dir.resolve("b.onnx")));
        }
        // Atomic writes leave no temporary files behind.
        try (var s = Files.list(dir)) {
            assertEquals(3, s.count());
        }
    }

    /**
     * A model whose features cannot be written as a graph is refused with one line naming the file and
     * why, and nothing is written: a k-means file from before input_shape was saved (its grid, and so
     * its quadrants, are unknown), and a loaded {@link Encoder} (it keeps the file's tensors, not the model).
     */
    @Test
    void whatCannotBeExportedSaysWhyAndWritesNothing(@TempDir Path dir) throws Exception {
        Path km = dir.resolve("old-kmeans.safetensors");
        try (Workspace ws = new Workspace("onnx-test"); dev.latent.data.Dataset digits = dev.latent.data.Dataset.embeddedMnist();
             dev.latent.model.kmeans.KMeansFeatures f = dev.latent.model.kmeans.KMeansFeatures.train(
                     dev.latent.model.kmeans.KMeansFeatures.images(digits.images().rows(0, 50), 28, 28),
                     dev.latent.model.kmeans.KMeansFeatures.Config.defaults(4).withTraining(500, 2, false, 0, 1),
                     dev.latent.kernel.Kernels.current());
             dev.latent.model.kmeans.KMeansFeatures old = dev.latent.model.kmeans.KMeansFeatures.of(f.config(),
                     dev.latent.kernel.Kernels.current(), f.whitening(), f.centroids(), null)) {
            old.save(km, null);
        }
        BadInputException e = assertThrows(BadInputException.class, () -> OnnxExport.write(km, dir.resolve("km.onnx")));
        assertTrue(e.getMessage().startsWith(km + ": cannot export its kmeans features to ONNX: ")
                && e.getMessage().contains("input_shape"), e.getMessage());
        assertTrue(Files.notExists(dir.resolve("km.onnx")));

        Path model = dir.resolve("m.safetensors");
        try (Autoencoder ae = Autoencoder.builder(20).hidden(7).maxBatch(64).build().init(1)) {
            ae.save(model, null);
        }
        try (Encoder enc = Encoder.load(model)) {
            BadInputException served = assertThrows(BadInputException.class, () -> OnnxExport.write(enc, dir.resolve("enc.onnx")));
            assertTrue(served.getMessage().contains("a loaded Encoder has no feature graph"), served.getMessage());
        }
        assertTrue(Files.notExists(dir.resolve("enc.onnx")));
    }
}
