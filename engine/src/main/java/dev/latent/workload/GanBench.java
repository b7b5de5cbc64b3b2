package dev.latent.workload;

import dev.latent.model.gan.Gan;
import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;

/**
 * Workload W4: one discriminator step plus one generator step of the default 28x28 DCGAN
 * ({@link Gan.Config#dcgan28()}) on a batch of 64, the work that bench/peers/gan_peers.py times in
 * PyTorch. Throughput is reported as samples/s = 64 x (D step + G step) pairs per second.
 */
public final class GanBench {

    public static final int BATCH = 64;

    /** Steps per second and the last losses (a check that the run stayed finite). */
    public record Result(double stepsPerSecond, double samplesPerSecond, int steps, double lastDLoss, double lastGLoss) {
    }

    private GanBench() {
    }

    /**
     * Warms up for max(0.5 s, seconds / 3), then times pairs of steps for at least {@code seconds}
     * and 3 pairs, on {@code real} images (at least 64 rows of 784 values in [0, 1]).
     */
    public static Result run(Kernels kernels, Tensor real01, double seconds) {
        Gan.Config c = Gan.Config.dcgan28().withMaxBatch(BATCH);
        try (Gan gan = new Gan(c, kernels).init(1); Workspace ws = new Workspace("w4")) {
            Tensor x = ws.allocate(BATCH, 1, 28, 28);
            for (long i = 0; i < x.size(); i++) {
                x.set(i, real01.get(i) * 2f - 1f);
            }
            double dLoss = 0;
            double gLoss = 0;
            long warmEnd = System.nanoTime() + (long) (Math.max(0.5, seconds / 3) * 1e9);
            do {
                dLoss = gan.discriminatorStep(x).loss();
                gLoss = gan.generatorStep(BATCH);
            } while (System.nanoTime() < warmEnd);
            int steps = 0;
            long t0 = System.nanoTime();
            long dt;
            do {
                dLoss = gan.discriminatorStep(x).loss();
                gLoss = gan.generatorStep(BATCH);
                steps++;
                dt = System.nanoTime() - t0;
            } while (dt < seconds * 1e9 || steps < 3);
            if (!Double.isFinite(dLoss) || !Double.isFinite(gLoss)) {
                throw new IllegalStateException("W4 diverged on " + kernels.name() + ": D loss " + dLoss + ", G loss " + gLoss);
            }
            double sps = steps / (dt * 1e-9);
            return new Result(sps, sps * BATCH, steps, dLoss, gLoss);
        }
    }
}
