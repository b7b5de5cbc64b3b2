package dev.latent.nn;

import dev.latent.kernel.ConvGeometry;
import dev.latent.kernel.Kernels;
import dev.latent.kernel.Transpose;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * 2-D convolution (cross-correlation, as PyTorch's {@code Conv2d} with dilation 1 and groups 1).
 * x (B, C, H, W), weight W (OC, C*k*k), bias b (OC), y (B, OC, OH, OW) with
 * OH = (H + 2p - k) / s + 1 (floor), likewise OW:
 * {@code y[n, o, i, j] = b[o] + sum_{c, u, v} W[o, (c*k + u)*k + v] x[n, c, i*s - p + u, j*s - p + v]}
 * (zero outside the image). W's memory is PyTorch's (OC, C, k, k) weight, row-major, unchanged.
 *
 * <p>Per sample n, with K = C*k*k and L = OH*OW: cols (K, L) = im2col(x_n), y_n (OC, L) = W cols
 * + b 1^T. Backward per sample (cols recomputed, then reused as dcols):
 * dW += dy_n cols^T, db += row sums of dy_n, dcols = W^T dy_n, dx_n = col2im(dcols).
 * Scratch: one column matrix (K, L) and a row of L ones, whatever the batch.
 */
public final class Conv2d implements Layer {

    private final String name;
    private final int inC;
    private final int outC;
    private final int kernel;
    private final int stride;
    private final int pad;
    private final boolean bias;
    private Kernels k;
    private int maxBatch;
    private ConvGeometry g;
    private int[] inSample;
    private int[] outSample;
    private Param weight;
    private Param biasParam;
    private Tensor cols;
    private Tensor ones;

    public Conv2d(String name, int inC, int outC, int kernel, int stride, int pad, boolean bias) {
        if (inC < 1 || outC < 1 || kernel < 1 || stride < 1 || pad < 0) {
            throw new IllegalArgumentException(name + ": need inC, outC, kernel, stride >= 1 and pad >= 0, got inC="
                    + inC + " outC=" + outC + " kernel=" + kernel + " stride=" + stride + " pad=" + pad);
        }
        this.name = name;
        this.inC = inC;
        this.outC = outC;
        this.kernel = kernel;
        this.stride = stride;
        this.pad = pad;
        this.bias = bias;
    }

    public Conv2d(String name, int inC, int outC, int kernel, int stride, int pad) {
        this(name, inC, outC, kernel, stride, pad, true);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        ConvGeometry geo = geometry(inputShape);
        return new int[] {outC, geo.outH(), geo.outW()};
    }

    private ConvGeometry geometry(int[] in) {
        if (in.length != 3 || in[0] != inC || in[1] < 1 || in[2] < 1
                || in[1] + 2L * pad < kernel || in[2] + 2L * pad < kernel) {
            throw new IllegalArgumentException(name + ": expects per-sample input [" + inC + ", H, W] with H, W + 2*"
                    + pad + " >= kernel " + kernel + " but got " + Tensor.format(in));
        }
        try {
            return ConvGeometry.square(inC, in[1], in[2], kernel, stride, pad);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": input " + Tensor.format(in) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public long paramCount(int[] inputShape) {
        return (long) outC * inC * kernel * kernel + (bias ? outC : 0);
    }

    @Override
    public void build(int[] inputShape, int maxBatch, Kernels kernels, ParamSlab slab, Workspace scratch) {
        this.g = geometry(inputShape);
        this.k = kernels;
        this.maxBatch = maxBatch;
        this.inSample = inputShape.clone();
        this.outSample = outputShape(inputShape);
        this.weight = slab.take(name + ".weight", true, outC, g.colRows());
        this.biasParam = bias ? slab.take(name + ".bias", false, outC) : null;
        this.cols = scratch.allocate(g.colRows(), g.colCols());
        this.ones = scratch.allocate(g.colCols());
        ones.fill(1f);
    }

    /**
     * Kaiming (He) uniform for ReLU-family networks: W ~ U(-r, r), r = sqrt(6 / fan_in),
     * fan_in = C*k*k (variance 2 / fan_in); biases 0. (PyTorch's own default is the smaller
     * r = 1 / sqrt(fan_in); DCGAN re-initialises with N(0, 0.02) anyway.)
     */
    @Override
    public void init(SplittableRandom rnd) {
        double r = Math.sqrt(6.0 / g.colRows());
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
        int kk = g.colRows();
        int l = g.colCols();
        int inSize = g.imageSize();
        int outSize = outC * l;
        MemorySegment xs = x.segment();
        MemorySegment ys = y.segment();
        MemorySegment cs = cols.segment();
        Tensor w = weight.value();
        for (int n = 0; n < b; n++) {
            long yOff = y.offset() + (long) n * outSize;
            k.im2col().im2col(g, xs, x.offset() + (long) n * inSize, cs, cols.offset());
            // y_n (OC, L) = W (OC, K) cols (K, L)
            k.gemm().gemm(Transpose.N, Transpose.N, outC, l, kk, 1f, w.segment(), w.offset(), kk,
                    cs, cols.offset(), l, 0f, ys, yOff, l);
            if (biasParam != null) {
                // y_n += b (OC, 1) 1^T (1, L): a rank-1 update, exactly one rounding per element
                Tensor bv = biasParam.value();
                k.gemm().gemm(Transpose.N, Transpose.N, outC, l, 1, 1f, bv.segment(), bv.offset(), 1,
                        ones.segment(), ones.offset(), l, 1f, ys, yOff, l);
            }
        }
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        Layer.requireBatch(name, "input", x, inSample, maxBatch);
        int b = x.dim(0);
        Batches.requireExact(name, "output gradient", dy, outSample, b);
        if (dx != null) {
            Batches.requireExact(name, "input gradient", dx, inSample, b);
        }
        int kk = g.colRows();
        int l = g.colCols();
        int inSize = g.imageSize();
        int outSize = outC * l;
        MemorySegment cs = cols.segment();
        Tensor w = weight.value();
        Tensor gw = weight.grad();
        for (int n = 0; n < b; n++) {
            long dyOff = dy.offset() + (long) n * outSize;
            k.im2col().im2col(g, x.segment(), x.offset() + (long) n * inSize, cs, cols.offset());
            // dW (OC, K) += dy_n (OC, L) cols^T (L, K)
            k.gemm().gemm(Transpose.N, Transpose.T, outC, kk, l, 1f, dy.segment(), dyOff, l,
                    cs, cols.offset(), l, 1f, gw.segment(), gw.offset(), kk);
            if (biasParam != null) {
                Tensor gb = biasParam.grad();
                k.reductions().rowSums(outC, l, dy.segment(), dyOff, l, 1f, gb.segment(), gb.offset());
            }
            if (dx != null) {
                // dcols (K, L) = W^T (K, OC) dy_n (OC, L), then dx_n = col2im(dcols)
                k.gemm().gemm(Transpose.T, Transpose.N, kk, l, outC, 1f, w.segment(), w.offset(), kk,
                        dy.segment(), dyOff, l, 0f, cs, cols.offset(), l);
                long dxOff = dx.offset() + (long) n * inSize;
                k.elementwise().fill(inSize, 0f, dx.segment(), dxOff);
                k.im2col().col2im(g, cs, cols.offset(), dx.segment(), dxOff);
            }
        }
    }

    /** The weight (OC, C*k*k): PyTorch's (OC, C, k, k) in the same memory order. */
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
