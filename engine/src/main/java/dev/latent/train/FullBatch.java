package dev.latent.train;

import dev.latent.loss.Loss;
import dev.latent.loss.WeightDecay;
import dev.latent.nn.Sequential;
import dev.latent.optim.Lbfgs;
import dev.latent.tensor.Tensor;

/**
 * Full-batch training with L-BFGS, as UFLDL trains its sparse autoencoders and softmax layers
 * (minFunc, a fixed number of iterations): every evaluation of the objective is one forward and
 * backward pass over all rows at once, so activity penalties such as KL sparsity see the mean
 * activation of the whole data set, exactly as in the seeds' formulas. The network must have been
 * built with {@code maxBatch >= rows}.
 */
public final class FullBatch {

    private FullBatch() {
    }

    /**
     * Minimizes loss(net(x), y) + activity penalties + weight decay over the network's parameters
     * for at most {@code iterations} L-BFGS iterations (memory 20, as minFunc's default is 100 but
     * 20 already saturates here); returns the final objective. {@code progress} may be null.
     */
    public static double lbfgs(Sequential net, Loss loss, WeightDecay decay, Tensor x, Tensor y, int iterations,
                               Lbfgs.Progress progress) {
        int n = x.dim(0);
        if (y.dim(0) != n) {
            throw new IllegalArgumentException("inputs have " + n + " rows but targets have " + y.dim(0));
        }
        if (n > net.maxBatch()) {
            throw new IllegalArgumentException("full-batch training of " + n + " rows needs a network built for a batch of "
                    + n + ", but " + net.name() + " was built for " + net.maxBatch());
        }
        try (Lbfgs opt = new Lbfgs(net.slab().values(), net.slab().grads(), 20, net.kernels())) {
            return opt.minimize(() -> Trainer.objective(net, loss, decay, x, y), iterations, 1e-9, progress);
        }
    }
}
