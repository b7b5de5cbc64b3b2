package dev.latent.nn;

import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;

/**
 * A pointwise activation. x (B, ...), y (B, ...) of the same shape: y = f(x); dx = f'(x) * dy,
 * with f' read from y for sigmoid and tanh and from x otherwise (formulas in {@link Activation}).
 */
public final class ActivationLayer implements Layer {

    private final String name;
    private final Activation f;
    private Kernels k;
    private int[] sample;
    private int maxBatch;

    public ActivationLayer(String name, Activation f) {
        this.name = name;
        this.f = f;
    }

    public Activation activation() {
        return f;
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
        this.k = kernels;
        this.sample = inputShape.clone();
        this.maxBatch = maxBatch;
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        Layer.requireBatch(name, "input", x, sample, maxBatch);
        Batches.requireExact(name, "output", y, sample, x.dim(0));
        k.activations().forward(f, (int) x.size(), x.segment(), x.offset(), y.segment(), y.offset());
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        if (dx != null) {
            k.activations().backward(f, (int) x.size(), x.segment(), x.offset(), y.segment(), y.offset(),
                    dy.segment(), dy.offset(), dx.segment(), dx.offset());
        }
    }
}
