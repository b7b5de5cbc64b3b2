package dev.latent.optim;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.nn.Param;
import dev.latent.nn.ParamSlab;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Adam (Kingma & Ba) and AdamW (Loshchilov & Hutter): with g the gradient, t counted from 1,
 * m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
 * AdamW (decoupled decay wd &gt; 0) first applies w -= lr wd w to parameters marked for decay.
 * State: m and v, 2 floats per parameter, allocated once.
 */
public final class Adam implements Optimizer {

    private final ParamSlab slab;
    private final LearningRate lr;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double decoupledDecay;
    private final Workspace ws;
    private final Tensor moments;
    private long t;

    public Adam(ParamSlab slab, LearningRate lr, double beta1, double beta2, double eps, double decoupledDecay) {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("Adam betas must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (!(eps > 0) || !(decoupledDecay >= 0)) {
            throw new IllegalArgumentException("Adam needs eps > 0 and weight decay >= 0, got " + eps + ", " + decoupledDecay);
        }
        this.slab = slab;
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.decoupledDecay = decoupledDecay;
        this.ws = new Workspace("adam");
        this.moments = ws.allocate(2, (int) slab.total());
    }

    /** Adam with the usual defaults b1 = 0.9, b2 = 0.999, eps = 1e-8. */
    public static Adam of(ParamSlab slab, double lr) {
        return new Adam(slab, LearningRate.constant(lr), 0.9, 0.999, 1e-8, 0);
    }

    @Override
    public void step() {
        double rate = lr.at(t);
        t++;
        if (decoupledDecay > 0) {
            float shrink = (float) (1 - rate * decoupledDecay);
            List<Param> params = slab.params();
            for (int i = 0; i < params.size(); i++) {
                Param p = params.get(i);
                if (p.decay()) {
                    Tensor w = p.value();
                    MemorySegment s = w.segment();
                    for (long j = 0; j < w.size(); j++) {
                        s.setAtIndex(JAVA_FLOAT, w.offset() + j, shrink * s.getAtIndex(JAVA_FLOAT, w.offset() + j));
                    }
                }
            }
        }
        float b1 = (float) beta1;
        float b2 = (float) beta2;
        float c1 = (float) (1 - beta1);
        float c2 = (float) (1 - beta2);
        // Fold both bias corrections into the step size and eps: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t).
        float stepSize = (float) (rate * Math.sqrt(1 - Math.pow(beta2, t)) / (1 - Math.pow(beta1, t)));
        float epsHat = (float) (eps * Math.sqrt(1 - Math.pow(beta2, t)));
        Tensor w = slab.values();
        Tensor g = slab.grads();
        MemorySegment ws0 = w.segment();
        MemorySegment gs = g.segment();
        MemorySegment ms = moments.segment();
        long n = w.size();
        long wo = w.offset();
        long go = g.offset();
        for (long i = 0; i < n; i++) {
            float gi = gs.getAtIndex(JAVA_FLOAT, go + i);
            float m = b1 * ms.getAtIndex(JAVA_FLOAT, i) + c1 * gi;
            float v = b2 * ms.getAtIndex(JAVA_FLOAT, n + i) + c2 * gi * gi;
            ms.setAtIndex(JAVA_FLOAT, i, m);
            ms.setAtIndex(JAVA_FLOAT, n + i, v);
            ws0.setAtIndex(JAVA_FLOAT, wo + i, ws0.getAtIndex(JAVA_FLOAT, wo + i) - stepSize * m / ((float) Math.sqrt(v) + epsHat));
        }
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
        return moments;
    }

    @Override
    public void close() {
        ws.close();
    }
}
