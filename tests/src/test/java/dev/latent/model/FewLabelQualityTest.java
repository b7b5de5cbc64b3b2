package dev.latent.model;

import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.model.autoencoder.StackedAutoencoder;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.data.Dataset;
import dev.latent.eval.FewLabel;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.Trainer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Seed 003's claim, tested on the embedded MNIST digits (8,000 unlabeled pool images, 2,000 held-out
 * test images, seeded): with 10 labels per class, softmax on frozen sparse-autoencoder features beats
 * an MLP of the same shape trained by backprop on the labels alone, averaged over 3 label draws; and a
 * stacked autoencoder fine-tuned end to end beats its own frozen features.
 */
class FewLabelQualityTest {

    static Dataset all;
    static Dataset pool;
    static Dataset test;

    @BeforeAll
    static void split() {
        all = Dataset.embeddedMnist();
        FewLabel.Split s = FewLabel.split(all.labels(), 0.2, 1);
        pool = all.subset("pool", s.pool());
        test = all.subset("test", s.test());
    }

    @AfterAll
    static void close() {
        pool.close();
        test.close();
        all.close();
    }

    static Tensor gather(Tensor src, int[] rows, Workspace ws) {
        Tensor t = ws.allocate(rows.length, src.rowSize());
        for (int i = 0; i < rows.length; i++) {
            t.row(i).copyFrom(src.row(rows[i]));
        }
        return t;
    }

    static int[] all(int n) {
        return java.util.stream.IntStream.range(0, n).toArray();
    }

    /**
     * Margin: 2 percentage points of mean test accuracy over 3 draws. Measured with this budget
     * (12 epochs): about 80% for the features against 75% for backprop alone (the demo's table shows the
     * same gap with 5 draws); the standard deviation of each mean over 3 draws is about 1.5 points, so a
     * 2-point margin fails if the features are no better, and rarely by chance.
     */
    @Test
    void sparseFeaturesBeatBackpropAtTenLabels() throws Exception {
        Kernels k = Kernels.current();
        try (Autoencoder sae = Autoencoder.builder(784).hidden(196).activation(Activation.SIGMOID).klSparsity(0.1, 3)
                .weightDecay(3e-3).maxBatch(128).kernels(k).build().init(1); Workspace ws = new Workspace("q")) {
            sae.fit(pool.images(), null, Trainer.Config.of(12, 128, 1), 3e-3, null);
            Tensor poolCodes = sae.encode(pool.images(), ws);
            Tensor testCodes = sae.encode(test.images(), ws);
            double features = 0;
            double backprop = 0;
            int draws = 3;
            for (int d = 0; d < draws; d++) {
                int[] rows = FewLabel.draw(pool.labels(), all(pool.size()), 10, 10_000L + d);
                int[] y = FewLabel.labelsOf(pool, rows);
                try (Classifier c = Classifier.train(gather(poolCodes, rows, ws), y, 10, Classifier.Settings.softmax(), d, k)) {
                    features += c.accuracy(testCodes, test.labels()) / draws;
                }
                try (Classifier c = Classifier.train(gather(pool.images(), rows, ws), y, 10,
                        Classifier.Settings.mlp(196, Activation.SIGMOID), d, k)) {
                    backprop += c.accuracy(test.images(), test.labels()) / draws;
                }
            }
            double f = features;
            double b = backprop;
            System.out.printf("few-label quality: 10 labels/class, sparse AE features %.4f vs backprop alone %.4f%n", f, b);
            assertTrue(f > b + 0.02, () -> String.format("sparse autoencoder features %.3f vs backprop alone %.3f at 10 labels/class", f, b));
        }
    }

    /**
     * Fine-tuning helps: a 784-200-200 stack pretrained greedily (6 epochs a layer), then the softmax on
     * its frozen top features vs the whole stack fine-tuned, both on 100 labels per class. Margin 1 point:
     * UFLDL reports 87.7% -> 97.6% on full MNIST; with 1,000 labels we measured a gap of several points.
     */
    @Test
    void fineTuningBeatsFrozenStack() throws Exception {
        Kernels k = Kernels.current();
        try (StackedAutoencoder stack = new StackedAutoencoder(784, new int[] {200, 200}, Activation.SIGMOID, 0.1, 3, 3e-3, k);
             Workspace ws = new Workspace("q2")) {
            stack.pretrain(pool.images(), Trainer.Config.of(6, 128, 2), 3e-3, null);
            int[] rows = FewLabel.draw(pool.labels(), all(pool.size()), 100, 77);
            int[] y = FewLabel.labelsOf(pool, rows);
            Tensor x = gather(pool.images(), rows, ws);
            double frozen;
            try (Classifier c = Classifier.train(stack.features(x, ws), y, 10, Classifier.Settings.softmax(), 1, k)) {
                frozen = c.accuracy(stack.features(test.images(), ws), test.labels());
            }
            double tuned;
            try (Classifier c = stack.fineTune(x, y, 10, Classifier.Settings.mlp(0, Activation.SIGMOID), 1)) {
                tuned = c.accuracy(test.images(), test.labels());
            }
            double fr = frozen;
            double tu = tuned;
            System.out.printf("few-label quality: stacked 784-200-200, 100 labels/class, frozen %.4f vs fine-tuned %.4f%n", fr, tu);
            assertTrue(tu > fr + 0.01, () -> String.format("fine-tuned %.3f vs frozen %.3f", tu, fr));
        }
    }
}
