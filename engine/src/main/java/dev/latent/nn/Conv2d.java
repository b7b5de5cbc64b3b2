package dev.latent.nn;

import dev.latent.kernel.ConvGeometry;
import dev.latent.kernel.Kernels;
import dev.latent.kernel.Transpose;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;

/**
 * 2-D convolution (cross-correlation, as PyTorch's {@code Conv2d} with dilation 1 and groups 1).
 * x (B, C, H, W), weight W (OC, C*k*k), bias b (OC), y (B, OC, OH, OW) with
 * OH = (H + 2p - k) / s + 1 (floor), likewise OW:
 * {@code y[n, o, i, j] = b[o] + sum_{c, u, v} W[o, (c*k + u)*k + v] x[n, c, i*s - p + u, j*s - p + v]}
 * (zero outside the image). W's memory is PyTorch's (OC, C, k, k) weight, row-major, unchanged.
 *
 * <p>The batch runs in chunks of nb samples (fixed at build time, {@link ConvColumns#chunk}: the
 * chunk's columns fit in L2), one GEMM per chunk. With K = C*k*k and L = OH*OW, per chunk:
 * cols (K, nb*L) = the samples' im2col side by side ({@link dev.latent.kernel.Im2col#im2colBatch}),
 * Y (OC, nb*L) = b 1^T + W cols, scattered to y's NCHW layout. Backward per chunk: dY (OC, nb*L)
 * gathered from dy, db += row sums of dY, cols recomputed (cheaper than keeping the whole batch's
 * columns, which would live in memory, not cache), dW += dY cols^T, dcols = W^T dY (into cols),
 * dx = col2im(dcols) (batched). Scratch: cols (K, nb*L) and Y (OC, nb*L).
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
    private int chunk;
    private Tensor cols;
    private Tensor rows;

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
        return ConvColumns.geometry(name, in, inC, in[1], in[2], kernel, stride, pad);
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
        this.chunk = ConvColumns.chunk(maxBatch, (long) g.colRows() * g.colCols());
        this.cols = scratch.allocate(g.colRows(), chunk * g.colCols());
        this.rows = scratch.allocate(outC, chunk * g.colCols());
    }

    /**
     * Kaiming (He) uniform for ReLU-family networks: W ~ U(-r, r), r = sqrt(6 / fan_in),
     * fan_in = C*k*k (variance 2 / fan_in); biases 0. (PyTorch's own default is the smaller
     * r = 1 / sqrt(fan_in); DCGAN re-initialises with N(0, 0.02) anyway.)
     */
    @Override
    public void init(SplittableRandom rnd) {
        double r = Math.sqrt(6.0 / g.colRows());
        ConvColumns.initUniform(rnd, r, weight, biasParam);
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        Layer.requireBatch(name, "input", x, inSample, maxBatch);
        int b = x.dim(0);
        Batches.requireExact(name, "output", y, outSample, b);
        int kk = g.colRows();
        int l = g.colCols();
        MemorySegment rs = rows.segment();
        Tensor w = weight.value();
        int per = ConvColumns.per(b, chunk);
        for (int n0 = 0; n0 < b; n0 += per) {
            int nb = Math.min(per, b - n0);
            int ld = nb * l;
            columns(x, n0, nb);
            float beta = 0f;
            if (biasParam != null) {
                // rows (OC, nb*L) starts as b 1^T and the GEMM adds W cols: one rounding per product sum
                Tensor bv = biasParam.value();
                for (int o = 0; o < outC; o++) {
                    k.elementwise().fill(ld, bv.get(o), rs, rows.offset() + (long) o * ld);
                }
                beta = 1f;
            }
            // rows (OC, nb*L) = W (OC, K) cols (K, nb*L)
            k.gemm().gemm(Transpose.N, Transpose.N, outC, ld, kk, 1f, w.segment(), w.offset(), kk,
                    cols.segment(), cols.offset(), ld, beta, rs, rows.offset(), ld);
            ConvColumns.fromChannelMajor(nb, outC, l, rs, rows.offset(), ld, y.segment(),
                    y.offset() + (long) n0 * outC * l);
        }
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        backward(x, dy, dx, true);
    }

    /** dx only: no bias sums, no im2col of x, no weight-gradient GEMM. */
    @Override
    public void backwardInput(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        backward(x, dy, dx, false);
    }

    private void backward(Tensor x, Tensor dy, Tensor dx, boolean params) {
        Layer.requireBatch(name, "input", x, inSample, maxBatch);
        int b = x.dim(0);
        Batches.requireExact(name, "output gradient", dy, outSample, b);
        if (dx != null) {
            Batches.requireExact(name, "input gradient", dx, inSample, b);
        }
        int kk = g.colRows();
        int l = g.colCols();
        MemorySegment cs = cols.segment();
        MemorySegment rs = rows.segment();
        Tensor w = weight.value();
        Tensor gw = weight.grad();
        int per = ConvColumns.per(b, chunk);
        for (int n0 = 0; n0 < b; n0 += per) {
            int nb = Math.min(per, b - n0);
            int ld = nb * l;
            // dY (OC, nb*L): the chunk's output gradients side by side
            ConvColumns.toChannelMajor(nb, outC, l, dy.segment(), dy.offset() + (long) n0 * outC * l,
                    rs, rows.offset(), ld);
            if (params) {
                if (biasParam != null) {
                    Tensor gb = biasParam.grad();
                    k.reductions().rowSums(outC, ld, rs, rows.offset(), ld, 1f, gb.segment(), gb.offset());
                }
                columns(x, n0, nb);
                // dW (OC, K) += dY (OC, nb*L) cols^T (nb*L, K)
                k.gemm().gemm(Transpose.N, Transpose.T, outC, kk, ld, 1f, rs, rows.offset(), ld,
                        cs, cols.offset(), ld, 1f, gw.segment(), gw.offset(), kk);
            }
            if (dx != null) {
                // dcols (K, nb*L) = W^T (K, OC) dY (OC, nb*L) over the columns, then dx = col2im(dcols)
                k.gemm().gemm(Transpose.T, Transpose.N, kk, ld, outC, 1f, w.segment(), w.offset(), kk,
                        rs, rows.offset(), ld, 0f, cs, cols.offset(), ld);
                k.im2col().col2imBatch(g, nb, cs, cols.offset(), ld, dx.segment(),
                        dx.offset() + (long) n0 * g.imageSize());
            }
        }
    }

    /** cols (K, nb*L) = the im2col of samples [n0, n0 + nb) of x side by side. */
    private void columns(Tensor x, int n0, int nb) {
        k.im2col().im2colBatch(g, nb, x.segment(), x.offset() + (long) n0 * g.imageSize(), cols.segment(),
                cols.offset(), nb * g.colCols());
    }

    /** The square kernel's side. */
    public int kernel() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    /** Zero padding on every side. */
    public int pad() {
        return pad;
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
        return ConvColumns.params(weight, biasParam);
    }
}
