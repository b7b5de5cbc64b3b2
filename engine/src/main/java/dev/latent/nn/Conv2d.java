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
 * <p>The batch runs in chunks of nb samples (fixed at build time, {@link ConvChunks}: the chunk's
 * columns fit in L2, and a full batch has at least {@link ConvChunks#MIN_CHUNKS} chunks), each chunk a
 * task on the kernel pool with one single-threaded GEMM and scratch of its core's own. With K = C*k*k
 * and L = OH*OW, per chunk:
 * cols (K, nb*L) = the samples' im2col side by side ({@link dev.latent.kernel.Im2col#im2colBatch}),
 * Y (OC, nb*L) = b 1^T + W cols, scattered to y's NCHW layout. Backward per chunk: dY (OC, nb*L)
 * gathered from dy, the chunk's db = row sums of dY, cols recomputed (cheaper than keeping the whole
 * batch's columns, which would live in memory, not cache), the chunk's dW = dY cols^T, dcols = W^T dY
 * (into cols), dx = col2im(dcols) (batched); then db and dW += the chunks' partials in chunk order.
 * Scratch per pool thread: cols (K, nb*L) and Y (OC, nb*L).
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
    private ConvChunks chunks;
    private final ConvChunks.Body forwardBody = this::forwardChunk;
    private final ConvChunks.Body backwardBody = this::backwardChunk;
    /** Whether the running backward call computes parameter gradients (backward) or dx only (backwardInput). */
    private boolean withParams;

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
        this.chunks = new ConvChunks(kernels, maxBatch, g.colRows(), g.colCols(), outC, outC * g.colRows(), bias ? outC : 0, scratch);
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
        chunks.run(x, y, null, weight, forwardBody);
    }

    /** Forward of one chunk: rows (OC, nb*L) = b 1^T + W cols, scattered to y's NCHW layout. */
    private void forwardChunk(int c, int n0, int nb, Tensor cols, Tensor rows) {
        int kk = g.colRows();
        int ld = nb * g.colCols();
        Tensor y = chunks.a();
        MemorySegment rs = rows.segment();
        Tensor w = weight.value();
        columns(chunks.x(), n0, nb, cols);
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
        chunks.gemm().gemm(Transpose.N, Transpose.N, outC, ld, kk, 1f, w.segment(), w.offset(), kk,
                cols.segment(), cols.offset(), ld, beta, rs, rows.offset(), ld);
        ConvColumns.fromChannelMajor(nb, outC, g.colCols(), rs, rows.offset(), ld, y.segment(),
                y.offset() + (long) n0 * outC * g.colCols());
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
        if (!params && dx == null) {
            return;
        }
        withParams = params;
        chunks.run(x, dy, dx, weight, backwardBody);
        if (params) {
            chunks.addPartials(weight.grad(), biasParam == null ? null : biasParam.grad());
        }
    }

    /**
     * Backward of one chunk: dY (OC, nb*L) gathered from dy; its bias and weight gradients (dY cols^T)
     * into the chunk's partials; dcols = W^T dY, dx = col2im(dcols).
     */
    private void backwardChunk(int c, int n0, int nb, Tensor cols, Tensor rows) {
        int kk = g.colRows();
        int l = g.colCols();
        int ld = nb * l;
        Tensor dy = chunks.a();
        Tensor dx = chunks.b();
        MemorySegment cs = cols.segment();
        MemorySegment rs = rows.segment();
        Tensor w = weight.value();
        // dY (OC, nb*L): the chunk's output gradients side by side
        ConvColumns.toChannelMajor(nb, outC, l, dy.segment(), dy.offset() + (long) n0 * outC * l, rs, rows.offset(), ld);
        if (withParams) {
            if (biasParam != null) {
                Tensor pb = chunks.partialB();
                k.reductions().rowSums(outC, ld, rs, rows.offset(), ld, 0f, pb.segment(), chunks.biasPartial(c));
            }
            columns(chunks.x(), n0, nb, cols);
            // dW_c (OC, K) = dY (OC, nb*L) cols^T (nb*L, K)
            Tensor pw = chunks.partialW();
            chunks.gemm().gemm(Transpose.N, Transpose.T, outC, kk, ld, 1f, rs, rows.offset(), ld,
                    cs, cols.offset(), ld, 0f, pw.segment(), chunks.weightPartial(c), kk);
        }
        if (dx != null) {
            // dcols (K, nb*L) = W^T (K, OC) dY (OC, nb*L) over the columns, then dx = col2im(dcols)
            chunks.gemm().gemm(Transpose.T, Transpose.N, kk, ld, outC, 1f, w.segment(), w.offset(), kk,
                    rs, rows.offset(), ld, 0f, cs, cols.offset(), ld);
            k.im2col().col2imBatch(g, nb, cs, cols.offset(), ld, dx.segment(), dx.offset() + (long) n0 * g.imageSize());
        }
    }

    /** cols (K, nb*L) = the im2col of samples [n0, n0 + nb) of x side by side. */
    private void columns(Tensor x, int n0, int nb, Tensor cols) {
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
