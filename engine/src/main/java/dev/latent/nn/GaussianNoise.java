package dev.latent.nn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * Additive Gaussian input corruption for denoising autoencoders. x (B, ...), y of the same shape.
 * Training: {@code y[i] = x[i] + (float) (sigma * rnd.nextGaussian())}, one draw per element in flat
 * order from the layer's own seeded {@link SplittableRandom}. Inference: y = x. The noise
 * does not depend on x, so backward is dx = dy in both modes.
 */
public final class GaussianNoise implements Layer {

    private final String name;
    private final double sigma;
    private SplittableRandom rnd;
    private Kernels k;
    private int maxBatch;
    private int[] sample;

    public GaussianNoise(String name, double sigma, long seed) {
        if (!(sigma >= 0) || Double.isInfinite(sigma)) {
            throw new IllegalArgumentException(name + ": sigma must be finite and >= 0, got " + sigma);
        }
        this.name = name;
        this.sigma = sigma;
        this.rnd = new SplittableRandom(seed);
    }

    /** A layer named "gaussian-noise" with seed 0. */
    public GaussianNoise(double sigma) {
        this("gaussian-noise", sigma, 0);
    }

    @Override
    public String name() {
        return name;
    }

    public double sigma() {
        return sigma;
    }

    /**
     * Part of the model's seeded initialization: the noise generator is reseeded from the model's
     * generator, so one model seed fixes weights and corruption alike.
     */
    @Override
    public void init(java.util.SplittableRandom modelRandom) {
        reseed(modelRandom.nextLong());
    }

    /** Restarts the noise generator at {@code seed}. */
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
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        Layer.requireBatch(name, "input", x, sample, maxBatch);
        Batches.requireExact(name, "output", y, sample, x.dim(0));
        int n = (int) x.size();
        if (!training) {
            k.elementwise().copy(n, x.segment(), x.offset(), y.segment(), y.offset());
            return;
        }
        MemorySegment xs = x.segment();
        MemorySegment ys = y.segment();
        for (int i = 0; i < n; i++) {
            float noise = (float) (sigma * rnd.nextGaussian());
            ys.setAtIndex(JAVA_FLOAT, y.offset() + i, xs.getAtIndex(JAVA_FLOAT, x.offset() + i) + noise);
        }
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        if (dx == null) {
            return;
        }
        Layer.requireBatch(name, "output gradient", dy, sample, maxBatch);
        Batches.requireExact(name, "input gradient", dx, sample, dy.dim(0));
        k.elementwise().copy((int) dy.size(), dy.segment(), dy.offset(), dx.segment(), dx.offset());
    }
}
