package dev.latent.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.data.Dataset;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.loss.KlSparsity;
import dev.latent.loss.Mse;
import dev.latent.loss.WeightDecay;
import dev.latent.nn.ActivationLayer;
import dev.latent.nn.Dense;
import dev.latent.nn.Sequential;
import dev.latent.optim.Adam;
import dev.latent.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The training loop on real data (1,000 of the embedded MNIST digits, a 784-64-784 sparse
 * autoencoder): the loss falls, runs are bit-reproducible, and a run stopped after epoch 2 and
 * resumed from its checkpoint ends with exactly the parameters of an uninterrupted run.
 */
class TrainerTest {

    static Dataset digits;
    static Tensor x;

    @BeforeAll
    static void load() {
        Dataset all = Dataset.embeddedMnist();
        int[] first = new int[1000];
        for (int i = 0; i < first.length; i++) {
            first[i] = i;
        }
        digits = all.subset("mnist-1000", first);
        all.close();
        x = digits.images();
    }

    @AfterAll
    static void close() {
        digits.close();
    }

    static Sequential net() {
        return new Sequential("sae", List.of(new Dense("enc", 784, 64), new ActivationLayer("s1", Activation.SIGMOID),
                new Dense("dec", 64, 784), new ActivationLayer("s2", Activation.SIGMOID)))
                .penalize(1, new KlSparsity(0.1, 3))
                .build(new int[] {784}, 100, Kernels.current());
    }

    static float[] train(int epochs, Path checkpoint, boolean resume, History[] out) throws Exception {
        try (Sequential net = net(); Adam adam = Adam.of(net.slab(), 3e-3)) {
            net.init(11);
            Trainer.Config cfg = Trainer.Config.of(epochs, 100, 5);
            if (checkpoint != null) {
                cfg = cfg.withCheckpoint(checkpoint, resume);
            }
            History h = new Trainer(cfg, null).fit(net, Mse.halfSumPerSample(), adam, new WeightDecay(1e-4), x, x, null, null);
            if (out != null) {
                out[0] = h;
            }
            return net.slab().values().toArray();
        }
    }

    /**
     * {@code Config.onlyEpoch(e)} for e = 1 .. 3, one call each with the same network and optimizer (what a
     * data-parallel round does), continues one run: the parameters equal a 3-epoch run's bit for bit.
     * An epoch run out of place (epoch 1's shuffle again) would differ.
     */
    @Test
    void epochByEpochCallsContinueOneRun() throws Exception {
        float[] whole = train(3, null, false, null);
        try (Sequential net = net(); Adam adam = Adam.of(net.slab(), 3e-3)) {
            net.init(11);
            for (int e = 1; e <= 3; e++) {
                new Trainer(Trainer.Config.of(3, 100, 5).onlyEpoch(e), null)
                        .fit(net, Mse.halfSumPerSample(), adam, new WeightDecay(1e-4), x, x, null, null);
            }
            assertArrayEquals(whole, net.slab().values().toArray(), "three one-epoch calls vs one three-epoch run");
        }
        assertThrows(IllegalArgumentException.class, () -> new Trainer.Config(2, 100, 5, 0, null, null, false, 3));
    }

    @Test
    void lossFallsOnRealDigits() throws Exception {
        History[] h = new History[1];
        train(4, null, false, h);
        double first = h[0].epochs().getFirst().trainLoss();
        double last = h[0].last().trainLoss();
        // A 64-unit autoencoder at epoch 4 reconstructs digits far better than at epoch 1 (where the
        // mean loss includes the untrained start); requiring a 30% drop leaves room for noise yet
        // fails if gradients are wrong or the optimizer does not step.
        assertTrue(last < 0.7 * first, "training loss went from " + first + " to " + last);
    }

    @Test
    void sameSeedSameBits() throws Exception {
        assertArrayEquals(train(2, null, false, null), train(2, null, false, null), "two runs with the same seed differ");
    }

    @Test
    void resumeContinuesExactly(@TempDir Path dir) throws Exception {
        float[] straight = train(3, null, false, null);
        Path ckpt = dir.resolve("ckpt.safetensors");
        train(2, ckpt, false, null);
        assertTrue(Files.size(ckpt) > 0);
        History[] h = new History[1];
        float[] resumed = train(3, ckpt, true, h);
        assertEquals(1, h[0].epochs().size(), "the resumed run should only run epoch 3");
        assertEquals(3, h[0].last().epoch());
        assertArrayEquals(straight, resumed, "resuming from the epoch-2 checkpoint changed the result");
    }

    /**
     * Early stopping: with a learning rate of 1e-30 every Adam update is far below one float ulp, so
     * the weights and the validation loss stay exactly the same; epoch 1 improves on +infinity and the
     * next two do not, so patience 2 stops after epoch 3 of 10.
     */
    @Test
    void earlyStoppingAfterPatience(@TempDir Path dir) throws Exception {
        try (Sequential net = net(); Adam adam = new Adam(net.slab(), dev.latent.optim.LearningRate.constant(1e-30), 0.9, 0.999, 1e-8, 0)) {
            net.init(1);
            Path metrics = dir.resolve("metrics.jsonl");
            Trainer.Config cfg = Trainer.Config.of(10, 100, 5).withPatience(2).withMetrics(metrics);
            History h = new Trainer(cfg, null).fit(net, Mse.halfSumPerSample(), adam, null, x, x, x.rows(0, 200), x.rows(0, 200));
            assertTrue(h.stoppedEarly(), "did not stop early");
            assertEquals(3, h.epochs().size());
            assertEquals(3, Files.readAllLines(metrics).size(), "one metrics line per epoch");
            assertTrue(Files.readAllLines(metrics).get(0).contains("\"val_loss\""));
        }
    }
}
