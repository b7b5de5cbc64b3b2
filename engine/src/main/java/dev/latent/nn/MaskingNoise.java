package dev.latent.nn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * Masking corruption for denoising autoencoders (Vincent et al. 2008): in training, for each sample
 * of d units, exactly m = round(fraction * d) units chosen uniformly at random (a partial
 * Fisher-Yates shuffle drawing from the layer's own seeded generator) are set to 0, the rest kept
 * unscaled: y = x * mask with mask in {0, 1}. Inference: y = x. Backward: dx = dy * mask after a
 * training forward, dx = dy after an inference forward (same batch as that forward).
 * Scratch: the mask (maxBatch samples of floats) and a permutation of d ints.
 */
public final class MaskingNoise implements Layer {

    private final String name;
    private final double fraction;
    private SplittableRandom rnd;
    private Kernels k;
    private int maxBatch;
    private int[] sample;
    private int units;
    private int masked;
    private Tensor mask;
    private MemorySegment perm;
    private boolean lastTraining;
    private int forwardBatch = -1;

    public MaskingNoise(String name, double fraction, long seed) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException(name + ": masked fraction must be in [0, 1], got " + fraction);
        }
        this.name = name;
        this.fraction = fraction;
        this.rnd = new SplittableRandom(seed);
    }

    /** A layer named "masking-noise" with seed 0. */
    public MaskingNoise(double fraction) {
        this("masking-noise", fraction, 0);
    }

    @Override
    public String name() {
        return name;
    }

    public double fraction() {
        return fraction;
    }

    /** Units zeroed per sample for this layer's input shape: round(fraction * d). */
    public int maskedPerSample() {
        return masked;
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
        this.units = (int) Tensor.sizeOf(sample);
        this.masked = (int) Math.round(fraction * units);
        this.mask = scratch.allocate((int) ((long) maxBatch * units));
        this.perm = scratch.allocateFloats(units);
        for (int i = 0; i < units; i++) {
            perm.setAtIndex(JAVA_INT, i, i);
        }
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        Layer.requireBatch(name, "input", x, sample, maxBatch);
        Batches.requireExact(name, "output", y, sample, x.dim(0));
        int b = x.dim(0);
        int n = (int) x.size();
        if (training) {
            MemorySegment m = mask.segment();
            k.elementwise().fill(n, 1f, m, mask.offset());
            for (int s = 0; s < b; s++) {
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
            k.elementwise().mul(n, x.segment(), x.offset(), m, mask.offset(), y.segment(), y.offset());
        } else {
            k.elementwise().copy(n, x.segment(), x.offset(), y.segment(), y.offset());
        }
        lastTraining = training;
        forwardBatch = b;
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

    /** The mask of the last training forward, flat (maxBatch * d; the first B samples are valid). */
    public Tensor mask() {
        return mask;
    }
}
