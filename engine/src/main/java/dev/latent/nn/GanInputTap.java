package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;

/**
 * An identity layer placed first in the discriminator so that the generator can be trained through it:
 * a {@link dev.latent.nn.Sequential} gives its first layer no input gradient (dx = null), so with this
 * tap first, the real first layer (a convolution) writes dL/dx into the tap's output-gradient buffer,
 * and the tap's backward keeps a view of it: {@link #inputGradient()} = dL/d(D's input), which is
 * dL/d(G's output). x (B, shape...), y = x (copied: a Sequential gives every layer its own buffer).
 * The view stays valid until the discriminator's next backward.
 */
public final class GanInputTap implements Layer {

    private final String name;
    private Kernels k;
    private int maxBatch;
    private int[] sample;
    private Tensor lastDy;

    public GanInputTap(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        return inputShape.clone();
    }

    @Override
    public void build(int[] inputShape, int maxBatch, Kernels kernels, ParamSlab slab, Workspace scratch) {
        this.sample = inputShape.clone();
        this.maxBatch = maxBatch;
        this.k = kernels;
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        Layer.requireBatch(name, "input", x, sample, maxBatch);
        Batches.requireExact(name, "output", y, sample, x.dim(0));
        k.elementwise().copy((int) x.size(), x.segment(), x.offset(), y.segment(), y.offset());
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        lastDy = dy;
        if (dx != null) {
            k.elementwise().copy((int) dy.size(), dy.segment(), dy.offset(), dx.segment(), dx.offset());
        }
    }

    /** dL/d(input) of the last backward (B, shape...). */
    public Tensor inputGradient() {
        if (lastDy == null) {
            throw new IllegalStateException(name + ": no backward has run yet");
        }
        return lastDy;
    }
}
