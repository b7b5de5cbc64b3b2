package dev.latent.nn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Additive Gaussian input corruption for denoising autoencoders. x (B, ...), y of the same shape.
 * Training: {@code y[i] = x[i] + (float) (sigma * rnd.nextGaussian())}, one draw per element in flat
 * order from the layer's own seeded generator. Inference: y = x. The noise does not depend on x, so
 * backward is dx = dy in both modes (seeding as in {@link NoiseLayer}).
 */
public final class GaussianNoise extends NoiseLayer {

    private final double sigma;

    public GaussianNoise(String name, double sigma, long seed) {
        super(name, seed, false);
        if (!(sigma >= 0) || Double.isInfinite(sigma)) {
            throw new IllegalArgumentException(name + ": sigma must be finite and >= 0, got " + sigma);
        }
        this.sigma = sigma;
    }

    /** A layer named "gaussian-noise" with seed 0. */
    public GaussianNoise(double sigma) {
        this("gaussian-noise", sigma, 0);
    }

    public double sigma() {
        return sigma;
    }

    @Override
    void corrupt(Tensor x, Tensor y, Tensor mask, int batch, int units) {
        MemorySegment xs = x.segment();
        MemorySegment ys = y.segment();
        long n = (long) batch * units;
        for (long i = 0; i < n; i++) {
            float noise = (float) (sigma * rnd.nextGaussian());
            ys.setAtIndex(JAVA_FLOAT, y.offset() + i, xs.getAtIndex(JAVA_FLOAT, x.offset() + i) + noise);
        }
    }
}
