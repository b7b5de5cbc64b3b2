package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;

/**
 * Gives each sample another shape of the same size: x (B, in...), y (B, shape...), same row-major
 * data (e.g. a decoder's Dense output (B, C*H*W) to images (B, C, H, W)). One target dimension may be
 * -1 and is then inferred. Like {@link Flatten} it copies, because a {@link Sequential} hands every
 * layer its own output buffer; dx = dy, copied back.
 */
public final class Reshape implements Layer {

    private final String name;
    private final int[] target;
    private Kernels k;
    private int maxBatch;
    private int[] inSample;
    private int[] outSample;

    public Reshape(String name, int... shape) {
        int inferred = 0;
        boolean ok = shape.length >= 1;
        for (int d : shape) {
            ok &= d >= 1 || d == -1;
            inferred += d == -1 ? 1 : 0;
        }
        if (!ok || inferred > 1) {
            throw new IllegalArgumentException(name + ": target shape must have dimensions >= 1 and at most one -1, got "
                    + Tensor.format(shape));
        }
        this.name = name;
        this.target = shape.clone();
    }

    /** A layer named "reshape". */
    public Reshape(int... shape) {
        this("reshape", shape);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        long size = inputShape.length >= 1 ? Tensor.sizeOf(inputShape) : -1;
        long known = 1;
        int infer = -1;
        for (int i = 0; i < target.length; i++) {
            if (target[i] == -1) {
                infer = i;
            } else {
                known *= target[i];
            }
        }
        int[] out = target.clone();
        if (infer >= 0 && size > 0 && size % known == 0) {
            out[infer] = (int) (size / known);
        }
        if (size < 1 || (infer < 0 ? known != size : size % known != 0)) {
            throw new IllegalArgumentException(name + ": cannot reshape per-sample input " + Tensor.format(inputShape)
                    + " to " + Tensor.format(target));
        }
        return out;
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
