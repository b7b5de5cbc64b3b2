package dev.latent.model;

import dev.latent.model.gan.Gan;
import dev.latent.model.gan.GanTrainer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.data.Dataset;
import dev.latent.io.BadInputException;
import dev.latent.kernel.Kernels;
import dev.latent.optim.Optimizer;
import dev.latent.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DCGAN checkpoints: 2 epochs straight and 1 epoch + checkpoint + a fresh model (initialized from
 * another seed, so nothing survives but the file) + resume for epoch 2 end with the same bits in every
 * parameter, batch-norm statistic and both Adam states (exact equality: the same seed and kernel
 * provider give the same bits, so any difference is state the checkpoint lost).
 */
class GanResumeTest {

    private static final long SEED = 7;

    @Test
    void twoEpochsStraightEqualOneEpochCheckpointResumeOne(@TempDir Path dir) throws Exception {
        try (Dataset data = Dataset.embeddedMnist()) {
            Tensor images = data.images().rows(0, 96);
            Path straightCkpt = dir.resolve("straight.safetensors");
            Map<String, float[]> straight;
            try (Gan gan = new Gan(GanTest.tiny(), Kernels.current()).init(SEED)) {
                GanTrainer.fit(gan, images, GanTrainer.Options.of(2, 16, SEED).withCheckpoint(straightCkpt, false), null);
                straight = snapshot(gan);
            }
            Path ckpt = dir.resolve("ckpt.safetensors");
            Path metrics = dir.resolve("metrics.jsonl");
            try (Gan gan = new Gan(GanTest.tiny(), Kernels.current()).init(SEED)) {
                GanTrainer.fit(gan, images, GanTrainer.Options.of(1, 16, SEED).withCheckpoint(ckpt, true).withMetrics(metrics), null);
            }
            GanTrainer.Result resumed;
            Map<String, float[]> split;
            try (Gan gan = new Gan(GanTest.tiny(), Kernels.current()).init(SEED + 1000)) {
                resumed = GanTrainer.fit(gan, images, GanTrainer.Options.of(2, 16, SEED).withCheckpoint(ckpt, true)
                        .withMetrics(metrics), null);
                split = snapshot(gan);
            }
            assertEquals(List.of(1, 2), resumed.epochs().stream().map(GanTrainer.Epoch::epoch).toList(),
                    "the resumed result holds epoch 1 from the log and epoch 2 from training");
            List<String> lines = Files.readAllLines(metrics);
            assertEquals(2, lines.size(), "one metrics line per epoch: " + lines);
            assertTrue(lines.get(1).startsWith("{\"epoch\":2,"), lines.get(1));
            assertEquals(straight.keySet(), split.keySet());
            for (String name : straight.keySet()) {
                assertArrayEquals(straight.get(name), split.get(name), name + " differs after checkpoint + resume");
            }
            // The straight run's epoch-2 checkpoint and the resumed run's are the same state.
            try (Gan a = new Gan(GanTest.tiny(), Kernels.current()).init(1); Gan b = new Gan(GanTest.tiny(), Kernels.current()).init(2)) {
                GanTrainer.fit(a, images, GanTrainer.Options.of(2, 16, SEED).withCheckpoint(straightCkpt, true), null);
                GanTrainer.fit(b, images, GanTrainer.Options.of(2, 16, SEED).withCheckpoint(ckpt, true), null);
                assertArrayEquals(a.generator().slab().values().toArray(), b.generator().slab().values().toArray());
            }
        }
    }

    @Test
    void resumingWithOtherSettingsIsRejectedNamingTheFile(@TempDir Path dir) throws Exception {
        try (Dataset data = Dataset.embeddedMnist()) {
            Tensor images = data.images().rows(0, 64);
            Path ckpt = dir.resolve("ckpt.safetensors");
            try (Gan gan = new Gan(GanTest.tiny(), Kernels.current()).init(SEED)) {
                GanTrainer.fit(gan, images, GanTrainer.Options.of(1, 16, SEED).withCheckpoint(ckpt, true), null);
            }
            try (Gan gan = new Gan(GanTest.tiny(), Kernels.current()).init(SEED)) {
                BadInputException e = assertThrows(BadInputException.class, () ->
                        GanTrainer.fit(gan, images, GanTrainer.Options.of(2, 16, SEED + 1).withCheckpoint(ckpt, true), null));
                assertTrue(e.getMessage().contains(ckpt.toString()) && e.getMessage().contains("seed"), e.getMessage());
            }
            try (Gan gan = new Gan(GanTest.tiny().withZ(20), Kernels.current()).init(SEED)) {
                BadInputException e = assertThrows(BadInputException.class, () ->
                        GanTrainer.fit(gan, images, GanTrainer.Options.of(2, 16, SEED).withCheckpoint(ckpt, true), null));
                assertTrue(e.getMessage().contains(ckpt.toString()), e.getMessage());
            }
        }
    }

    /** Copies of every tensor a checkpoint holds: parameters, running statistics, Adam moments. */
    private static Map<String, float[]> snapshot(Gan gan) {
        Map<String, float[]> m = new java.util.TreeMap<>();
        gan.stateTensors().forEach((k, v) -> m.put(k, v.toArray()));
        for (Map.Entry<String, Optimizer> o : gan.optimizers().entrySet()) {
            m.put(o.getKey() + ".state", o.getValue().state().toArray());
            m.put(o.getKey() + ".steps", new float[] {o.getValue().steps()});
        }
        return m;
    }
}
