package dev.latent.workload;

import dev.latent.kernel.Kernels;
import dev.latent.model.gan.Gan;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;

/**
 * Workload W4: one discriminator step plus one generator step of the default 28x28 DCGAN
 * ({@link Gan.Config#dcgan28()}) on a batch of {@value #BATCH} real images, the work that
 * bench/peers/gan_peers.py does in PyTorch. Throughput is reported as samples/s = 64 x (D step + G
 * step) pairs per second. This class defines the work only; the benchmarks time it (bench module).
 */
public final class GanWorkload implements AutoCloseable {

    public static final int BATCH = 64;
    /** Seed of the networks' initial weights and of the generator's noise. */
    public static final long SEED = 1;

    private final Gan gan;
    private final Workspace ws = new Workspace("w4");
    private final Tensor real;
    private double dLoss = Double.NaN;
    private double gLoss = Double.NaN;

    /** The DCGAN on {@code kernels}, with the first 64 rows of {@code real01} (784 values in [0, 1]) as its real batch. */
    public GanWorkload(Kernels kernels, Tensor real01) {
        this.gan = new Gan(Gan.Config.dcgan28().withMaxBatch(BATCH), kernels).init(SEED);
        this.real = ws.allocate(BATCH, 1, 28, 28);
        for (long i = 0; i < real.size(); i++) {
            real.set(i, real01.get(i) * 2f - 1f); // the generator's tanh range
        }
    }

    /** One D step on the real batch, then one G step on fresh noise. */
    public void step() {
        dLoss = gan.discriminatorStep(real).loss();
        gLoss = gan.generatorStep(BATCH);
    }

    /** The losses of the last {@link #step}, NaN before the first. */
    public double discriminatorLoss() {
        return dLoss;
    }

    public double generatorLoss() {
        return gLoss;
    }

    @Override
    public void close() {
        ws.close();
        gan.close();
    }
}
