package dev.latent.io;

import dev.latent.serve.Encoder;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.latent.data.Dataset;
import dev.latent.model.Classifier;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.model.autoencoder.ConvAutoencoder;
import dev.latent.model.autoencoder.ResidualAutoencoder;
import dev.latent.model.gan.Gan;
import dev.latent.model.gan.GanTrainer;
import dev.latent.model.hebbian.Hebbian;
import dev.latent.model.kmeans.KMeansFeatures;
import dev.latent.model.autoencoder.StackedAutoencoder;
import dev.latent.nn.BatchNorm;
import dev.latent.nn.Layer;
import dev.latent.nn.Param;
import dev.latent.nn.Sequential;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every model kind saves and loads bit-exactly. Each kind is trained briefly on the embedded digits
 * (a tiny, seeded budget: the file format does not care how good the weights are, only that they are
 * the result of real training, with the moments and running statistics that training leaves), saved,
 * loaded, and then:
 * <ul>
 *   <li>every learned value (parameters, batch-norm running statistics, means, centroids) has the same
 *       name, shape and raw float bits in the loaded model as in the trained one;
 *   <li>every output a user computes from the model (codes, reconstructions, features, logits,
 *       samples) has the same raw bits, on 300 probe rows (more than one batch of every network here);
 *   <li>saving the loaded model again gives the same file, byte for byte (the format is a fixed point:
 *       nothing is lost or reformatted on the way through, the config included);
 *   <li>for kinds whose file carries an encoder spec, {@link Encoder#load} on the file reproduces the
 *       model's codes (up to summation order: see {@link #assertClose}).
 * </ul>
 * No tolerance in the round trip itself: save and load copy float32 values, and the loaded networks
 * are rebuilt for the same batch sizes on the same kernels, so any difference is a bug.
 *
 * <p>A new model kind is one more entry in {@link #kinds()}: how to train it briefly, save it, load
 * it, list its learned values, and compute its outputs.
 */
class ModelRoundTripTest {

    /** Trains a model of one kind on the shared data, briefly and seeded. */
    @FunctionalInterface
    interface Train<M> {
        M train(Data d) throws Exception;
    }

    /** Writes a model file. */
    @FunctionalInterface
    interface Save<M> {
        void save(M model, Path file, Map<String, String> provenance) throws Exception;
    }

    /** Reads a model file. */
    @FunctionalInterface
    interface Load<M> {
        M load(Path file, Kernels kernels) throws Exception;
    }

    /** Named tensors computed from (or held by) a model; new tensors go to ws. */
    @FunctionalInterface
    interface Values<M> {
        Map<String, Tensor> of(M model, Data d, Workspace ws) throws Exception;
    }

    /**
     * One model kind. {@code encoderOutput} names the output that {@link Encoder#load} on the file must
     * reproduce, or is null when the kind's file has no encoder spec.
     */
    record Kind<M extends AutoCloseable>(String name, Train<M> train, Save<M> save, Load<M> load, Values<M> learned,
                                         Values<M> outputs, String encoderOutput) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Shared inputs: 1,000 digits to train on, 300 other digits to probe outputs with, labels. */
    record Data(Tensor train, int[] labels, Tensor probe, Kernels kernels) {
    }

    static final long SEED = 17;
    static Dataset digits;
    static Data data;

    @TempDir
    static Path dir;

    @BeforeAll
    static void data() {
        digits = Dataset.embeddedMnist();
        int[] labels = Arrays.copyOf(digits.labels(), 1000);
        data = new Data(digits.images().rows(0, 1000), labels, digits.images().rows(5000, 5300), Kernels.current());
    }

    @AfterAll
    static void close() {
        digits.close();
    }

    static Trainer.Config brief(int batch) {
        return Trainer.Config.of(1, batch, SEED);
    }

    static Kind<Autoencoder> autoencoder(String name, Autoencoder.Builder b) {
        return new Kind<>(name,
                d -> {
                    Autoencoder ae = b.kernels(d.kernels()).build().init(SEED);
                    ae.fit(d.train(), null, brief(64), 1e-3, null);
                    return ae;
                },
                Autoencoder::save, Autoencoder::load,
                (m, d, ws) -> values("", m.network()),
                (m, d, ws) -> {
                    Tensor recon = ws.allocate(d.probe().dim(0), d.probe().rowSize());
                    m.reconstruct(d.probe(), recon);
                    return Map.of("codes", m.encode(d.probe(), ws), "reconstructions", recon);
                },
                "codes");
    }

    static Kind<StackedAutoencoder> stacked(String name, boolean fineTune) {
        return new Kind<>(name,
                d -> {
                    StackedAutoencoder s = new StackedAutoencoder(784, new int[] {64, 32}, Activation.SIGMOID, 0.1, 3, 3e-3, d.kernels());
                    s.pretrain(d.train(), brief(50), 1e-3, null);
                    if (fineTune) {
                        s.keep(s.fineTune(d.train(), d.labels(), 10,
                                new Classifier.Settings(0, Activation.SIGMOID, 40, 128, 3e-3, 1e-4), SEED));
                    }
                    return s;
                },
                StackedAutoencoder::save, StackedAutoencoder::load,
                (m, d, ws) -> {
                    Map<String, Tensor> v = new LinkedHashMap<>();
                    for (int i = 0; i < 2; i++) {
                        v.putAll(values("layer" + (i + 1) + ".", m.layer(i).network()));
                    }
                    m.fineTuned().ifPresent(c -> v.putAll(values("fine_tuned.", c.network())));
                    return v;
                },
                (m, d, ws) -> {
                    Map<String, Tensor> v = new LinkedHashMap<>();
                    v.put("features", m.features(d.probe(), ws));
                    if (m.fineTuned().isPresent()) {
                        Sequential net = m.fineTuned().get().network();
                        // Layers enc1, act1, enc2, act2, logits: the codes are act2's output.
                        v.put("codes", forward(net, d.probe(), 3, ws));
                        v.put("logits", forward(net, d.probe(), net.layers().size() - 1, ws));
                    } else {
                        v.put("codes", v.get("features"));
                    }
                    return v;
                },
                "codes");
    }

    static List<Kind<?>> kinds() {
        return List.of(
                autoencoder("autoencoder (sparse)", Autoencoder.builder(784).hidden(64).klSparsity(0.1, 3).weightDecay(3e-3)
                        .maxBatch(64)),
                autoencoder("autoencoder (deep, linear code, L1)", Autoencoder.builder(784).hidden(96, 48, 16)
                        .codeActivation(Activation.IDENTITY).l1Sparsity(1e-3).loss("mse_mean").maxBatch(64)),
                autoencoder("autoencoder (tied, bce)", Autoencoder.builder(784).hidden(48).tied(true).loss("bce").maxBatch(64)),
                new Kind<ConvAutoencoder>("conv autoencoder",
                        d -> {
                            ConvAutoencoder ae = ConvAutoencoder.builder(1, 28, 28).channels(4, 8).geometry(3, 2, 1)
                                    .activation(Activation.RELU).maxBatch(32).kernels(d.kernels()).build().init(SEED);
                            ae.fit(d.train().rows(0, 256), null, brief(32), 1e-3, null);
                            return ae;
                        },
                        ConvAutoencoder::save, ConvAutoencoder::load,
                        (m, d, ws) -> values("", m.network()),
                        (m, d, ws) -> {
                            Tensor recon = ws.allocate(d.probe().dim(0), d.probe().rowSize());
                            m.reconstruct(d.probe(), recon);
                            return Map.of("codes", m.encode(d.probe(), ws), "reconstructions", recon);
                        },
                        null),
                new Kind<ResidualAutoencoder>("residual autoencoder",
                        d -> {
                            ResidualAutoencoder ae = ResidualAutoencoder.builder(784).width(32).blocks(3).maxBatch(64)
                                    .kernels(d.kernels()).build().init(SEED);
                            ae.fit(d.train(), null, brief(64), 1e-3, null);
                            return ae;
                        },
                        ResidualAutoencoder::save, ResidualAutoencoder::load,
                        (m, d, ws) -> values("", m.network()),
                        (m, d, ws) -> {
                            Tensor recon = ws.allocate(d.probe().dim(0), d.probe().rowSize());
                            m.reconstruct(d.probe(), recon);
                            return Map.of("codes", m.encode(d.probe(), ws), "reconstructions", recon);
                        },
                        "codes"),
                stacked("stacked autoencoder (pretrained)", false),
                stacked("stacked autoencoder (fine-tuned)", true),
                new Kind<KMeansFeatures>("k-means features",
                        d -> KMeansFeatures.train(KMeansFeatures.images(d.train().rows(0, 200), 28, 28),
                                KMeansFeatures.Config.defaults(16).withStride(4).withTraining(2000, 5, false, 0, SEED), d.kernels()),
                        KMeansFeatures::save, KMeansFeatures::load,
                        (m, d, ws) -> Map.of("centroids", m.centroids(), "whitening.mean", m.whitening().mean(),
                                "whitening.matrix", m.whitening().matrix()),
                        (m, d, ws) -> Map.of("features", m.features(d.probe(), 28, 28, ws)),
                        null),
                new Kind<HebbianModel>("hebbian (sanger)",
                        d -> new HebbianModel(new Hebbian(Hebbian.Rule.SANGER, 4, 784, false, SEED)
                                .fit(d.train(), new Hebbian.Schedule(1, 0.002, 10_000, true, SEED))),
                        (m, f, p) -> m.h().save(f, p), (f, k) -> new HebbianModel(Hebbian.load(f)),
                        (m, d, ws) -> {
                            Tensor mean = ws.allocate(784);
                            double[] mu = m.h().mean();
                            for (int i = 0; i < mu.length; i++) {
                                mean.set(i, (float) mu[i]);
                            }
                            return Map.of("weight", m.h().weights(ws), "mean", mean);
                        },
                        (m, d, ws) -> {
                            Tensor y = ws.allocate(d.probe().dim(0), 4);
                            m.h().encode(d.probe(), y);
                            return Map.of("projections", y);
                        },
                        null),
                new Kind<Gan>("dcgan",
                        d -> {
                            Gan gan = new Gan(Gan.Config.dcgan28().withWidths(16, 8, 8, 16).withZ(16).withMaxBatch(16), d.kernels()).init(SEED);
                            GanTrainer.fit(gan, d.train().rows(0, 96), GanTrainer.Options.of(1, 16, SEED), null);
                            return gan;
                        },
                        Gan::save, Gan::load,
                        (m, d, ws) -> {
                            Map<String, Tensor> v = new LinkedHashMap<>(values("G.", m.generator()));
                            v.putAll(values("D.", m.discriminator()));
                            return v;
                        },
                        (m, d, ws) -> Map.of("samples", m.sample(40, SEED, ws), "d_features", m.discriminatorFeatures(d.probe(), ws)),
                        null));
    }

    /** Hebbian is not AutoCloseable (its state is on the heap); this gives it the shape the test needs. */
    record HebbianModel(Hebbian h) implements AutoCloseable {
        @Override
        public void close() {
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void saveThenLoadIsBitExact(Kind<?> kind) throws Exception {
        roundTrip(kind);
    }

    private static <M extends AutoCloseable> void roundTrip(Kind<M> kind) throws Exception {
        String slug = kind.name().replaceAll("[^a-z0-9]+", "-");
        Path file = dir.resolve(slug + ".safetensors");
        Path again = dir.resolve(slug + ".again.safetensors");
        Map<String, String> provenance = ModelFile.provenance("test", SEED, ModelFile.sha256(data.train()));
        try (Workspace ws = new Workspace("round-trip"); M model = kind.train().train(data)) {
            kind.save().save(model, file, provenance);
            // Copies taken now: computing outputs may change state (the GAN's generator samples in
            // batch-statistics mode, which moves its running statistics).
            Map<String, Tensor> learned = copies(kind.learned().of(model, data, ws), ws);
            try (M back = kind.load().load(file, data.kernels())) {
                assertSameBits(kind + ", learned values", learned, kind.learned().of(back, data, ws));
                kind.save().save(back, again, provenance);
                assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(again), kind + ": saving the loaded model changed the file");
                Map<String, Tensor> outputs = copies(kind.outputs().of(model, data, ws), ws);
                assertFalse(learned.isEmpty() || outputs.isEmpty(), kind + ": nothing to compare");
                assertSameBits(kind + ", outputs", outputs, kind.outputs().of(back, data, ws));
                if (kind.encoderOutput() != null) {
                    Tensor expected = outputs.get(kind.encoderOutput());
                    try (Encoder enc = Encoder.load(file, data.kernels())) {
                        Tensor got = ws.allocate(expected.shape());
                        enc.encode(data.probe(), got);
                        assertClose(kind + ", Encoder.load", expected, got);
                    }
                }
            }
        }
    }

    static Map<String, Tensor> copies(Map<String, Tensor> values, Workspace ws) {
        Map<String, Tensor> c = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : values.entrySet()) {
            Tensor t = ws.allocate(e.getValue().shape());
            t.copyFrom(e.getValue());
            c.put(e.getKey(), t);
        }
        return c;
    }

    /** Parameters and batch-norm running statistics of a network, by name. */
    static Map<String, Tensor> values(String prefix, Sequential net) {
        Map<String, Tensor> v = new LinkedHashMap<>();
        for (Param p : net.params()) {
            v.put(prefix + p.name(), p.value());
        }
        for (Layer l : net.layers()) {
            if (l instanceof BatchNorm n) {
                v.put(prefix + n.name() + ".running_mean", n.runningMean());
                v.put(prefix + n.name() + ".running_var", n.runningVar());
            }
        }
        return v;
    }

    /** Layer {@code last}'s output for every row of x, batch by batch, copied into ws. */
    static Tensor forward(Sequential net, Tensor x, int last, Workspace ws) {
        int n = x.dim(0);
        int[] shape = net.outputShape(last);
        int[] full = new int[shape.length + 1];
        full[0] = n;
        System.arraycopy(shape, 0, full, 1, shape.length);
        Tensor out = ws.allocate(full);
        for (int from = 0; from < n; from += net.maxBatch()) {
            int to = Math.min(n, from + net.maxBatch());
            out.rows(from, to).copyFrom(net.forward(x.rows(from, to), false, last));
        }
        return out;
    }

    /**
     * The Encoder's codes against the model's own: equal up to float summation order, not bit for bit.
     * The Encoder runs its GEMMs on chunks of {@link Encoder#CHUNK} rows, the model on chunks of its
     * batch size, and a GEMM's bits can depend on its row count (OpenBLAS takes its small-matrix
     * kernel, with another summation order, for small products). A reordered float sum of k terms
     * differs by at most about k * eps * sum|term|; here k <= 784, eps = 2^-24 (6e-8), terms and codes
     * are O(1) after sigmoid layers: 784 * 6e-8 = 5e-5, so |a - b| <= 1e-4 * max(1, |a|) per element.
     * A wrong weight or layer differs by orders of magnitude more.
     */
    static void assertClose(String what, Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        for (long i = 0; i < expected.size(); i++) {
            float a = expected.get(i);
            float b = actual.get(i);
            if (!(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(a)))) {
                fail(what + ": element " + i + " is " + b + ", the model's encoder gives " + a + " (tolerance 1e-4 relative)");
            }
        }
    }

    /** Same names, shapes and raw float bits (NaN payloads and signed zeros included). */
    static void assertSameBits(String what, Map<String, Tensor> expected, Map<String, Tensor> actual) {
        assertEquals(expected.keySet(), actual.keySet(), what + ": names");
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            Tensor a = e.getValue();
            Tensor b = actual.get(e.getKey());
            assertArrayEquals(a.shape(), b.shape(), what + ": shape of " + e.getKey());
            assertTrue(a.size() > 0, what + ": " + e.getKey() + " is empty");
            for (long i = 0; i < a.size(); i++) {
                int x = Float.floatToRawIntBits(a.get(i));
                int y = Float.floatToRawIntBits(b.get(i));
                if (x != y) {
                    fail(what + ": " + e.getKey() + "[" + i + "] is " + a.get(i) + " before saving and " + b.get(i) + " after loading");
                }
            }
        }
    }
}
