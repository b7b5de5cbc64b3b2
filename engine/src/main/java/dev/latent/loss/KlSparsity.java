package dev.latent.loss;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Kernels;
import dev.latent.nn.ActivityPenalty;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;

/**
 * KL-divergence sparsity (UFLDL's sparse autoencoder) on activations a (B, m) in (0, 1), e.g. sigmoid:
 * with the mean activation rho_hat_j = (1/B) sum_b a_bj,
 * {@code P = beta * sum_j [rho log(rho / rho_hat_j) + (1 - rho) log((1 - rho) / (1 - rho_hat_j))]} and
 * {@code dP/da_bj = (beta / B) (-rho / rho_hat_j + (1 - rho) / (1 - rho_hat_j))}. rho_hat is clamped
 * into [1e-7, 1 - 1e-7] so saturated units give a large finite gradient, not infinity.
 */
public final class KlSparsity implements ActivityPenalty {

    private static final double CLAMP = 1e-7;

    private final double rho;
    private final double beta;
    private Kernels k;
    private Tensor rhoHat;
    private int units;

    public KlSparsity(double rho, double beta) {
        if (!(rho > 0 && rho < 1)) {
            throw new IllegalArgumentException("KL sparsity target rho must be in (0, 1), got " + rho);
        }
        if (!(beta >= 0) || Double.isInfinite(beta)) {
            throw new IllegalArgumentException("KL sparsity weight beta must be finite and >= 0, got " + beta);
        }
        this.rho = rho;
        this.beta = beta;
    }

    public double rho() {
        return rho;
    }

    public double beta() {
        return beta;
    }

    @Override
    public void build(int[] sampleShape, int maxBatch, Kernels kernels, Workspace scratch) {
        this.units = (int) Tensor.sizeOf(sampleShape);
        this.k = kernels;
        this.rhoHat = scratch.allocate(units);
    }

    private void meanActivation(Tensor a) {
        int b = a.dim(0);
        k.reductions().colSums(b, units, a.segment(), a.offset(), units, 0f, rhoHat.segment(), rhoHat.offset());
        k.elementwise().scale(units, 1f / b, rhoHat.segment(), rhoHat.offset());
    }

    @Override
    public double value(Tensor a) {
        meanActivation(a);
        double sum = 0;
        MemorySegment rs = rhoHat.segment();
        for (int j = 0; j < units; j++) {
            double r = clamp(rs.getAtIndex(JAVA_FLOAT, rhoHat.offset() + j));
            sum += rho * Math.log(rho / r) + (1 - rho) * Math.log((1 - rho) / (1 - r));
        }
        return beta * sum;
    }

    @Override
    public double addGradient(Tensor a, Tensor da) {
        double v = value(a);
        int b = a.dim(0);
        MemorySegment rs = rhoHat.segment();
        // Reuse rhoHat to hold the per-unit gradient term, then broadcast-add it to every row of da.
        for (int j = 0; j < units; j++) {
            double r = clamp(rs.getAtIndex(JAVA_FLOAT, rhoHat.offset() + j));
            rs.setAtIndex(JAVA_FLOAT, rhoHat.offset() + j, (float) (beta / b * (-rho / r + (1 - rho) / (1 - r))));
        }
        k.elementwise().addBias(b, units, rs, rhoHat.offset(), da.segment(), da.offset(), units);
        return v;
    }

    private static double clamp(double r) {
        return Math.min(Math.max(r, CLAMP), 1 - CLAMP);
    }

    @Override
    public String toString() {
        return "kl-sparsity(rho=" + rho + ", beta=" + beta + ")";
    }
}
