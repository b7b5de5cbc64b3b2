package dev.latent.model.autoencoder;

import dev.latent.loss.WeightDecay;
import dev.latent.nn.NoiseLayer;
import dev.latent.nn.Sequential;
import dev.latent.optim.Adam;
import dev.latent.optim.LearningRate;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.EpochResult;
import dev.latent.train.History;
import dev.latent.train.Trainer;
import dev.latent.train.TrainingListener;
import java.io.IOException;

/**
 * What the autoencoder kinds (dense, conv, residual) do the same way with their built network: train
 * it to reconstruct its input (corrupting the input first when it starts with a {@link NoiseLayer}),
 * run it to the code layer or to the output batch by batch, and measure the reconstruction loss.
 * Rows are given in the network's per-sample input shape.
 */
final class AutoencoderNet implements AutoCloseable {

    private final Sequential net;
    private final int codeIndex;
    private final NoiseLayer noise;
    private final String loss;
    private final double weightDecay;

    /** {@code net} built; {@code codeIndex} the layer whose output is the code; noise null or net's first layer. */
    AutoencoderNet(Sequential net, int codeIndex, NoiseLayer noise, String loss, double weightDecay) {
        this.net = net;
        this.codeIndex = codeIndex;
        this.noise = noise;
        this.loss = loss;
        this.weightDecay = weightDecay;
    }

    Sequential network() {
        return net;
    }

    /**
     * Adam at learning rate {@code lr} on targets equal to the inputs. With a noise layer, the
     * corruption of epoch e is drawn from a generator seeded by (config seed, e), so a resumed run
     * corrupts exactly as an uninterrupted one.
     */
    History fit(Tensor x, Tensor validation, Trainer.Config config, double lr, TrainingListener listener) throws IOException {
        try (Adam adam = new Adam(net.slab(), LearningRate.constant(lr), 0.9, 0.999, 1e-8, 0)) {
            TrainingListener l = noise == null ? listener : reseedingPerEpoch(noise, config.seed(), listener);
            WeightDecay decay = weightDecay > 0 ? new WeightDecay(weightDecay) : null;
            return new Trainer(config, l).fit(net, Autoencoder.lossOf(loss), adam, decay, x, x, validation, validation);
        }
    }

    /** Writes the code-layer outputs of the rows of x, flattened, into codes (N, codeSize). */
    void encode(Tensor x, Tensor codes, int codeSize) {
        int n = x.dim(0);
        if (codes.rank() != 2 || codes.dim(0) != n || codes.dim(1) != codeSize) {
            throw new IllegalArgumentException("codes must have shape [" + n + ", " + codeSize + "], got " + Tensor.format(codes.shape()));
        }
        for (int from = 0; from < n; from += net.maxBatch()) {
            int size = Math.min(net.maxBatch(), n - from);
            codes.rows(from, from + size).copyFrom(net.forward(x.rows(from, from + size), false, codeIndex).reshape(size, codeSize));
        }
    }

    /** Writes the reconstructions of the rows of x into out (same shape). */
    void reconstruct(Tensor x, Tensor out) {
        if (out.dim(0) != x.dim(0)) {
            throw new IllegalArgumentException("reconstructions need " + x.dim(0) + " rows, got " + Tensor.format(out.shape()));
        }
        for (int from = 0; from < x.dim(0); from += net.maxBatch()) {
            int size = Math.min(net.maxBatch(), x.dim(0) - from);
            out.rows(from, from + size).copyFrom(net.forward(x.rows(from, from + size), false));
        }
    }

    /** Mean reconstruction loss (the training loss without penalties) over the rows of x. */
    double reconstructionLoss(Tensor x) {
        try (Workspace ws = new Workspace("eval")) {
            return Trainer.evaluate(net, Autoencoder.lossOf(loss), x, x, ws, net.maxBatch());
        }
    }

    /** A listener that reseeds {@code noise} from (seed, epoch) before every epoch, then forwards to {@code next}. */
    static TrainingListener reseedingPerEpoch(NoiseLayer noise, long seed, TrainingListener next) {
        TrainingListener to = next == null ? TrainingListener.NONE : next;
        return new TrainingListener() {
            @Override
            public void onStart(int firstEpoch, int epochs, int batchesPerEpoch, int samplesPerEpoch) {
                noise.reseed(epochSeed(seed, firstEpoch));
                to.onStart(firstEpoch, epochs, batchesPerEpoch, samplesPerEpoch);
            }

            @Override
            public void onBatch(int epoch, int batch, double meanLoss, double samplesPerSecond) {
                to.onBatch(epoch, batch, meanLoss, samplesPerSecond);
            }

            @Override
            public void onEpoch(EpochResult result) {
                noise.reseed(epochSeed(seed, result.epoch() + 1));
                to.onEpoch(result);
            }

            @Override
            public void onEnd(History history) {
                to.onEnd(history);
            }
        };
    }

    /** The corruption seed of an epoch: the shuffle's (seed, epoch) mixing with a salt, so the two streams differ. */
    static long epochSeed(long seed, int epoch) {
        return (seed ^ 0x6A09E667F3BCC909L) * 0x9E3779B97F4A7C15L + epoch;
    }

    @Override
    public void close() {
        net.close();
    }
}
