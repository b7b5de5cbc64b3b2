package dev.latent.nn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;

/**
 * Masking corruption for denoising autoencoders (Vincent et al. 2008): in training, for each sample
 * of d units, exactly m = round(fraction * d) units chosen uniformly at random (a partial
 * Fisher-Yates shuffle drawing from the layer's own seeded generator) are set to 0, the rest kept
 * unscaled: y = x * mask with mask in {0, 1}. Inference: y = x. Backward and seeding as in
 * {@link NoiseLayer}. Scratch: the mask (maxBatch samples of floats) and a permutation of d ints.
 */
public final class MaskingNoise extends NoiseLayer {

    private final double fraction;
    private int masked;
    private int units;
    private MemorySegment perm;

    public MaskingNoise(String name, double fraction, long seed) {
        super(name, seed, true);
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException(name + ": masked fraction must be in [0, 1], got " + fraction);
        }
        this.fraction = fraction;
    }

    /** A layer named "masking-noise" with seed 0. */
    public MaskingNoise(double fraction) {
        this("masking-noise", fraction, 0);
    }

    public double fraction() {
        return fraction;
    }

    /** Units zeroed per sample for this layer's input shape: round(fraction * d). */
    public int maskedPerSample() {
        return masked;
    }

    @Override
    void bind(int units, Workspace scratch) {
        this.units = units;
        this.masked = (int) Math.round(fraction * units);
        this.perm = scratch.allocateFloats(units);
        restart();
    }

    /** The draws depend on the permutation left by earlier ones, so a reseed restarts it at the identity. */
    @Override
    void restart() {
        if (perm != null) {
            for (int i = 0; i < units; i++) {
                perm.setAtIndex(JAVA_INT, i, i);
            }
        }
    }

    @Override
    void corrupt(Tensor x, Tensor y, Tensor mask, int batch, int units) {
        MemorySegment m = mask.segment();
        kernels().elementwise().fill(batch * units, 1f, m, mask.offset());
        for (int s = 0; s < batch; s++) {
            long row = mask.offset() + (long) s * units;
            // partial Fisher-Yates: perm[0, masked) becomes a uniform random subset, whatever perm held before
            for (int i = 0; i < masked; i++) {
                int j = i + rnd.nextInt(units - i);
                int pj = perm.getAtIndex(JAVA_INT, j);
                perm.setAtIndex(JAVA_INT, j, perm.getAtIndex(JAVA_INT, i));
                perm.setAtIndex(JAVA_INT, i, pj);
                m.setAtIndex(JAVA_FLOAT, row + pj, 0f);
            }
        }
    }
}
