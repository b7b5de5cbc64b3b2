package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;

/**
 * Columns [from, to) of each sample: x (B, d), y (B, to - from), y[b, j] = x[b, from + j]. Backward:
 * dx = 0 except dx[b, from + j] = dy[b, j]. E.g. the code part of a state that also carries the input.
 */
public final class Slice implements Layer {

    private final String name;
    private final int from;
    private final int to;
    private Kernels k;
    private int maxBatch;
    private int[] inSample;
    private int[] outSample;

    public Slice(String name, int from, int to) {
        if (from < 0 || to <= from) {
            throw new IllegalArgumentException(name + ": slice [" + from + ", " + to + ") must be non-empty and start at >= 0");
        }
        this.name = name;
        this.from = from;
        this.to = to;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        int d = ColumnWindow.requireVector(name, inputShape);
        if (to > d) {
            throw new IllegalArgumentException(name + ": slice [" + from + ", " + to + ") outside a per-sample input of " + d);
        }
        return new int[] {to - from};
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
        ColumnWindow.gather(k, x, from, y);
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        if (dx == null) {
            return;
        }
        Layer.requireBatch(name, "output gradient", dy, outSample, maxBatch);
        Batches.requireExact(name, "input gradient", dx, inSample, dy.dim(0));
        ColumnWindow.scatter(k, dy, dx, from);
    }
}
