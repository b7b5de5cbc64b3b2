package dev.latent.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.latent.data.Dataset;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.model.Classifier;
import dev.latent.model.FeatureExtractor;
import dev.latent.model.autoencoder.ConvAutoencoder;
import dev.latent.model.autoencoder.ResidualAutoencoder;
import dev.latent.model.autoencoder.StackedAutoencoder;
import dev.latent.model.gan.Gan;
import dev.latent.model.gan.GanTrainer;
import dev.latent.model.hebbian.Hebbian;
import dev.latent.model.kmeans.KMeansFeatures;
import dev.latent.model.kmeans.KMeansStack;
import dev.latent.model.rbm.Rbm;
import dev.latent.model.selfsup.SelfSupervised;
import dev.latent.model.selfsup.SelfSupervised.Pretext;
import dev.latent.onnx.OnnxExport;
import dev.latent.serve.ModelKinds;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.Trainer;
import dev.latent.train.TrainingListener;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ONNX export of every model kind with features: a tiny model of the kind is trained briefly on the
 * embedded digits and saved, {@code OnnxExport} writes its file, and ONNX Runtime's features of 64
 * held-out digits are compared with the JVM's ({@link ModelKinds#load} then
 * {@link FeatureExtractor#features}), the largest difference printed.
 *
 * <p>Tolerance: |ort - latent| <= 1e-4 * max(1, max |latent|) for every feature of a kind, i.e.
 * relative to the kind's feature scale. Both sides compute in float32 but sum in different orders
 * (ORT's MLAS GEMM and convolution against latent's kernels; latent's per-patch normalization and
 * centroid norms in double), so each dot product of d terms is off by about sqrt(d) eps |terms|,
 * eps = 6e-8; through the deepest chain here (two 3x3 conv levels with batch norm, d <= 144; or
 * k-means' normalization, whitening, distances and a sum of up to 144 grid positions) that is
 * 1e-6 to 1e-5 of the scale. 1e-4 leaves a margin for the polynomial Sigmoid/Tanh of ORT and for
 * sqrt near small distances, and still catches a transposed weight, a wrong channel order, a
 * missing bias or a shifted window (errors of 1e-2 of the scale or more). Hard k-means features are
 * counts of nearest centroids, so any difference there is a nearest centroid that flipped (1 or more);
 * measured: none.
 */
class OnnxKindsExportTest {

    static final long SEED = 5;
    static final double RTOL = 1e-4;

    static Dataset digits;

    @TempDir
    static Path dir;

    /** A kind to export: its name and how to train and save a tiny model of it into a file. */
    record Kind(String name, Trained train) {
        @Override
        public String toString() {
            return name;
        }
    }

    @FunctionalInterface
    interface Trained {
        void save(Tensor train, Path file) throws Exception;
    }

    @BeforeAll
    static void data() {
        digits = Dataset.embeddedMnist();
    }

    @AfterAll
    static void close() {
        digits.close();
    }

    static Map<String, String> provenance() {
        return ModelFile.provenance("test", SEED, "none");
    }

    static SelfSupervised.Config selfsup(Pretext p, String... extra) {
        Map<String, String> set = new LinkedHashMap<>();
        set.put("channels", "8,16");
        set.put("hidden", "32");
        set.put("pool", "1");
        if (p == Pretext.CONTRASTIVE) {
            set.put("dim", "16");
        }
        if (p == Pretext.EXEMPLAR) {
            set.put("classes", "96");
        }
        for (int i = 0; i < extra.length; i += 2) {
            set.put(extra[i], extra[i + 1]);
        }
        return new SelfSupervised.Config(p, new int[] {1, 28, 28}, SelfSupervised.hyperparameters(p).parse(set, "test"), 32);
    }

    static Kind selfsupKind(String name, SelfSupervised.Config c) {
        return new Kind(name, (x, f) -> {
            try (SelfSupervised m = new SelfSupervised(c, Kernels.current()).init(SEED)) {
                m.fit(x.rows(0, 96), 1, 1e-3, SEED, TrainingListener.NONE);
                m.save(f, provenance());
            }
        });
    }

    static Kind kmeans(String name, KMeansFeatures.Config c1, KMeansStack.Layer2 layer2) {
        return new Kind(name, (x, f) -> {
            try (KMeansStack s = KMeansStack.train(KMeansFeatures.images(x.rows(0, 300), 28, 28), c1, layer2, Kernels.current())) {
                s.save(f, provenance());
            }
        });
    }

    static Kind stacked(String name, boolean fineTune) {
        return new Kind(name, (x, f) -> {
            try (StackedAutoencoder s = new StackedAutoencoder(784, new int[] {64, 32}, Activation.SIGMOID, 0.1, 3, 3e-3, Kernels.current())) {
                s.pretrain(x.rows(0, 500), Trainer.Config.of(1, 50, SEED), 1e-3, null);
                if (fineTune) {
                    int[] labels = java.util.Arrays.copyOf(digits.labels(), 500);
                    s.keep(s.fineTune(x.rows(0, 500), labels, 10, new Classifier.Settings(0, Activation.SIGMOID, 20, 100, 3e-3, 1e-4), SEED));
                }
                s.save(f, provenance());
            }
        });
    }

    static List<Kind> kinds() {
        KMeansFeatures.Config km = KMeansFeatures.Config.defaults(16).withTraining(2000, 5, false, 0, SEED);
        return List.of(
                new Kind("conv-autoencoder", (x, f) -> {
                    try (ConvAutoencoder ae = ConvAutoencoder.builder(1, 28, 28).channels(4, 8).geometry(3, 2, 1).activation(Activation.RELU)
                            .codeActivation(Activation.SIGMOID).maxBatch(32).build().init(SEED)) {
                        ae.fit(x.rows(0, 256), null, Trainer.Config.of(1, 32, SEED), 1e-3, null);
                        ae.save(f, provenance());
                    }
                }),
                new Kind("residual-autoencoder", (x, f) -> {
                    try (ResidualAutoencoder ae = ResidualAutoencoder.builder(784).width(32).blocks(3).maxBatch(64).build().init(SEED)) {
                        ae.fit(x.rows(0, 500), null, Trainer.Config.of(1, 64, SEED), 1e-3, null);
                        ae.save(f, provenance());
                    }
                }),
                stacked("stacked (pretrained)", false),
                stacked("stacked (fine-tuned)", true),
                selfsupKind("contrastive (pool 1)", selfsup(Pretext.CONTRASTIVE)),
                selfsupKind("contrastive (pool 7)", selfsup(Pretext.CONTRASTIVE, "pool", "7")),
                selfsupKind("exemplar", selfsup(Pretext.EXEMPLAR)),
                selfsupKind("patch-position", selfsup(Pretext.PATCH_POSITION)),
                kmeans("kmeans (triangle, stride 1)", km, null),
                kmeans("kmeans (spherical, soft threshold, stride 3)", km.withStride(3).withEncoding(KMeansFeatures.Encoding.SOFT_THRESHOLD)
                        .withTraining(2000, 5, true, 0, SEED), null),
                kmeans("kmeans (hard, stride 2)", km.withStride(2).withEncoding(KMeansFeatures.Encoding.HARD), null),
                kmeans("kmeans (two layers)", KMeansFeatures.Config.defaults(10).withStride(2).withTraining(3000, 5, false, 0, SEED),
                        KMeansStack.Layer2.defaults(12).withMaps(6).withTraining(3000, 200, 5, SEED)),
                new Kind("hebbian (sanger)", (x, f) -> new Hebbian(Hebbian.Rule.SANGER, 4, 784, false, SEED)
                        .fit(x.rows(0, 500), new Hebbian.Schedule(1, 0.002, 5_000, true, SEED)).save(f, provenance())),
                new Kind("rbm (bernoulli)", (x, f) -> {
                    try (Rbm m = new Rbm(Rbm.Config.defaults(Rbm.Units.BERNOULLI, 32), new int[] {784}, SEED, Kernels.current())) {
                        m.fit(x.rows(0, 500), 1, 50, SEED, null).save(f, provenance());
                    }
                }),
                new Kind("rbm (gaussian)", (x, f) -> {
                    try (Rbm m = new Rbm(Rbm.Config.defaults(Rbm.Units.GAUSSIAN, 32), new int[] {784}, SEED, Kernels.current())) {
                        m.fit(x.rows(0, 500), 1, 50, SEED, null).save(f, provenance());
                    }
                }),
                new Kind("dcgan", (x, f) -> {
                    try (Gan gan = new Gan(Gan.Config.dcgan28().withWidths(16, 8, 8, 16).withZ(16).withMaxBatch(16), Kernels.current())
                            .init(SEED)) {
                        GanTrainer.fit(gan, x.rows(0, 96), GanTrainer.Options.of(1, 16, SEED), null);
                        gan.save(f, provenance());
                    }
                }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void ortMatchesTheJvmFeatures(Kind kind) throws Exception {
        String stem = kind.name().replaceAll("[^a-z0-9]+", "-");
        Path model = dir.resolve(stem + ".safetensors");
        Path onnx = dir.resolve(stem + ".onnx");
        kind.train().save(digits.images(), model);
        OnnxExport.write(model, onnx);
        Tensor x = digits.images().rows(5000, 5064);
        try (Workspace ws = new Workspace("onnx-kinds"); FeatureExtractor m = ModelKinds.load(model, Kernels.current())) {
            float[] jvm = m.features(x, ws).toArray();
            float[] ort = runOrt(onnx, x, m.featureSize());
            assertEquals(jvm.length, ort.length);
            double scale = 1;
            for (float v : jvm) {
                scale = Math.max(scale, Math.abs(v));
            }
            double tol = RTOL * scale;
            double worst = 0;
            int at = 0;
            for (int i = 0; i < jvm.length; i++) {
                double d = Math.abs((double) ort[i] - jvm[i]);
                if (!(d <= worst)) {
                    worst = d;
                    at = i;
                }
            }
            System.out.printf("OnnxKindsExportTest: %s (%s, %d features): largest |ort - latent| = %.3g (feature scale %.3g, relative %.3g)%n",
                    kind.name(), m.kind(), m.featureSize(), worst, scale, worst / scale);
            assertTrue(worst <= tol, kind.name() + ": feature [" + at / m.featureSize() + ", " + at % m.featureSize() + "]: ONNX Runtime "
                    + ort[at] + ", latent " + jvm[at] + ", difference " + worst + " > " + tol + " (1e-4 of the feature scale " + scale + ")");
        }
    }

    /** ORT's output for the rows of x, flattened row-major; checks the graph's input and output names and width. */
    static float[] runOrt(Path onnx, Tensor x, int features) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions(); OrtSession s = env.createSession(onnx.toString(), opts)) {
            assertEquals(List.of(OnnxExport.INPUT), new ArrayList<>(s.getInputNames()));
            assertEquals(List.of(OnnxExport.OUTPUT), new ArrayList<>(s.getOutputNames()));
            try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.toArray()), new long[] {x.dim(0), x.dim(1)});
                 OrtSession.Result r = s.run(Map.of(OnnxExport.INPUT, in))) {
                float[][] out = (float[][]) r.get(0).getValue();
                assertEquals(x.dim(0), out.length);
                float[] flat = new float[out.length * features];
                for (int i = 0; i < out.length; i++) {
                    assertEquals(features, out[i].length);
                    System.arraycopy(out[i], 0, flat, i * features, features);
                }
                return flat;
            }
        }
    }
}
