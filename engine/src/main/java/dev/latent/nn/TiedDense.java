package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.kernel.Transpose;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A decoder whose weight is the transpose of an encoder {@link Dense}'s, sharing its memory (tied
 * weights). Encoder W is (hidden, visible); here x (B, hidden), y (B, visible): {@code y = x W + c}
 * with its own bias c (visible). The encoder's weight gradient receives this layer's contribution
 * too: dW += x^T dy, so the gradients of both uses are summed. dx = dy W^T.
 */
public final class TiedDense implements Layer {

    private final String name;
    private final Dense encoder;
    private final boolean bias;
    private final int[] inSample;
    private final int[] outSample;
    private Kernels k;
    private int maxBatch;
    private Param biasParam;

    public TiedDense(String name, Dense encoder, boolean bias) {
        this.name = name;
        this.encoder = encoder;
        this.bias = bias;
        this.inSample = new int[] {encoder.out()};
        this.outSample = new int[] {encoder.in()};
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        if (inputShape.length != 1 || inputShape[0] != encoder.out()) {
            throw new IllegalArgumentException(name + ": expects per-sample input [" + encoder.out() + "] (the "
                    + encoder.name() + " code) but got " + Tensor.format(inputShape));
        }
        return outSample.clone();
    }

    @Override
    public long paramCount(int[] inputShape) {
        return bias ? encoder.in() : 0;
    }

    @Override
    public void build(int[] inputShape, int maxBatch, Kernels kernels, ParamSlab slab, Workspace scratch) {
        outputShape(inputShape);
        if (encoder.weight() == null) {
            throw new IllegalStateException(name + ": the tied encoder " + encoder.name() + " must be built first");
        }
        this.k = kernels;
        this.maxBatch = maxBatch;
        this.biasParam = bias ? slab.take(name + ".bias", false, encoder.in()) : null;
    }

    @Override
    public void init(SplittableRandom rnd) {
        if (biasParam != null) {
            biasParam.value().fill(0f);
        }
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        Layer.requireBatch(name, "input", x, inSample, maxBatch);
        int b = x.dim(0);
        Batches.requireExact(name, "output", y, outSample, b);
        int hidden = encoder.out();
        int visible = encoder.in();
        Tensor w = encoder.weight().value();
        k.gemm().gemm(Transpose.N, Transpose.N, b, visible, hidden, 1f, x.segment(), x.offset(), hidden,
                w.segment(), w.offset(), visible, 0f, y.segment(), y.offset(), visible);
        if (biasParam != null) {
            Tensor c = biasParam.value();
            k.elementwise().addBias(b, visible, c.segment(), c.offset(), y.segment(), y.offset(), visible);
        }
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        int b = x.dim(0);
        int hidden = encoder.out();
        int visible = encoder.in();
        Tensor gw = encoder.weight().grad();
        // dW (hidden, visible) += x^T (hidden, B) dy (B, visible)
        k.gemm().gemm(Transpose.T, Transpose.N, hidden, visible, b, 1f, x.segment(), x.offset(), hidden,
                dy.segment(), dy.offset(), visible, 1f, gw.segment(), gw.offset(), visible);
        if (biasParam != null) {
            Tensor gc = biasParam.grad();
            k.reductions().colSums(b, visible, dy.segment(), dy.offset(), visible, 1f, gc.segment(), gc.offset());
        }
        if (dx != null) {
            Tensor w = encoder.weight().value();
            // dx (B, hidden) = dy (B, visible) W^T (visible, hidden)
            k.gemm().gemm(Transpose.N, Transpose.T, b, hidden, visible, 1f, dy.segment(), dy.offset(), visible,
                    w.segment(), w.offset(), visible, 0f, dx.segment(), dx.offset(), hidden);
        }
    }

    /** The encoder whose weight this layer shares. */
    public Dense encoder() {
        return encoder;
    }

    @Override
    public List<Param> params() {
        List<Param> ps = new ArrayList<>(1);
        if (biasParam != null) {
            ps.add(biasParam);
        }
        return ps;
    }
}
