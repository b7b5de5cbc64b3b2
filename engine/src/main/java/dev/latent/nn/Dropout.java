package dev.latent.nn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * Inverted dropout. x (B, ...), y of the same shape. Training: for every element, in flat order, one
 * draw u = rnd.nextDouble() from the layer's own seeded generator; mask = 0 if u &lt; p, else
 * s = (float) (1 / (1 - p)); y = x * mask (so E[y] = x). Inference: y = x. Backward: dx = dy * mask
 * after a training forward, dx = dy after an inference forward (same batch as that forward).
 * Scratch: the mask, maxBatch samples of floats.
 *
 * <p>The generator belongs to the layer and advances on every training forward; {@link #reseed}
 * restarts it (e.g. when resuming a run). {@link Sequential#init} does not touch it.
 */
public final class Dropout implements Layer {

    private final String name;
    private final double p;
    private final float keepScale;
    private SplittableRandom rnd;
    private Kernels k;
    private int maxBatch;
    private int[] sample;
    private Tensor mask;
    private boolean lastTraining;
    private int forwardBatch = -1;

    /** Drops each unit with probability p in [0, 1); masks drawn from SplittableRandom(seed). */
    public Dropout(String name, double p, long seed) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException(name + ": dropout probability must be in [0, 1), got " + p);
        }
        this.name = name;
        this.p = p;
        this.keepScale = (float) (1 / (1 - p));
        this.rnd = new SplittableRandom(seed);
    }

    /** A layer named "dropout" with seed 0. */
    public Dropout(double p) {
        this("dropout", p, 0);
    }

    @Override
    public String name() {
        return name;
    }

    public double p() {
        return p;
    }

    /**
     * Part of the model's seeded initialization: the noise generator is reseeded from the model's
     * generator, so one model seed fixes weights and corruption alike.
     */
    @Override
    public void init(java.util.SplittableRandom modelRandom) {
        reseed(modelRandom.nextLong());
    }

    /** Restarts the mask generator at {@code seed}. */
    public void reseed(long seed) {
        this.rnd = new SplittableRandom(seed);
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        return NoiseShapes.same(name, inputShape);
    }

    @Override
    public void build(int[] inputShape, int maxBatch, Kernels kernels, ParamSlab slab, Workspace scratch) {
        this.sample = outputShape(inputShape);
        this.k = kernels;
        this.maxBatch = maxBatch;
        this.mask = scratch.allocate((int) (maxBatch * Tensor.sizeOf(sample)));
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        Layer.requireBatch(name, "input", x, sample, maxBatch);
        Batches.requireExact(name, "output", y, sample, x.dim(0));
        int n = (int) x.size();
        if (training) {
            MemorySegment m = mask.segment();
            for (int i = 0; i < n; i++) {
                m.setAtIndex(JAVA_FLOAT, mask.offset() + i, rnd.nextDouble() < p ? 0f : keepScale);
            }
            k.elementwise().mul(n, x.segment(), x.offset(), m, mask.offset(), y.segment(), y.offset());
        } else {
            k.elementwise().copy(n, x.segment(), x.offset(), y.segment(), y.offset());
        }
        lastTraining = training;
        forwardBatch = x.dim(0);
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        Layer.requireBatch(name, "output gradient", dy, sample, maxBatch);
        if (dy.dim(0) != forwardBatch) {
            throw new IllegalStateException(name + ": backward for a batch of " + dy.dim(0) + " after a forward of "
                    + forwardBatch);
        }
        if (dx == null) {
            return;
        }
        Batches.requireExact(name, "input gradient", dx, sample, dy.dim(0));
        int n = (int) dy.size();
        if (lastTraining) {
            k.elementwise().mul(n, dy.segment(), dy.offset(), mask.segment(), mask.offset(), dx.segment(), dx.offset());
        } else {
            k.elementwise().copy(n, dy.segment(), dy.offset(), dx.segment(), dx.offset());
        }
    }

    /** The mask of the last training forward, flat (maxBatch * sample size; the first B samples are valid). */
    public Tensor mask() {
        return mask;
    }
}
