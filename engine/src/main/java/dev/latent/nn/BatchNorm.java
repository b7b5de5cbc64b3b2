package dev.latent.nn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.KernelPool;
import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Batch normalization over every axis but the channel axis (PyTorch's {@code BatchNorm1d} on (B, C)
 * or (B, C, L), {@code BatchNorm2d} on (B, C, H, W)). x (B, C, S...) with S the product of the
 * spatial sizes (1 for 1-d), gamma (C), beta (C), y of x's shape; N = B*S values per channel:
 * <pre>
 * training:  mu_c = mean x[., c, .],  var_c = mean (x - mu_c)^2 (biased),  r_c = 1 / sqrt(var_c + eps)
 *            y = gamma_c (x - mu_c) r_c + beta_c
 *            runningMean = (1 - m) runningMean + m mu_c
 *            runningVar  = (1 - m) runningVar  + m var_c N / (N - 1)   (unbiased, PyTorch's convention)
 * inference: the same y with mu_c, var_c replaced by runningMean, runningVar
 * </pre>
 * Backward (training), with xhat = (x - mu) r: dbeta_c += sum dy, dgamma_c += sum dy xhat,
 * dx = (gamma_c r_c / N) (N dy - sum dy - xhat sum dy xhat). After an inference forward, backward is
 * that of the affine map: dx = gamma_c r_c dy (r_c from the running variance), same dgamma, dbeta.
 * Backward uses the mode and statistics of the last forward, which must be of the same batch.
 *
 * <p>Statistics and the normalization are computed in double per channel (two passes: mean, then
 * squared deviations), results rounded once to float. Training needs N &ge; 2 (as PyTorch).
 * Running statistics live in scratch (not in the parameter slab: they are not learned and no
 * optimizer must touch them); {@link #runningMean()} and {@link #runningVar()} expose them so a model
 * file can save and restore them. They start at mean 0, variance 1. gamma and beta are not decayed.
 */
public final class BatchNorm implements Layer {

    /** PyTorch's defaults. */
    public static final double DEFAULT_MOMENTUM = 0.1;
    public static final double DEFAULT_EPS = 1e-5;

    private static final int FORWARD = 0;
    private static final int BACKWARD = 1;

    private final String name;
    private final int channels;
    private final double momentum;
    private final double eps;
    private int maxBatch;
    private int[] sample;
    private int spatial;
    private Param gamma;
    private Param beta;
    private Tensor runningMean;
    private Tensor runningVar;
    private double[] mean;
    private double[] invStd;
    private boolean lastTraining;
    private int forwardBatch = -1;
    private Kernels kernels;
    private final KernelPool.Task forwardTask = this::forwardChannel;
    private final KernelPool.Task backwardTask = this::backwardChannel;
    // The call being run by the channel tasks (set before, cleared after).
    private Tensor fx;
    private Tensor fy;
    private boolean fTraining;
    private int fBatch;
    private Tensor bx;
    private Tensor bdy;
    private Tensor bdx;
    private int bBatch;

    public BatchNorm(String name, int channels, double momentum, double eps) {
        if (channels < 1 || !(momentum >= 0 && momentum <= 1) || !(eps > 0)) {
            throw new IllegalArgumentException(name + ": need channels >= 1, momentum in [0, 1], eps > 0, got channels="
                    + channels + " momentum=" + momentum + " eps=" + eps);
        }
        this.name = name;
        this.channels = channels;
        this.momentum = momentum;
        this.eps = eps;
    }

    /** Momentum 0.1 and eps 1e-5 (PyTorch's defaults). */
    public BatchNorm(String name, int channels) {
        this(name, channels, DEFAULT_MOMENTUM, DEFAULT_EPS);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        boolean ok = inputShape.length >= 1 && inputShape[0] == channels;
        for (int i = 1; ok && i < inputShape.length; i++) {
            ok = inputShape[i] >= 1;
        }
        if (!ok) {
            throw new IllegalArgumentException(name + ": expects per-sample input [" + channels + "] or [" + channels
                    + ", H, W] but got " + Tensor.format(inputShape));
        }
        return inputShape.clone();
    }

    @Override
    public long paramCount(int[] inputShape) {
        return 2L * channels;
    }

    @Override
    public void build(int[] inputShape, int maxBatch, Kernels kernels, ParamSlab slab, Workspace scratch) {
        this.sample = outputShape(inputShape);
        this.spatial = (int) (Tensor.sizeOf(inputShape) / channels);
        this.maxBatch = maxBatch;
        this.kernels = kernels;
        this.gamma = slab.take(name + ".gamma", false, channels);
        this.beta = slab.take(name + ".beta", false, channels);
        this.runningMean = scratch.allocate(channels);
        this.runningVar = scratch.allocate(channels);
        this.mean = new double[channels];
        this.invStd = new double[channels];
        resetRunningStats();
    }

    /** gamma = 1, beta = 0, running statistics reset (mean 0, variance 1). */
    @Override
    public void init(SplittableRandom rnd) {
        gamma.value().fill(1f);
        beta.value().fill(0f);
        resetRunningStats();
    }

    /** Running mean 0 and variance 1, as a fresh PyTorch module. */
    public void resetRunningStats() {
        runningMean.fill(0f);
        runningVar.fill(1f);
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        Layer.requireBatch(name, "input", x, sample, maxBatch);
        int b = x.dim(0);
        Batches.requireExact(name, "output", y, sample, b);
        long n = (long) b * spatial;
        if (training && n < 2) {
            throw new IllegalArgumentException(name + ": training needs more than one value per channel, got input "
                    + Tensor.format(x.shape()));
        }
        fx = x;
        fy = y;
        fTraining = training;
        fBatch = b;
        run(FORWARD, x, y, y);
        lastTraining = training;
        forwardBatch = b;
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        Layer.requireBatch(name, "input", x, sample, maxBatch);
        int b = x.dim(0);
        Batches.requireExact(name, "output gradient", dy, sample, b);
        if (dx != null) {
            Batches.requireExact(name, "input gradient", dx, sample, b);
        }
        if (b != forwardBatch) {
            throw new IllegalStateException(name + ": backward for a batch of " + b + " after a forward of " + forwardBatch);
        }
        bx = x;
        bdy = dy;
        bdx = dx;
        bBatch = b;
        run(BACKWARD, x, dy, dx == null ? dy : dx);
    }

    /** Forward of channel c for the batch in fx, fy (training: statistics from the batch). */
    private void forwardChannel(int c) {
        Tensor x = fx;
        Tensor y = fy;
        boolean training = fTraining;
        int b = fBatch;
        long n = (long) b * spatial;
        MemorySegment xs = x.segment();
        MemorySegment ys = y.segment();
        MemorySegment g = gamma.value().segment();
        MemorySegment be = beta.value().segment();
        MemorySegment rm = runningMean.segment();
        MemorySegment rv = runningVar.segment();
        double mu;
        double var;
        if (training) {
            double sum = 0;
            for (int s = 0; s < b; s++) {
                long base = x.offset() + ((long) s * channels + c) * spatial;
                for (int i = 0; i < spatial; i++) {
                    sum += xs.getAtIndex(JAVA_FLOAT, base + i);
                }
            }
            mu = sum / n;
            double sq = 0;
            for (int s = 0; s < b; s++) {
                long base = x.offset() + ((long) s * channels + c) * spatial;
                for (int i = 0; i < spatial; i++) {
                    double d = xs.getAtIndex(JAVA_FLOAT, base + i) - mu;
                    sq += d * d;
                }
            }
            var = sq / n;
            long rmi = runningMean.offset() + c;
            long rvi = runningVar.offset() + c;
            rm.setAtIndex(JAVA_FLOAT, rmi, (float) ((1 - momentum) * rm.getAtIndex(JAVA_FLOAT, rmi) + momentum * mu));
            rv.setAtIndex(JAVA_FLOAT, rvi, (float) ((1 - momentum) * rv.getAtIndex(JAVA_FLOAT, rvi)
                    + momentum * var * n / (n - 1)));
        } else {
            mu = rm.getAtIndex(JAVA_FLOAT, runningMean.offset() + c);
            var = rv.getAtIndex(JAVA_FLOAT, runningVar.offset() + c);
        }
        double r = 1 / Math.sqrt(var + eps);
        mean[c] = mu;
        invStd[c] = r;
        double gc = g.getAtIndex(JAVA_FLOAT, gamma.value().offset() + c);
        double bc = be.getAtIndex(JAVA_FLOAT, beta.value().offset() + c);
        for (int s = 0; s < b; s++) {
            long xb = x.offset() + ((long) s * channels + c) * spatial;
            long yb = y.offset() + ((long) s * channels + c) * spatial;
            for (int i = 0; i < spatial; i++) {
                double xhat = (xs.getAtIndex(JAVA_FLOAT, xb + i) - mu) * r;
                ys.setAtIndex(JAVA_FLOAT, yb + i, (float) (gc * xhat + bc));
            }
        }
    }

    /** Backward of channel c for the batch in bx, bdy, bdx. */
    private void backwardChannel(int c) {
        Tensor x = bx;
        Tensor dy = bdy;
        Tensor dx = bdx;
        int b = bBatch;
        long n = (long) b * spatial;
        MemorySegment xs = x.segment();
        MemorySegment dys = dy.segment();
        Tensor gv = gamma.value();
        Tensor gg = gamma.grad();
        Tensor bg = beta.grad();
        MemorySegment ggs = gg.segment();
        MemorySegment bgs = bg.segment();
        double mu = mean[c];
        double r = invStd[c];
        double sumDy = 0;
        double sumDyXhat = 0;
        for (int s = 0; s < b; s++) {
            long base = ((long) s * channels + c) * spatial;
            for (int i = 0; i < spatial; i++) {
                double d = dys.getAtIndex(JAVA_FLOAT, dy.offset() + base + i);
                sumDy += d;
                sumDyXhat += d * (xs.getAtIndex(JAVA_FLOAT, x.offset() + base + i) - mu) * r;
            }
        }
        ggs.setAtIndex(JAVA_FLOAT, gg.offset() + c, (float) (ggs.getAtIndex(JAVA_FLOAT, gg.offset() + c) + sumDyXhat));
        bgs.setAtIndex(JAVA_FLOAT, bg.offset() + c, (float) (bgs.getAtIndex(JAVA_FLOAT, bg.offset() + c) + sumDy));
        if (dx == null) {
            return;
        }
        MemorySegment dxs = dx.segment();
        double scale = gv.segment().getAtIndex(JAVA_FLOAT, gv.offset() + c) * r;
        for (int s = 0; s < b; s++) {
            long base = ((long) s * channels + c) * spatial;
            for (int i = 0; i < spatial; i++) {
                double d = dys.getAtIndex(JAVA_FLOAT, dy.offset() + base + i);
                double v;
                if (lastTraining) {
                    double xhat = (xs.getAtIndex(JAVA_FLOAT, x.offset() + base + i) - mu) * r;
                    v = scale / n * (n * d - sumDy - xhat * sumDyXhat);
                } else {
                    v = scale * d;
                }
                dxs.setAtIndex(JAVA_FLOAT, dx.offset() + base + i, (float) v);
            }
        }
    }

    /**
     * Channels are independent (each one's sums run in the same order whoever runs it), so they are
     * tasks on the kernels' pool: the same bits on one thread or several. This layer's double-precision
     * loops were a seventh of a DCGAN step run on the calling thread alone.
     */
    private void run(int phase, Tensor a, Tensor b, Tensor c) {
        KernelPool pool = kernels.pool();
        KernelPool.Task task = phase == FORWARD ? forwardTask : backwardTask;
        try {
            if (pool.threads() > 1 && pool.shareable(a.segment()) && pool.shareable(b.segment())
                    && pool.shareable(c.segment()) && pool.shareable(gamma.value().segment())
                    && pool.shareable(runningMean.segment())) {
                pool.run(channels, task);
            } else {
                for (int ch = 0; ch < channels; ch++) {
                    task.run(ch);
                }
            }
        } finally {
            fx = fy = bx = bdy = bdx = null;
        }
    }

    /** Scale gamma (C), initialised to 1, not decayed. */
    public Param gamma() {
        return gamma;
    }

    /** Shift beta (C), initialised to 0, not decayed. */
    public Param beta() {
        return beta;
    }

    /** Running mean (C), in scratch; write into it to restore a saved model. */
    public Tensor runningMean() {
        return runningMean;
    }

    /** Running (unbiased) variance (C), in scratch; write into it to restore a saved model. */
    public Tensor runningVar() {
        return runningVar;
    }

    public double momentum() {
        return momentum;
    }

    public double eps() {
        return eps;
    }

    @Override
    public List<Param> params() {
        return List.of(gamma, beta);
    }
}
