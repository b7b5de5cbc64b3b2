package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.kernel.Transpose;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Fully connected layer. x (B, in), weight W (out, in), bias b (out), y (B, out):
 * {@code y = x W^T + b}. Row i of W is hidden unit i's weight vector w_i, so the input that activates
 * unit i most under ||x|| &le; 1 is w_i / ||w_i|| (seed 003).
 *
 * <p>Backward: dW += dy^T x, db += column sums of dy, dx = dy W.
 */
public final class Dense implements Layer {

    private final String name;
    private final int in;
    private final int out;
    private final boolean bias;
    private final int[] inSample;
    private final int[] outSample;
    private Kernels k;
    private int maxBatch;
    private Param weight;
    private Param biasParam;

    public Dense(String name, int in, int out, boolean bias) {
        if (in < 1 || out < 1) {
            throw new IllegalArgumentException(name + ": sizes must be >= 1, got in=" + in + " out=" + out);
        }
        this.name = name;
        this.in = in;
        this.out = out;
        this.bias = bias;
        this.inSample = new int[] {in};
        this.outSample = new int[] {out};
    }

    public Dense(String name, int in, int out) {
        this(name, in, out, true);
    }

    @Override
    public String name() {
        return name;
    }

    public int in() {
        return in;
    }

    public int out() {
        return out;
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        if (inputShape.length != 1 || inputShape[0] != in) {
            throw new IllegalArgumentException(name + ": expects per-sample input [" + in + "] but got "
                    + Tensor.format(inputShape));
        }
        return new int[] {out};
    }

    @Override
    public long paramCount(int[] inputShape) {
        return (long) out * in + (bias ? out : 0);
    }

    @Override
    public void build(int[] inputShape, int maxBatch, Kernels kernels, ParamSlab slab, Workspace scratch) {
        outputShape(inputShape);
        this.k = kernels;
        this.maxBatch = maxBatch;
        this.weight = slab.take(name + ".weight", true, out, in);
        this.biasParam = bias ? slab.take(name + ".bias", false, out) : null;
    }

    /**
     * Glorot/Xavier uniform, W ~ U(-r, r) with r = sqrt(6 / (in + out)) (UFLDL's choice for sparse
     * autoencoders, which adds 1 to the denominator; the difference is immaterial); biases 0.
     */
    @Override
    public void init(SplittableRandom rnd) {
        double r = Math.sqrt(6.0 / (in + out));
        Tensor w = weight.value();
        for (long i = 0; i < w.size(); i++) {
            w.set(i, (float) ((rnd.nextDouble() * 2 - 1) * r));
        }
        if (biasParam != null) {
            biasParam.value().fill(0f);
        }
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        Layer.requireBatch(name, "input", x, inSample, maxBatch);
        int b = x.dim(0);
        Batches.requireExact(name, "output", y, outSample, b);
        Tensor w = weight.value();
        k.gemm().gemm(Transpose.N, Transpose.T, b, out, in, 1f, x.segment(), x.offset(), in,
                w.segment(), w.offset(), in, 0f, y.segment(), y.offset(), out);
        if (biasParam != null) {
            Tensor bv = biasParam.value();
            k.elementwise().addBias(b, out, bv.segment(), bv.offset(), y.segment(), y.offset(), out);
        }
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        backward(x, dy, dx, true);
    }

    @Override
    public void backwardInput(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        backward(x, dy, dx, false);
    }

    private void backward(Tensor x, Tensor dy, Tensor dx, boolean params) {
        int b = x.dim(0);
        if (params) {
            addParamGradients(x, dy, b);
        }
        if (dx != null) {
            Tensor w = weight.value();
            // dx (B, in) = dy (B, out) W (out, in)
            k.gemm().gemm(Transpose.N, Transpose.N, b, in, out, 1f, dy.segment(), dy.offset(), out,
                    w.segment(), w.offset(), in, 0f, dx.segment(), dx.offset(), in);
        }
    }

    private void addParamGradients(Tensor x, Tensor dy, int b) {
        Tensor gw = weight.grad();
        // dW (out, in) += dy^T (out, B) x (B, in)
        k.gemm().gemm(Transpose.T, Transpose.N, out, in, b, 1f, dy.segment(), dy.offset(), out,
                x.segment(), x.offset(), in, 1f, gw.segment(), gw.offset(), in);
        if (biasParam != null) {
            Tensor gb = biasParam.grad();
            k.reductions().colSums(b, out, dy.segment(), dy.offset(), out, 1f, gb.segment(), gb.offset());
        }
    }

    public Param weight() {
        return weight;
    }

    /** The bias parameter, or null when the layer has none. */
    public Param bias() {
        return biasParam;
    }

    @Override
    public List<Param> params() {
        List<Param> ps = new ArrayList<>(2);
        ps.add(weight);
        if (biasParam != null) {
            ps.add(biasParam);
        }
        return ps;
    }
}
