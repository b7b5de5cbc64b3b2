package dev.latent.experiment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.data.Dataset;
import dev.latent.kernel.Kernels;
import dev.latent.model.rbm.DeepBelief;
import dev.latent.nn.Dense;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Deep belief pretraining ({@link DeepBelief}) and the deep autoencoder it starts
 * ({@link PublishedAnchors#deepBelief}), on the embedded digits with small budgets (seed 1):
 * <ul>
 *   <li>CD-1 lowers every layer's reconstruction error from its first epoch to its last; the linear
 *       top layer's codes leave (0, 1) (they are not logistic);</li>
 *   <li>unrolling copies W into the encoder and W^T into the decoder, with the hidden and the visible
 *       biases, exactly; the same seed gives the same bits;</li>
 *   <li>the paper's point on a small stack (784-256-64-16, 2,000 training and 500 test digits, 5 RBM
 *       epochs a layer, 5 fine-tuning epochs): the RBM-pretrained autoencoder's squared error per test
 *       image is below 0.8 of the same network fine-tuned from random weights (which stays near the
 *       mean image; measured at writing: 32.9 against 52.9, openblas kernels, about 5 minutes on the
 *       loaded 2 cores).</li>
 * </ul>
 */
class DeepBeliefTest {

    @Test
    void layersLearnUnrollExactlyAndRepeat() {
        Kernels k = Kernels.current();
        try (Dataset all = Dataset.embeddedMnist(); Workspace ws = new Workspace("dbn-test")) {
            Tensor x = all.images().rows(0, 1000);
            DeepBelief.Settings s = DeepBelief.Settings.hinton().withEpochs(4);
            int[] hidden = {64, 20, 6};
            try (DeepBelief a = DeepBelief.pretrain(x, hidden, true, s, k, DeepBelief.Listener.NONE);
                 DeepBelief b = DeepBelief.pretrain(x, hidden, true, s, k, DeepBelief.Listener.NONE)) {
                for (int i = 0; i < hidden.length; i++) {
                    double[] e = a.reconstructionErrors(i);
                    assertTrue(e[e.length - 1] < e[0], "layer " + i + " reconstruction error did not fall: " + java.util.Arrays.toString(e));
                    assertArrayEquals(a.layers().get(i).weight().toArray(), b.layers().get(i).weight().toArray(), "layer " + i);
                }
                // codes of the linear top layer: through the two logistic layers, then linear
                List<DeepBelief.Layer> ls = a.layers();
                Tensor h1 = ws.allocate(1000, 64);
                Tensor h2 = ws.allocate(1000, 20);
                Tensor code = ws.allocate(1000, 6);
                DeepBelief.hiddenMeans(ls.get(0), x, h1, k);
                DeepBelief.hiddenMeans(ls.get(1), h1, h2, k);
                DeepBelief.hiddenMeans(ls.get(2), h2, code, k);
                float min = Float.MAX_VALUE;
                float max = -Float.MAX_VALUE;
                for (float v : code.toArray()) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
                assertTrue(min < 0 || max > 1, "linear codes stay in (0,1): [" + min + ", " + max + "]");
                for (float v : h1.toArray()) {
                    assertTrue(v >= 0 && v <= 1, "logistic hidden mean " + v);
                }
                try (var net = new dev.latent.nn.Sequential("unrolled", List.of(new Dense("e0", 784, 64), new Dense("e1", 64, 20),
                        new Dense("e2", 20, 6), new Dense("d2", 6, 20), new Dense("d1", 20, 64), new Dense("d0", 64, 784)))
                        .build(new int[] {784}, 1, k)) {
                    List<Dense> d = net.layers().stream().map(l -> (Dense) l).toList();
                    a.unroll(d.subList(0, 3), List.of(d.get(5), d.get(4), d.get(3)));
                    for (int i = 0; i < 3; i++) {
                        DeepBelief.Layer l = ls.get(i);
                        assertArrayEquals(l.weight().toArray(), d.get(i).weight().value().toArray());
                        assertArrayEquals(l.hiddenBias().toArray(), d.get(i).bias().value().toArray());
                        Dense dec = d.get(5 - i);
                        assertArrayEquals(l.visibleBias().toArray(), dec.bias().value().toArray());
                        for (int r = 0; r < l.hidden(); r++) {
                            for (int c = 0; c < l.visible(); c++) {
                                assertEquals(l.weight().get(r, c), dec.weight().value().get(c, r), 0f);
                            }
                        }
                    }
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> a.unroll(d.subList(0, 2), d.subList(3, 5)));
                    assertTrue(e.getMessage().contains("expected"), e.getMessage());
                }
            }
        }
    }

    @Test
    void rbmPretrainingBeatsARandomStart() {
        Kernels k = Kernels.current();
        try (Dataset all = Dataset.embeddedMnist();
             Dataset train = all.subset("train", IntStream.range(0, 2000).toArray());
             Dataset test = all.subset("test", IntStream.range(8000, 8500).toArray())) {
            PublishedAnchors.DeepSettings s = new PublishedAnchors.DeepSettings(new int[] {256, 64, 16}, 5, 5, 1e-3, 100, 1);
            double dbn;
            double random;
            try (PublishedAnchors.Deep r = PublishedAnchors.deepBelief(train, test, s, DeepBelief.Settings.hinton().withEpochs(5), k,
                    PublishedAnchors.Reporter.QUIET, false)) {
                dbn = r.autoencoderError();
            }
            try (PublishedAnchors.Deep r = PublishedAnchors.deep(train, test, s.withEpochs(0, 5), k, PublishedAnchors.Reporter.QUIET)) {
                random = r.autoencoderError();
            }
            System.out.printf("deep belief test: RBM-pretrained %.2f, random start %.2f%n", dbn, random);
            assertTrue(dbn < 0.8 * random, String.format("RBM-pretrained %.2f vs random start %.2f", dbn, random));
        }
    }
}
