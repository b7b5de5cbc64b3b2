package dev.latent.optim;

import dev.latent.kernel.Elementwise;
import dev.latent.kernel.Kernels;
import dev.latent.nn.ParamSlab;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;

/**
 * Stochastic gradient descent with optional momentum mu (PyTorch's formulation):
 * v = mu v + g; plain: w -= lr v; Nesterov: w -= lr (g + mu v). With mu = 0 it is w -= lr g (the
 * seeds' {@code w <- w - alpha delta a}). The update is {@link Elementwise#sgd} (the same bits on every
 * kernel provider).
 */
public final class Sgd implements Optimizer {

    private final ParamSlab slab;
    private final LearningRate lr;
    private final float momentum;
    private final boolean nesterov;
    private final Workspace ws;
    private final Tensor velocity;
    private final Elementwise ops = Kernels.current().elementwise();
    private long t;

    public Sgd(ParamSlab slab, LearningRate lr, double momentum, boolean nesterov) {
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("SGD momentum must be in [0, 1), got " + momentum);
        }
        if (nesterov && momentum == 0) {
            throw new IllegalArgumentException("Nesterov SGD needs momentum > 0");
        }
        this.slab = slab;
        this.lr = lr;
        this.momentum = (float) momentum;
        this.nesterov = nesterov;
        this.ws = new Workspace("sgd");
        this.velocity = ws.allocate((int) slab.total());
    }

    @Override
    public void step() {
        float rate = (float) lr.at(t);
        Tensor w = slab.values();
        Tensor g = slab.grads();
        ops.sgd((int) w.size(), rate, momentum, nesterov, w.segment(), w.offset(), g.segment(), g.offset(),
                velocity.segment(), velocity.offset());
        t++;
    }

    @Override
    public long steps() {
        return t;
    }

    @Override
    public void setSteps(long steps) {
        this.t = steps;
    }

    @Override
    public Tensor state() {
        return velocity;
    }

    @Override
    public void close() {
        ws.close();
    }
}
