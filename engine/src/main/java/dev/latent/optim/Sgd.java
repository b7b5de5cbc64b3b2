package dev.latent.optim;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.nn.ParamSlab;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;

/**
 * Stochastic gradient descent with optional momentum mu (PyTorch's formulation):
 * v = mu v + g; plain: w -= lr v; Nesterov: w -= lr (g + mu v). With mu = 0 it is w -= lr g (the
 * seeds' {@code w <- w - alpha delta a}).
 */
public final class Sgd implements Optimizer {

    private final ParamSlab slab;
    private final LearningRate lr;
    private final float momentum;
    private final boolean nesterov;
    private final Workspace ws;
    private final Tensor velocity;
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
        MemorySegment ws0 = w.segment();
        MemorySegment gs = g.segment();
        MemorySegment vs = velocity.segment();
        long wo = w.offset();
        long go = g.offset();
        long n = w.size();
        for (long i = 0; i < n; i++) {
            float gi = gs.getAtIndex(JAVA_FLOAT, go + i);
            float update = gi;
            if (momentum != 0f) {
                float v = momentum * vs.getAtIndex(JAVA_FLOAT, i) + gi;
                vs.setAtIndex(JAVA_FLOAT, i, v);
                update = nesterov ? gi + momentum * v : v;
            }
            ws0.setAtIndex(JAVA_FLOAT, wo + i, ws0.getAtIndex(JAVA_FLOAT, wo + i) - rate * update);
        }
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
