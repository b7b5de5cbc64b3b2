package dev.latent.optim;

import dev.latent.kernel.Elementwise;
import dev.latent.kernel.Kernels;
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
 * State: m and v, 2 floats per parameter, allocated once. The update is {@link Elementwise#adam}, which
 * gives the same bits on every kernel provider.
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
    private final Elementwise ops = Kernels.current().elementwise();
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
                    ops.scale((int) w.size(), shrink, w.segment(), w.offset());
                }
            }
        }
        // Fold both bias corrections into the step size and eps: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t).
        float stepSize = (float) (rate * Math.sqrt(1 - Math.pow(beta2, t)) / (1 - Math.pow(beta1, t)));
        float epsHat = (float) (eps * Math.sqrt(1 - Math.pow(beta2, t)));
        Tensor w = slab.values();
        Tensor g = slab.grads();
        int n = (int) w.size();
        MemorySegment ms = moments.segment();
        ops.adam(n, (float) beta1, (float) (1 - beta1), (float) beta2, (float) (1 - beta2), stepSize, epsHat,
                w.segment(), w.offset(), g.segment(), g.offset(), ms, moments.offset(), ms, moments.offset() + n);
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
