package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;

/**
 * Zeros around each sample: x (B, d), y (B, before + d + after), y[b, before + j] = x[b, j], the rest
 * 0. Backward: dx[b, j] = dy[b, before + j]. With {@link Slice} and {@link Residual} it lets a chain
 * carry a state [h; x] in which every block also sees the shared input x.
 */
public final class ZeroPad implements Layer {

    private final String name;
    private final int before;
    private final int after;
    private Kernels k;
    private int maxBatch;
    private int[] inSample;
    private int[] outSample;

    public ZeroPad(String name, int before, int after) {
        if (before < 0 || after < 0) {
            throw new IllegalArgumentException(name + ": padding must be >= 0, got before=" + before + " after=" + after);
        }
        this.name = name;
        this.before = before;
        this.after = after;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        int d = ColumnWindow.requireVector(name, inputShape);
        return new int[] {before + d + after};
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
        ColumnWindow.scatter(k, x, y, before);
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        if (dx == null) {
            return;
        }
        Layer.requireBatch(name, "output gradient", dy, outSample, maxBatch);
        Batches.requireExact(name, "input gradient", dx, inSample, dy.dim(0));
        ColumnWindow.gather(k, dy, before, dx);
    }
}
