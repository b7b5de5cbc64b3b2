package dev.latent.optim;

import dev.latent.kernel.Elementwise;
import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;

/**
 * Limited-memory BFGS for full-batch objectives, as UFLDL trains sparse autoencoders (minFunc):
 * the two-loop recursion over the last {@code memory} pairs (s, y) gives the direction
 * d = -H g, scaled initially by gamma = s.y / y.y; a backtracking line search enforces the Armijo
 * condition f(w + t d) &lt;= f(w) + c1 t g.d (c1 = 1e-4), halving t from 1. Pairs with s.y &lt;= 1e-10 |s||y|
 * are skipped (they would break positive definiteness). State (2 x memory x n floats plus 3 work
 * vectors) is allocated once; dot products accumulate in float through the kernels.
 *
 * <p>The parameters w and gradient g are the two runs of a model's ParamSlab; the objective evaluates
 * f(w) and writes g in place.
 */
public final class Lbfgs implements AutoCloseable {

    /** f(w) for the current parameters, writing the gradient. */
    @FunctionalInterface
    public interface Objective {
        double valueAndGradient();
    }

    /** Called after each iteration with the objective value; return false to stop. */
    @FunctionalInterface
    public interface Progress {
        boolean onIteration(int iteration, double value, double gradNorm);
    }

    private final Tensor w;
    private final Tensor g;
    private final int n;
    private final int memory;
    private final Elementwise ops;
    private final Workspace ws;
    private final Tensor s;
    private final Tensor y;
    private final Tensor d;
    private final Tensor wOld;
    private final Tensor gOld;
    private final double[] rho;
    private final double[] alpha;

    public Lbfgs(Tensor params, Tensor grads, int memory, Kernels kernels) {
        params.requireSameShape(grads);
        if (memory < 1) {
            throw new IllegalArgumentException("L-BFGS memory must be >= 1, got " + memory);
        }
        this.w = params;
        this.g = grads;
        this.n = (int) params.size();
        this.memory = memory;
        this.ops = kernels.elementwise();
        this.ws = new Workspace("lbfgs");
        this.s = ws.allocate(memory, n);
        this.y = ws.allocate(memory, n);
        this.d = ws.allocate(n);
        this.wOld = ws.allocate(n);
        this.gOld = ws.allocate(n);
        this.rho = new double[memory];
        this.alpha = new double[memory];
    }

    /**
     * Minimizes for at most {@code iterations} iterations or until |g| &lt; tolerance; returns the
     * final value. The parameters hold the best point found.
     */
    public double minimize(Objective f, int iterations, double tolerance, Progress progress) {
        double fx = f.valueAndGradient();
        int stored = 0;
        int head = 0;
        for (int it = 1; it <= iterations; it++) {
            double gnorm = Math.sqrt(dot(g, 0, g, 0));
            if (!Double.isFinite(fx) || gnorm < tolerance) {
                break;
            }
            // d = -H g by the two-loop recursion.
            copy(g, 0, d, 0);
            for (int i = 0; i < stored; i++) {
                int j = Math.floorMod(head - 1 - i, memory);
                alpha[j] = rho[j] * dot(s, (long) j * n, d, 0);
                ops.axpy(n, (float) -alpha[j], y.segment(), y.offset() + (long) j * n, d.segment(), d.offset());
            }
            if (stored > 0) {
                int last = Math.floorMod(head - 1, memory);
                double yy = dot(y, (long) last * n, y, (long) last * n);
                ops.scale(n, (float) (1 / (rho[last] * yy)), d.segment(), d.offset());
            } else {
                ops.scale(n, (float) (1 / Math.max(gnorm, 1e-12)), d.segment(), d.offset());
            }
            for (int i = stored - 1; i >= 0; i--) {
                int j = Math.floorMod(head - 1 - i, memory);
                double beta = rho[j] * dot(y, (long) j * n, d, 0);
                ops.axpy(n, (float) (alpha[j] - beta), s.segment(), s.offset() + (long) j * n, d.segment(), d.offset());
            }
            ops.scale(n, -1f, d.segment(), d.offset());
            double slope = dot(g, 0, d, 0);
            if (slope >= 0) {
                // Not a descent direction (numerical trouble): restart from steepest descent.
                copy(g, 0, d, 0);
                ops.scale(n, (float) (-1 / Math.max(gnorm, 1e-12)), d.segment(), d.offset());
                slope = dot(g, 0, d, 0);
                stored = 0;
            }
            copy(w, 0, wOld, 0);
            copy(g, 0, gOld, 0);
            double t = 1;
            double fNew = Double.NaN;
            for (int ls = 0; ls < 30; ls++) {
                copy(wOld, 0, w, 0);
                ops.axpy(n, (float) t, d.segment(), d.offset(), w.segment(), w.offset());
                fNew = f.valueAndGradient();
                if (Double.isFinite(fNew) && fNew <= fx + 1e-4 * t * slope) {
                    break;
                }
                t *= 0.5;
            }
            if (!(Double.isFinite(fNew) && fNew <= fx + 1e-4 * t * slope)) {
                // No acceptable step: keep the previous point (and its gradient) and stop.
                copy(wOld, 0, w, 0);
                copy(gOld, 0, g, 0);
                break;
            }
            // s = w - wOld, y = g - gOld into the ring buffer.
            long at = (long) head * n;
            copy(w, 0, s, at);
            ops.axpy(n, -1f, wOld.segment(), wOld.offset(), s.segment(), s.offset() + at);
            copy(g, 0, y, at);
            ops.axpy(n, -1f, gOld.segment(), gOld.offset(), y.segment(), y.offset() + at);
            double sy = dot(s, at, y, at);
            double ss = dot(s, at, s, at);
            double yy = dot(y, at, y, at);
            if (sy > 1e-10 * Math.sqrt(ss * yy)) {
                rho[head] = 1 / sy;
                head = (head + 1) % memory;
                stored = Math.min(stored + 1, memory);
            }
            fx = fNew;
            if (progress != null && !progress.onIteration(it, fx, Math.sqrt(dot(g, 0, g, 0)))) {
                break;
            }
        }
        return fx;
    }

    private double dot(Tensor a, long aAt, Tensor b, long bAt) {
        MemorySegment as = a.segment();
        MemorySegment bs = b.segment();
        return ops.dot(n, as, a.offset() + aAt, bs, b.offset() + bAt);
    }

    private void copy(Tensor src, long srcAt, Tensor dst, long dstAt) {
        ops.copy(n, src.segment(), src.offset() + srcAt, dst.segment(), dst.offset() + dstAt);
    }

    @Override
    public void close() {
        ws.close();
    }
}
