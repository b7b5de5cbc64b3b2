package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.SplittableRandom;

/**
 * What the corruption layers share: x (B, S...) and y of the same shape; in training y is a random
 * corruption of x drawn from the layer's own seeded generator, in inference y = x. A multiplicative
 * layer ({@link Dropout}, {@link MaskingNoise}) draws a mask m of B * |S| floats and sets y = x * m,
 * so backward is dx = dy * m after a training forward; an additive one ({@link GaussianNoise}) adds
 * noise that does not depend on x, so backward is dx = dy. After an inference forward, dx = dy.
 * Backward must follow a forward of the same batch.
 *
 * <p>The generator advances on every training forward. {@link Sequential#init} reseeds it from the
 * model's generator (one model seed fixes weights and corruption alike); {@link #reseed} restarts it,
 * e.g. per epoch so that a resumed run draws the same corruption as an uninterrupted one.
 */
public abstract sealed class NoiseLayer implements Layer permits Dropout, MaskingNoise, GaussianNoise {

    private final String name;
    private final boolean multiplicative;
    /** The layer's generator; subclasses draw from it in {@link #corrupt}. */
    protected SplittableRandom rnd;
    private Kernels k;
    private int maxBatch;
    private int[] sample;
    private Tensor mask;
    private boolean lastTraining;
    private int forwardBatch = -1;

    NoiseLayer(String name, long seed, boolean multiplicative) {
        this.name = name;
        this.multiplicative = multiplicative;
        this.rnd = new SplittableRandom(seed);
    }

    @Override
    public final String name() {
        return name;
    }

    /** Part of the model's seeded initialization: reseeds the noise generator from the model's generator. */
    @Override
    public final void init(SplittableRandom modelRandom) {
        reseed(modelRandom.nextLong());
    }

    /** Restarts the noise at {@code seed}: the same seed then replays the same corruption. */
    public final void reseed(long seed) {
        this.rnd = new SplittableRandom(seed);
        restart();
    }

    /** Hook: resets any other state the corruption draws depend on (called by {@link #reseed}). */
    void restart() {
    }

    /** Any non-empty per-sample shape with positive dimensions maps to itself. */
    @Override
    public final int[] outputShape(int[] inputShape) {
        boolean ok = inputShape.length >= 1;
        for (int d : inputShape) {
            ok &= d >= 1;
        }
        if (!ok) {
            throw new IllegalArgumentException(name + ": expects a per-sample input of rank >= 1 with positive"
                    + " dimensions but got " + Tensor.format(inputShape));
        }
        return inputShape.clone();
    }

    @Override
    public final void build(int[] inputShape, int maxBatch, Kernels kernels, ParamSlab slab, Workspace scratch) {
        this.sample = outputShape(inputShape);
        this.k = kernels;
        this.maxBatch = maxBatch;
        if (multiplicative) {
            this.mask = scratch.allocate((int) (maxBatch * Tensor.sizeOf(sample)));
        }
        bind((int) Tensor.sizeOf(sample), scratch);
    }

    /** The kernels bound at build time. */
    final Kernels kernels() {
        return k;
    }

    /** Hook for scratch of a subclass, called once by build with the per-sample size d. */
    void bind(int units, Workspace scratch) {
    }

    /**
     * Training corruption of a batch of {@code batch} samples of {@code units} floats: a multiplicative
     * layer writes the first batch * units floats of {@code mask} (x and y are then handled here);
     * an additive layer writes y itself from x.
     */
    abstract void corrupt(Tensor x, Tensor y, Tensor mask, int batch, int units);

    @Override
    public final void forward(Tensor x, Tensor y, boolean training) {
        Layer.requireBatch(name, "input", x, sample, maxBatch);
        Batches.requireExact(name, "output", y, sample, x.dim(0));
        int b = x.dim(0);
        int n = (int) x.size();
        if (training) {
            corrupt(x, y, mask, b, n / b);
            if (multiplicative) {
                k.elementwise().mul(n, x.segment(), x.offset(), mask.segment(), mask.offset(), y.segment(), y.offset());
            }
        } else {
            k.elementwise().copy(n, x.segment(), x.offset(), y.segment(), y.offset());
        }
        lastTraining = training;
        forwardBatch = b;
    }

    @Override
    public final void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
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
        if (lastTraining && multiplicative) {
            k.elementwise().mul(n, dy.segment(), dy.offset(), mask.segment(), mask.offset(), dx.segment(), dx.offset());
        } else {
            k.elementwise().copy(n, dy.segment(), dy.offset(), dx.segment(), dx.offset());
        }
    }

    /**
     * The mask of the last training forward of a multiplicative layer, flat (maxBatch * sample size;
     * the first B samples are valid); null for an additive layer.
     */
    public final Tensor mask() {
        return mask;
    }
}
