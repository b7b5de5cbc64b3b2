package dev.latent.model;

import dev.latent.eval.FrechetScorer;
import dev.latent.eval.GanArithmetic;
import dev.latent.model.gan.Gan;
import dev.latent.model.gan.GanTrainer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.data.Dataset;
import dev.latent.kernel.Kernels;
import dev.latent.nn.Param;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DCGAN: shapes, the generator's gradient through D against finite differences, reproducibility,
 * the model file, and (on a small budget) that the Frechet distance of its samples falls.
 */
class GanTest {

    /** A small network for fast tests: z 16, G 16/8, D 8/16 on 28x28. */
    static Gan.Config tiny() {
        return Gan.Config.dcgan28().withWidths(16, 8, 8, 16).withZ(16).withMaxBatch(16);
    }

    @Test
    void defaultNetworksHaveTheIssuesShapes() {
        try (Gan gan = new Gan(Gan.Config.dcgan28(), Kernels.current())) {
            assertArrayEquals(new int[] {1, 28, 28}, gan.generator().outputShape());
            assertArrayEquals(new int[] {128, 7, 7}, gan.generator().outputShape(2));
            assertArrayEquals(new int[] {64, 14, 14}, gan.generator().outputShape(5));
            assertArrayEquals(new int[] {1}, gan.discriminator().outputShape());
            assertArrayEquals(new int[] {64, 14, 14}, gan.discriminator().outputShape(Gan.D_ACT1));
            assertArrayEquals(new int[] {128, 7, 7}, gan.discriminator().outputShape(Gan.D_ACT2));
            long gParams = gan.generator().params().stream().mapToLong(Param::size).sum();
            long dParams = gan.discriminator().params().stream().mapToLong(Param::size).sum();
            // G: 100*6272 + 2*128 + 128*64*16 + 2*64 + 64*16 + 1; D: 64*16 + 64 + 64*128*16 + 2*128 + 6272 + 1
            assertEquals(627_200 + 256 + 131_072 + 128 + 1024 + 1, gParams);
            assertEquals(1024 + 64 + 131_072 + 256 + 6272 + 1, dParams);
        }
    }

    @Test
    void generatorGradientThroughTheDiscriminatorMatchesFiniteDifferences() {
        for (Gan.GeneratorLoss loss : Gan.GeneratorLoss.values()) {
            long seed = 11;
            Gan.Config c = tiny().withTraining(1, loss, 2e-4, 0.5);
            try (Gan gan = new Gan(c, Kernels.current()).init(seed); Workspace ws = new Workspace("fd")) {
                Tensor z = ws.allocate(8, c.z());
                Gan.fillGaussian(z, new SplittableRandom(seed));
                gan.generatorLossAndGradient(z);
                // In every parameter tensor of G, the entry with the largest gradient against a central
                // difference in float (eps 1e-3; ReLU kinks and float round-off allow a few per cent).
                Tensor values = gan.generator().slab().values();
                float[] w0 = values.toArray();
                for (Param p : gan.generator().params()) {
                    int off = (int) (p.value().offset() - values.offset());
                    float[] gp = p.grad().toArray();
                    int idx = 0;
                    for (int i = 0; i < gp.length; i++) {
                        idx = Math.abs(gp[i]) > Math.abs(gp[idx]) ? i : idx;
                    }
                    double eps = 1e-3;
                    float[] w = w0.clone();
                    w[off + idx] += (float) eps;
                    values.copyFrom(w);
                    double plus = gan.generatorLossAndGradient(z);
                    w[off + idx] = (float) (w0[off + idx] - eps);
                    values.copyFrom(w);
                    double minus = gan.generatorLossAndGradient(z);
                    values.copyFrom(w0);
                    double numeric = (plus - minus) / (2 * eps);
                    assertEquals(gp[idx], numeric, 0.08 * Math.abs(gp[idx]) + 2e-3,
                            loss + ": dL/d" + p.name() + "[" + idx + "] analytic " + gp[idx] + " vs numeric " + numeric);
                }
            }
        }
    }

    /**
     * A discriminator step backpropagates down to D's first convolution only (no image gradient): every
     * parameter gradient must be bit-identical to a full backward's, since the skipped work (conv1's
     * dL/dx and the input tap) feeds no parameter.
     */
    @Test
    void partialBackwardGivesTheFullBackwardsParameterGradients() {
        try (Dataset data = Dataset.embeddedMnist(); Gan gan = new Gan(tiny(), Kernels.current()).init(9);
             Workspace ws = new Workspace("partial")) {
            Tensor x = ws.allocate(16, 1, 28, 28);
            Tensor src = data.images().rows(0, 16);
            for (long i = 0; i < x.size(); i++) {
                x.set(i, src.get(i) * 2f - 1f);
            }
            var d = gan.discriminator();
            float[][] grads = new float[2][];
            for (int lowest = 0; lowest < 2; lowest++) {
                Tensor out = d.forward(x, true);
                d.zeroGrad();
                Tensor dOut = d.outputGrad();
                for (long i = 0; i < dOut.size(); i++) {
                    dOut.set(i, (float) Math.tanh(out.get(i)) - 0.5f);
                }
                d.backward(x, dOut, lowest);
                grads[lowest] = d.slab().grads().toArray();
            }
            assertTrue(nonZero(grads[0]) > grads[0].length / 2,
                    "the full backward produced gradients");
            assertArrayEquals(grads[0], grads[1], "D's parameter gradients with and without the image gradient");
        }
    }

    private static int nonZero(float[] v) {
        int n = 0;
        for (float f : v) {
            n += f != 0 ? 1 : 0;
        }
        return n;
    }

    /**
     * Looking at samples never changes the model: generating runs G in training mode (batch
     * statistics), which moves batch norm's running averages, and {@code generate} must put them back.
     * Compared bit for bit after a short training run, so the statistics are not at their initial values.
     */
    @Test
    void samplingLeavesTheRunningStatisticsAlone() throws Exception {
        try (Dataset data = Dataset.embeddedMnist(); Gan gan = new Gan(tiny(), Kernels.current()).init(3);
             Workspace ws = new Workspace("sample")) {
            GanTrainer.fit(gan, data.images().rows(0, 64), GanTrainer.Options.of(1, 16, 3), null);
            java.util.List<float[]> before = new java.util.ArrayList<>();
            for (dev.latent.nn.Layer l : gan.generator().layers()) {
                if (l instanceof dev.latent.nn.BatchNorm bn) {
                    before.add(bn.runningMean().toArray());
                    before.add(bn.runningVar().toArray());
                }
            }
            assertTrue(!before.isEmpty(), "the generator has batch norm layers");
            gan.sample(40, 11, ws);
            int i = 0;
            for (dev.latent.nn.Layer l : gan.generator().layers()) {
                if (l instanceof dev.latent.nn.BatchNorm bn) {
                    assertArrayEquals(before.get(i++), bn.runningMean().toArray(), 0f, bn.name() + " mean");
                    assertArrayEquals(before.get(i++), bn.runningVar().toArray(), 0f, bn.name() + " var");
                }
            }
        }
    }

    @Test
    void sameSeedSameBitsAndModelFileRoundTrips(@TempDir Path dir) throws Exception {
        try (Dataset data = Dataset.embeddedMnist()) {
            Tensor images = data.images().rows(0, 96);
            float[][] runs = new float[2][];
            for (int run = 0; run < 2; run++) {
                try (Gan gan = new Gan(tiny(), Kernels.current()).init(5)) {
                    GanTrainer.Result r = GanTrainer.fit(gan, images, GanTrainer.Options.of(2, 16, 5), null);
                    assertEquals(2, r.epochs().size());
                    runs[run] = gan.generator().slab().values().toArray();
                    if (run == 1) {
                        Path file = dir.resolve("gan.safetensors");
                        gan.save(file, null);
                        try (Gan back = Gan.load(file, Kernels.current()); Workspace ws = new Workspace("cmp")) {
                            assertArrayEquals(gan.discriminator().slab().values().toArray(), back.discriminator().slab().values().toArray());
                            assertArrayEquals(gan.sample(16, 3, ws).toArray(), back.sample(16, 3, ws).toArray(),
                                    "samples of the loaded model");
                            assertArrayEquals(gan.discriminatorFeatures(images.rows(0, 20), ws).toArray(),
                                    back.discriminatorFeatures(images.rows(0, 20), ws).toArray(), "D features of the loaded model");
                        }
                    }
                }
            }
            assertArrayEquals(runs[0], runs[1], "two runs with seed 5");
        }
    }

    /**
     * The quality test: a small DCGAN (z 32, G 32/16, D 16/32) on 3,200 embedded digits, batch 64,
     * 5 epochs (250 iterations). The Frechet distance (classifier features, 500 samples) after the last
     * epoch must be below 0.6 of its value after epoch 1. Also writes the sample grids and metrics.
     */
    @Test
    void frechetDistanceFallsOverTraining(@TempDir Path dir) throws Exception {
        long seed = 3;
        try (Dataset data = Dataset.embeddedMnist()) {
            Tensor images = data.images().rows(0, 3200);
            int[] labels = java.util.Arrays.copyOf(data.labels(), 3200);
            Gan.Config c = Gan.Config.dcgan28().withWidths(32, 16, 16, 32).withZ(32);
            try (FrechetScorer scorer = FrechetScorer.train(images, labels, 10, new FrechetScorer.Settings(64, 32, 300, 128, 3e-3),
                    seed, Kernels.current());
                 Gan gan = new Gan(c, Kernels.current()).init(seed)) {
                GanTrainer.Result r = GanTrainer.fit(gan, images, GanTrainer.Options.of(5, 64, seed)
                        .withFrechet(scorer::distance, 500).withMetrics(dir.resolve("metrics.jsonl")), new GanTrainer.Listener() {
                            @Override
                            public void onSamples(int epoch, Tensor grid01) {
                                try {
                                    dev.latent.viz.ImageGrid.images(dir.resolve(String.format(Locale.ROOT, "samples-epoch-%03d.png", epoch)),
                                            grid01, c.size(), c.size() * c.channels(), 8, 2);
                                } catch (java.io.IOException e) {
                                    throw new java.io.UncheckedIOException(e);
                                }
                            }
                        });
                double[] fd = r.frechet();
                String curve = java.util.Arrays.toString(java.util.Arrays.stream(fd).mapToObj(v -> String.format(Locale.ROOT, "%.2f", v)).toArray());
                System.out.println("seed " + seed + " frechet per epoch " + curve + ", scorer accuracy " + scorer.trainAccuracy());
                assertNull(r.stopReason(), "seed " + seed);
                assertTrue(fd[fd.length - 1] < 0.6 * fd[0], "seed " + seed + ": Frechet distance per epoch " + curve);
                List<String> lines = Files.readAllLines(dir.resolve("metrics.jsonl"));
                assertEquals(5, lines.size());
                assertTrue(lines.getFirst().contains("\"d_acc_real\"") && lines.getFirst().contains("\"frechet\""), lines.getFirst());
                assertTrue(Files.size(dir.resolve("samples-epoch-005.png")) > 0);
                // Latent arithmetic on the same generator: thick(a) - thin(a) + thin(b) must carry the
                // thickness over, i.e. have more ink than thin(b), in at least 80% of the rows (a random
                // direction would in about half; measured 100% of 6 rows here, one row per class the
                // classifier recognises confidently, so 80% allows one failing row in 5 to 10). Whether the
                // classifier still sees b in the result is only printed: at this budget it is not stable.
                try (Workspace ws = new Workspace("arith")) {
                    GanArithmetic.Result a = GanArithmetic.thickness(gan, scorer.classifier(), 1000, 3, 0.9, seed, ws);
                    System.out.printf(Locale.ROOT, "seed %d arithmetic: %d rows, ink rose %.2f, mean ink ratio %.2f, label kept %.2f%n",
                            seed, a.rows().size(), a.inkRoseFraction(), a.meanInkRatio(), a.labelKeptFraction());
                    assertTrue(a.rows().size() >= 4, "seed " + seed + ": concepts for only " + a.rows().size() + " classes");
                    assertTrue(a.inkRoseFraction() >= 0.8, "seed " + seed + ": " + a.rows());
                    assertEquals(a.rows().size() * GanArithmetic.COLUMNS, a.images().dim(0));
                }
            }
        }
    }
}
