package dev.latent.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.Activation;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.loss.WeightDecay;
import dev.latent.nn.Param;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link JointClassifier} on small seeded "images" (3 classes of 20 pixels in [0, 1]: a random
 * prototype per class plus uniform noise of +- 0.15, clipped): with weight 0 it is
 * {@link Classifier#train} bit for bit; the same seed gives the same bits; the reconstruction term
 * falls while it trains; bad shapes are refused naming them. The joint gradient itself is checked
 * against a double twin by {@code dev.latent.nn.JointLossVsReferenceTest}.
 */
class JointClassifierTest {

    static final int D = 20;
    static final int CLASSES = 3;

    /** 400 steps would be the real budget; 60 is enough to move every weight and costs milliseconds. */
    static Classifier.Settings settings(double decay) {
        return new Classifier.Settings(8, Activation.SIGMOID, 60, 16, 3e-3, decay);
    }

    record Data(Tensor x, int[] labels, Tensor unlabeled, Tensor held) {
    }

    /** 30 labelled rows (so 2 batches of 16 and 14 an epoch: the partial batch is covered), 300 unlabeled, 60 held out. */
    static Data data(Workspace ws, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] proto = new double[CLASSES][D];
        for (double[] p : proto) {
            for (int j = 0; j < D; j++) {
                p[j] = r.nextInt(3) == 0 ? 0.8 + 0.2 * r.nextDouble() : 0.1 * r.nextDouble();
            }
        }
        int[] labels = new int[30];
        Tensor x = images(ws, proto, r, labels);
        Tensor u = images(ws, proto, r, new int[300]);
        Tensor held = images(ws, proto, r, new int[60]);
        return new Data(x, labels, u, held);
    }

    private static Tensor images(Workspace ws, double[][] proto, SplittableRandom r, int[] labels) {
        Tensor t = ws.allocate(labels.length, D);
        for (int i = 0; i < labels.length; i++) {
            labels[i] = i % CLASSES;
            for (int j = 0; j < D; j++) {
                double v = proto[labels[i]][j] + 0.3 * (r.nextDouble() - 0.5);
                t.set((long) i * D + j, (float) Math.min(1, Math.max(0, v)));
            }
        }
        return t;
    }

    static float[] parameters(List<Param> ps) {
        float[][] parts = ps.stream().map(p -> p.value().toArray()).toArray(float[][]::new);
        float[] all = new float[Arrays.stream(parts).mapToInt(a -> a.length).sum()];
        int at = 0;
        for (float[] a : parts) {
            System.arraycopy(a, 0, all, at, a.length);
            at += a.length;
        }
        return all;
    }

    /**
     * Weight 0: the same layers, initialization, batches and updates as Classifier.train, so every
     * parameter is equal bit for bit (assertArrayEquals on float[] compares bit patterns), and so are
     * the predictions; the unlabeled rows, when given, are not read at all.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#providers")
    void weightZeroIsThePlainMlp(String provider) {
        Kernels k = KernelRegistry.load(provider);
        try (Workspace ws = new Workspace("joint-test")) {
            Data d = data(ws, 3);
            for (double decay : new double[] {0, 1e-3}) {
                Classifier.Settings s = settings(decay);
                try (Classifier plain = Classifier.train(d.x(), d.labels(), CLASSES, s, 7, k);
                     JointClassifier joint = JointClassifier.train(d.x(), d.labels(), d.unlabeled(), CLASSES, s, 0, 7, k);
                     JointClassifier alone = JointClassifier.train(d.x(), d.labels(), null, CLASSES, s, 0, 7, k)) {
                    float[] want = parameters(plain.network().params());
                    assertArrayEquals(want, parameters(joint.network().params()), provider + " decay " + decay + ": parameters");
                    assertArrayEquals(want, parameters(alone.network().params()), provider + " decay " + decay + ": parameters, no pool");
                    assertArrayEquals(plain.predict(d.held()), joint.predict(d.held()), provider + ": predictions");
                    assertEquals(plain.accuracy(d.held(), heldLabels()), joint.accuracy(d.held(), heldLabels()));
                    assertEquals(null, joint.decoder(), "weight 0 builds no decoder");
                    assertEquals(0, joint.reconstructionTrace().length);
                    // 60 steps asked, 2 batches an epoch: 30 epochs, 60 steps, as the Trainer runs them.
                    assertEquals(60, joint.crossEntropyTrace().length);
                }
            }
        }
    }

    private static int[] heldLabels() {
        int[] y = new int[60];
        for (int i = 0; i < y.length; i++) {
            y[i] = i % CLASSES;
        }
        return y;
    }

    /** Same seed, same bits, with the decoder and the unlabeled draws; another seed, other weights. */
    @Test
    void sameSeedSameBits() {
        Kernels k = Kernels.current();
        try (Workspace ws = new Workspace("joint-test")) {
            Data d = data(ws, 4);
            Classifier.Settings s = settings(1e-3);
            try (JointClassifier a = JointClassifier.train(d.x(), d.labels(), d.unlabeled(), CLASSES, s, 1, 11, k);
                 JointClassifier b = JointClassifier.train(d.x(), d.labels(), d.unlabeled(), CLASSES, s, 1, 11, k);
                 JointClassifier c = JointClassifier.train(d.x(), d.labels(), d.unlabeled(), CLASSES, s, 1, 12, k);
                 Classifier plain = Classifier.train(d.x(), d.labels(), CLASSES, s, 11, k)) {
                assertArrayEquals(parameters(a.network().params()), parameters(b.network().params()));
                assertArrayEquals(parameters(a.decoder().params()), parameters(b.decoder().params()));
                assertArrayEquals(a.reconstructionTrace(), b.reconstructionTrace());
                assertTrue(!Arrays.equals(parameters(a.network().params()), parameters(c.network().params())), "another seed");
                // The reconstruction term does reach the shared layer: weight 1 moves it away from the plain MLP's.
                assertTrue(!Arrays.equals(parameters(a.network().params()), parameters(plain.network().params())), "w = 1 vs plain");
            }
        }
    }

    /**
     * With w = 1 the reconstruction error falls as it trains: the mean R of the last 20 steps' batches
     * is below half that of the first 20 (measured: 0.173 over the first 20 steps, a sigmoid decoder at
     * 0.5 against pixels near 0 or 0.9, and 0.023 over the last 20, so half leaves a wide margin); and on
     * 60 held-out rows the trained model reconstructs at most half as badly as its initialization
     * (same seed, so the same starting weights).
     */
    @Test
    void reconstructionFallsWhileTraining() {
        Kernels k = Kernels.current();
        try (Workspace ws = new Workspace("joint-test")) {
            Data d = data(ws, 5);
            Classifier.Settings s = new Classifier.Settings(8, Activation.SIGMOID, 300, 16, 3e-3, 1e-4);
            try (JointClassifier j = JointClassifier.train(d.x(), d.labels(), d.unlabeled(), CLASSES, s, 1, 2, k);
                 JointClassifier start = JointClassifier.initialized(D, CLASSES, s, 1, 32, 2, k)) {
                double[] trace = j.reconstructionTrace();
                assertEquals(300, trace.length);
                double first = Arrays.stream(trace, 0, 20).average().orElseThrow();
                double last = Arrays.stream(trace, trace.length - 20, trace.length).average().orElseThrow();
                assertTrue(last < 0.5 * first, "R first 20 steps " + first + ", last 20 " + last);
                double before = start.reconstructionError(d.held());
                double after = j.reconstructionError(d.held());
                assertTrue(after < 0.5 * before, "held-out R before " + before + ", after " + after);
                double[] ce = j.crossEntropyTrace();
                assertTrue(ce[ce.length - 1] < ce[0], "cross-entropy " + ce[0] + " -> " + ce[ce.length - 1]);
            }
        }
    }

    @Test
    void badShapesAreRefusedNamingThem() {
        Kernels k = Kernels.current();
        try (Workspace ws = new Workspace("joint-test")) {
            Data d = data(ws, 6);
            Classifier.Settings s = settings(1e-4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> JointClassifier.train(d.x(), new int[29], d.unlabeled(), CLASSES, s, 1, 1, k));
            assertTrue(e.getMessage().contains("[30, 20]") && e.getMessage().contains("29 labels"), e.getMessage());
            Tensor narrow = ws.allocate(300, 19);
            e = assertThrows(IllegalArgumentException.class, () -> JointClassifier.train(d.x(), d.labels(), narrow, CLASSES, s, 1, 1, k));
            assertTrue(e.getMessage().contains("[300, 19]") && e.getMessage().contains("[30, 20]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> JointClassifier.train(d.x(), d.labels(), null, CLASSES, s, 1, 1, k));
            assertTrue(e.getMessage().contains("unlabeled rows missing"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> JointClassifier.train(d.x(), d.labels(), d.unlabeled(), CLASSES,
                    new Classifier.Settings(0, Activation.SIGMOID, 10, 16, 1e-3, 0), 1, 1, k));
            assertTrue(e.getMessage().contains("hidden = 0"), e.getMessage());
            for (double w : new double[] {-1, Double.NaN, Double.POSITIVE_INFINITY}) {
                e = assertThrows(IllegalArgumentException.class, () -> JointClassifier.train(d.x(), d.labels(), d.unlabeled(), CLASSES, s, w, 1, k));
                assertTrue(e.getMessage().contains("weight"), e.getMessage());
            }
            int[] outside = d.labels().clone();
            outside[4] = CLASSES;
            e = assertThrows(IllegalArgumentException.class, () -> JointClassifier.train(d.x(), outside, d.unlabeled(), CLASSES, s, 1, 1, k));
            assertTrue(e.getMessage().contains("label 3 at row 4"), e.getMessage());
            try (JointClassifier j = JointClassifier.initialized(D, CLASSES, s, 1, 8, 1, k)) {
                Tensor x = ws.allocate(6, D);
                e = assertThrows(IllegalArgumentException.class, () -> j.objective(x, ws.allocate(7, CLASSES), new WeightDecay(0)));
                assertTrue(e.getMessage().contains("[6, 20]") && e.getMessage().contains("[7, 3]"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> j.objective(x, ws.allocate(3, 4), new WeightDecay(0)));
                assertTrue(e.getMessage().contains("[3, 4]"), e.getMessage());
            }
        }
    }
}
