package dev.latent.loss;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Kernels;
import dev.latent.nn.ActivityPenalty;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;

/**
 * L1 activity sparsity, seed 003's {@code beta * sum_i a_i} (for non-negative activations such as
 * sigmoid or ReLU; |a_i| in general), averaged over the batch: P = (beta / B) sum_b sum_i |a_bi|,
 * dP/da_bi = (beta / B) sign(a_bi) (0 at 0). With a = f(z) this adds beta to the back-propagated
 * sum, which is exactly the seed's {@code delta_i = f'(z_i) (sum_j w_ji delta_j + beta)}.
 */
public final class L1Activity implements ActivityPenalty {

    private final double beta;

    public L1Activity(double beta) {
        if (!(beta >= 0) || Double.isInfinite(beta)) {
            throw new IllegalArgumentException("L1 activity weight beta must be finite and >= 0, got " + beta);
        }
        this.beta = beta;
    }

    public double beta() {
        return beta;
    }

    @Override
    public void build(int[] sampleShape, int maxBatch, Kernels kernels, Workspace scratch) {
        // no scratch needed
    }

    @Override
    public double value(Tensor a) {
        MemorySegment s = a.segment();
        double sum = 0;
        for (long i = 0; i < a.size(); i++) {
            sum += Math.abs(s.getAtIndex(JAVA_FLOAT, a.offset() + i));
        }
        return beta * sum / a.dim(0);
    }

    @Override
    public double addGradient(Tensor a, Tensor da) {
        MemorySegment s = a.segment();
        MemorySegment d = da.segment();
        float g = (float) (beta / a.dim(0));
        double sum = 0;
        for (long i = 0; i < a.size(); i++) {
            float v = s.getAtIndex(JAVA_FLOAT, a.offset() + i);
            sum += Math.abs(v);
            long di = da.offset() + i;
            d.setAtIndex(JAVA_FLOAT, di, d.getAtIndex(JAVA_FLOAT, di) + g * Math.signum(v));
        }
        return beta * sum / a.dim(0);
    }

    @Override
    public String toString() {
        return "l1-activity(beta=" + beta + ")";
    }
}
