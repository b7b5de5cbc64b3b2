package dev.latent.loss;

import dev.latent.kernel.Kernels;
import dev.latent.nn.Param;
import dev.latent.tensor.Tensor;
import java.util.List;

/**
 * L2 weight decay on the parameters marked {@link Param#decay()} (weights, not biases):
 * P = (lambda / 2) sum w^2, dP/dw = lambda w (UFLDL's weight decay term).
 */
public final class WeightDecay {

    private final double lambda;

    public WeightDecay(double lambda) {
        if (!(lambda >= 0) || Double.isInfinite(lambda)) {
            throw new IllegalArgumentException("weight decay lambda must be finite and >= 0, got " + lambda);
        }
        this.lambda = lambda;
    }

    public double lambda() {
        return lambda;
    }

    /** Adds lambda * w into each decayed parameter's gradient and returns the penalty. */
    public double addGradient(Kernels k, List<Param> params) {
        if (lambda == 0) {
            return 0;
        }
        double sum = 0;
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            if (!p.decay()) {
                continue;
            }
            Tensor w = p.value();
            Tensor g = p.grad();
            int n = (int) w.size();
            sum += k.elementwise().dot(n, w.segment(), w.offset(), w.segment(), w.offset());
            k.elementwise().axpy(n, (float) lambda, w.segment(), w.offset(), g.segment(), g.offset());
        }
        return 0.5 * lambda * sum;
    }

    /** The penalty (lambda / 2) sum w^2 over decayed parameters. */
    public double value(Kernels k, List<Param> params) {
        double sum = 0;
        for (Param p : params) {
            if (p.decay()) {
                Tensor w = p.value();
                sum += k.elementwise().dot((int) w.size(), w.segment(), w.offset(), w.segment(), w.offset());
            }
        }
        return 0.5 * lambda * sum;
    }
}
