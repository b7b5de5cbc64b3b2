package dev.latent.nn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Inverted dropout. x (B, ...), y of the same shape. Training: for every element, in flat order, one
 * draw u = rnd.nextDouble() from the layer's own seeded generator; mask = 0 if u &lt; p, else
 * s = (float) (1 / (1 - p)); y = x * mask (so E[y] = x). Inference: y = x. Backward and seeding as
 * in {@link NoiseLayer}. Scratch: the mask, maxBatch samples of floats.
 */
public final class Dropout extends NoiseLayer {

    private final double p;
    private final float keepScale;

    /** Drops each unit with probability p in [0, 1); masks drawn from SplittableRandom(seed). */
    public Dropout(String name, double p, long seed) {
        super(name, seed, true);
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException(name + ": dropout probability must be in [0, 1), got " + p);
        }
        this.p = p;
        this.keepScale = (float) (1 / (1 - p));
    }

    /** A layer named "dropout" with seed 0. */
    public Dropout(double p) {
        this("dropout", p, 0);
    }

    public double p() {
        return p;
    }

    @Override
    void corrupt(Tensor x, Tensor y, Tensor mask, int batch, int units) {
        MemorySegment m = mask.segment();
        long n = (long) batch * units;
        for (long i = 0; i < n; i++) {
            m.setAtIndex(JAVA_FLOAT, mask.offset() + i, rnd.nextDouble() < p ? 0f : keepScale);
        }
    }
}
