package dev.latent.model.selfsup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.data.Dataset;
import dev.latent.eval.FewLabel;
import dev.latent.io.BadInputException;
import dev.latent.kernel.Kernels;
import dev.latent.model.FeatureExtractor;
import dev.latent.model.selfsup.SelfSupervised.Pretext;
import dev.latent.serve.ModelKinds;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.History;
import dev.latent.train.TrainingListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The self-supervised kinds on the embedded digits, small runs (tiny encoders, 1,000-2,000 digits, a
 * few epochs, seconds each on 2 cores): each pretext loss falls; save, load (through
 * {@link ModelKinds}) gives the same features bit for bit; contrastive features beat raw pixels at 10
 * labels per class; bad configs and files are refused with one clear message.
 */
class SelfSupervisedTest {

    static final long SEED = 3;

    static SelfSupervised.Config small(Pretext p, int batch, String... extra) {
        Map<String, String> set = new java.util.LinkedHashMap<>();
        set.put("channels", "8,16");
        set.put("hidden", "64");
        set.put("pool", "1");
        if (p == Pretext.CONTRASTIVE) {
            set.put("dim", "32");
        }
        if (p == Pretext.EXEMPLAR) {
            set.put("classes", "256");
        }
        for (int i = 0; i < extra.length; i += 2) {
            set.put(extra[i], extra[i + 1]);
        }
        return new SelfSupervised.Config(p, new int[] {1, 28, 28}, SelfSupervised.hyperparameters(p).parse(set, "test"), batch);
    }

    /**
     * Loss of the first epoch against the last, on small runs. Measured (seed 3, openblas
     * provider): contrastive 1,000 digits 4 epochs 4.397 -> 3.206 (ratio 0.73);
     * exemplar 256 surrogate classes 30 epochs of 4 steps 5.573 -> 5.327 (0.956: each class is seen
     * 30 times; chance is log 256 = 5.545); patch-position 1,000 digits 4 epochs 2.037 -> 1.747 (0.86;
     * chance log 8 = 2.08). The test asks for ratios below 0.85, 0.98 and 0.92: each about half-way
     * between the measured fall and no fall at all.
     */
    @ParameterizedTest
    @EnumSource(Pretext.class)
    void pretextLossFalls(Pretext p) {
        int epochs = p == Pretext.EXEMPLAR ? 30 : 4;
        try (Dataset data = Dataset.embeddedMnist(); SelfSupervised m = new SelfSupervised(small(p, 64), Kernels.current()).init(SEED)) {
            Tensor train = data.images().rows(0, p == Pretext.EXEMPLAR ? 256 : 1000);
            History h = m.fit(train, epochs, 3e-3, SEED, TrainingListener.NONE);
            double first = h.epochs().get(0).trainLoss();
            double last = h.last().trainLoss();
            System.out.printf("%s (seed %d): loss %.4f -> %.4f over %d epochs%n", p.kind(), SEED, first, last, epochs);
            double ratio = switch (p) {
                case CONTRASTIVE -> 0.85;
                case EXEMPLAR -> 0.98;
                case PATCH_POSITION -> 0.92;
            };
            assertTrue(last < ratio * first, p.kind() + " seed " + SEED + ": loss " + first + " -> " + last + ", not below " + ratio + "x");
        }
    }

    @ParameterizedTest
    @EnumSource(Pretext.class)
    void saveLoadGivesTheSameFeaturesBitForBit(Pretext p, @TempDir Path dir) throws Exception {
        try (Dataset data = Dataset.embeddedMnist(); Workspace ws = new Workspace("selfsup-test");
             SelfSupervised m = new SelfSupervised(small(p, 32), Kernels.current()).init(SEED)) {
            m.fit(data.images().rows(0, 96), 1, 1e-3, SEED, TrainingListener.NONE);
            Tensor x = data.images().rows(100, 170);
            Tensor before = m.features(x, ws);
            assertEquals(p == Pretext.PATCH_POSITION ? 9 * 16 : 16, m.featureSize());
            Path file = dir.resolve(p.kind() + ".safetensors");
            m.save(file, Map.of("seed", Long.toString(SEED)));
            assertEquals(p.kind(), ModelKinds.kindOf(file));
            try (FeatureExtractor back = ModelKinds.load(file, Kernels.current())) {
                assertEquals(p.kind(), back.kind());
                Tensor after = back.features(x, ws);
                float[] a = before.toArray();
                float[] b = after.toArray();
                for (int i = 0; i < a.length; i++) {
                    assertEquals(Float.floatToIntBits(a[i]), Float.floatToIntBits(b[i]), p.kind() + ": feature " + i + " differs after load");
                }
            }
            // a file whose tensors do not fit its config is refused, naming the file
            byte[] bytes = Files.readAllBytes(file);
            Path cut = dir.resolve("cut.safetensors");
            Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 4));
            assertThrows(BadInputException.class, () -> ModelKinds.load(cut, Kernels.current()).close());
        }
    }

    /**
     * Contrastive features against raw pixels at 10 labels per class (the protocol's head, 3 draws):
     * 2,000 pool digits, 1,000 test digits, encoder 8,16 with its 7x7 maps unpooled (784 features),
     * 4 epochs. Measured (seed 3): 83.3% against 74.7% for raw pixels (+8.6 points). The test asks for
     * a margin of at least 5 points.
     */
    static final double MARGIN = 5;

    @Test
    void contrastiveFeaturesBeatRawPixelsAtTenLabels() {
        try (Dataset data = Dataset.embeddedMnist(); Workspace ws = new Workspace("selfsup-fewlabel");
             SelfSupervised m = new SelfSupervised(small(Pretext.CONTRASTIVE, 128, "pool", "7"), Kernels.current()).init(SEED)) {
            int[] poolRows = IntStream.range(0, 2000).toArray();
            int[] testRows = IntStream.range(9000, 10000).toArray();
            Tensor pool = FewLabel.gather(data.images(), poolRows, ws);
            Tensor test = FewLabel.gather(data.images(), testRows, ws);
            int[] poolLabels = FewLabel.labelsOf(data, poolRows);
            int[] testLabels = FewLabel.labelsOf(data, testRows);
            m.fit(pool, 4, 3e-3, SEED, TrainingListener.NONE);
            List<FewLabel.Row> rows = List.of(
                    new FewLabel.Row("raw", "raw", FewLabel.pixels(pool, test, testLabels, 10, Kernels.current(), ws)),
                    new FewLabel.Row("contrastive", "c", FewLabel.frozen(m, pool, test, testLabels, 10, Kernels.current(), ws)));
            List<FewLabel.Result> r = FewLabel.run(poolLabels, new int[] {10}, 3, rows, s -> { });
            double raw = 100 * r.get(0).mean();
            double feat = 100 * r.get(1).mean();
            System.out.printf("contrastive 8,16 (seed %d) at 10 labels/class: %.1f%% vs raw pixels %.1f%%%n", SEED, feat, raw);
            assertTrue(feat > raw + MARGIN, "seed " + SEED + ": contrastive " + feat + "% vs raw " + raw + "%");
        }
    }

    @Test
    void badConfigsAreRefusedWithOneMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SelfSupervised(small(Pretext.CONTRASTIVE, 32, "channels", "4,4,4,4,4,4"), Kernels.current()));
        assertTrue(e.getMessage().contains("contrastive"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new SelfSupervised(small(Pretext.PATCH_POSITION, 32, "patch", "12", "grid", "10"), Kernels.current()));
        assertTrue(e.getMessage().contains("32 pixels per side"), e.getMessage());
        assertThrows(BadInputException.class, () -> small(Pretext.CONTRASTIVE, 32, "colour", "1"));
        try (SelfSupervised m = new SelfSupervised(small(Pretext.CONTRASTIVE, 32), Kernels.current())) {
            assertThrows(IllegalArgumentException.class, () -> m.fit(Tensor.wrap(java.lang.foreign.MemorySegment.ofArray(new float[100]), 0, 1, 100),
                    1, 1e-3, 1, TrainingListener.NONE));
        }
    }
}
