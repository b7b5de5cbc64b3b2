package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;

/**
 * Flattens each sample: x (B, d1, d2, ...), y (B, d1*d2*...), same row-major order, so
 * y[n, i] = x[n].flat[i] and dx = dy reshaped back. The data would be a view, but a
 * {@link Sequential} hands every layer its own output buffer, so forward and backward copy
 * (one memmove each, no arithmetic).
 */
public final class Flatten implements Layer {

    private final String name;
    private Kernels k;
    private int maxBatch;
    private int[] inSample;
    private int[] outSample;

    public Flatten(String name) {
        this.name = name;
    }

    /** A layer named "flatten". */
    public Flatten() {
        this("flatten");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        if (inputShape.length < 1) {
            throw new IllegalArgumentException(name + ": expects a per-sample input of rank >= 1 but got "
                    + Tensor.format(inputShape));
        }
        return new int[] {(int) Tensor.sizeOf(inputShape)};
    }

    @Override
    public void build(int[] inputShape, int maxBatch, Kernels kernels, ParamSlab slab, Workspace scratch) {
        this.outSample = outputShape(inputShape);
        this.inSample = inputShape.clone();
        this.k = kernels;
        this.maxBatch = maxBatch;
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        Layer.requireBatch(name, "input", x, inSample, maxBatch);
        Batches.requireExact(name, "output", y, outSample, x.dim(0));
        k.elementwise().copy((int) x.size(), x.segment(), x.offset(), y.segment(), y.offset());
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        if (dx == null) {
            return;
        }
        Layer.requireBatch(name, "output gradient", dy, outSample, maxBatch);
        Batches.requireExact(name, "input gradient", dx, inSample, dy.dim(0));
        k.elementwise().copy((int) dy.size(), dy.segment(), dy.offset(), dx.segment(), dx.offset());
    }
}
