package dev.latent.workload;

import dev.latent.kernel.Kernels;
import dev.latent.loss.Loss;
import dev.latent.nn.Sequential;
import dev.latent.optim.Adam;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.Trainer;
import java.util.SplittableRandom;

/**
 * A few training steps of each workload (W1, W2, W3) on seeded uniform [0, 1) inputs: what the launcher's
 * JDK AOT training run executes (so that the AOT cache holds the profiles of the kernels a real run calls
 * first, and the JIT compiles them at once in the next JVM), and what a program may run once before it
 * trains, to take the JIT's compilation out of its first epoch. The networks are built, stepped and
 * freed here: nothing is kept, and no later result depends on it.
 */
public final class WarmUp {

    private WarmUp() {
    }

    /** Runs {@code steps} Adam steps of {@code workload} on {@code kernels} (input = target, as in the benchmarks). */
    public static void train(Workload workload, Kernels kernels, int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        try (Sequential net = workload.build(kernels, 1);
             Adam adam = Adam.of(net.slab(), 1e-3);
             Workspace ws = new Workspace("warm-up")) {
            int[] in = workload.inputShape();
            int[] shape = new int[in.length + 1];
            shape[0] = workload.batch();
            System.arraycopy(in, 0, shape, 1, in.length);
            Tensor x = ws.allocate(shape);
            SplittableRandom rnd = new SplittableRandom(1);
            for (long i = 0; i < x.size(); i++) {
                x.set(i, (float) rnd.nextDouble());
            }
            Loss loss = workload.loss();
            for (int s = 0; s < steps; s++) {
                Trainer.step(net, loss, adam, workload.weightDecay(), x, x);
            }
        }
    }
}
