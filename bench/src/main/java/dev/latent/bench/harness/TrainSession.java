package dev.latent.bench.harness;

import dev.latent.data.Dataset;
import dev.latent.kernel.Kernels;
import dev.latent.loss.Loss;
import dev.latent.loss.WeightDecay;
import dev.latent.nn.Sequential;
import dev.latent.optim.Adam;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.Trainer;
import dev.latent.workload.Workload;

/**
 * A training workload W1-W3 ready to step, as the JMH benchmark and {@code latent bench train} time it:
 * the network initialised from seed 1, Adam (lr 1e-3), and one batch of the embedded MNIST digits as
 * input and target, reused every step (the step's cost does not depend on the values).
 */
public final class TrainSession implements AutoCloseable {

    private final Workload workload;
    private final Sequential net;
    private final Adam adam;
    private final Workspace ws = new Workspace("bench-train");
    private final Tensor x;
    private final Loss loss;
    private final WeightDecay decay;

    public TrainSession(Workload workload, Kernels kernels, Dataset digits) {
        this.workload = workload;
        this.net = workload.build(kernels, 1);
        this.adam = Adam.of(net.slab(), 1e-3);
        int[] in = workload.inputShape();
        int[] shape = new int[in.length + 1];
        shape[0] = workload.batch();
        System.arraycopy(in, 0, shape, 1, in.length);
        this.x = ws.allocate(shape);
        x.reshape(workload.batch(), 784).copyFrom(digits.images().rows(0, workload.batch()));
        this.loss = workload.loss();
        this.decay = workload.weightDecay();
    }

    /** One training step; returns the objective before the update. */
    public double step() {
        return Trainer.step(net, loss, adam, decay, x, x);
    }

    /**
     * The result check run before timing: 5 steps on the one batch must keep the objective finite and
     * lower it, so a provider that computes garbage fast cannot post a time.
     *
     * @throws IllegalStateException naming the workload, provider and objectives
     */
    public void requireLearning(String provider) {
        double first = step();
        double last = first;
        for (int i = 0; i < 4; i++) {
            last = step();
        }
        if (!Double.isFinite(last) || !(last < first)) {
            throw new IllegalStateException("WRONG TRAINING STEP, refusing to benchmark " + provider + " " + workload
                    + ": the objective went from " + first + " to " + last + " in 5 steps on one batch");
        }
    }

    @Override
    public void close() {
        adam.close();
        net.close();
        ws.close();
    }
}
