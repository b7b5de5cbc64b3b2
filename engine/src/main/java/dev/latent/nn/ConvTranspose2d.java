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
 * Transposed 2-D convolution with PyTorch's {@code ConvTranspose2d} semantics (dilation 1, groups 1):
 * the adjoint of {@link Conv2d} with the same kernel, stride and padding. x (B, C, H, W),
 * weight W (C, OC*k*k) = PyTorch's (C, OC, k, k) in the same memory order, bias b (OC),
 * y (B, OC, OH, OW) with OH = (H - 1) s - 2p + k + op (op = output padding &lt; s), likewise OW:
 * {@code y[n, o, i*s - p + u, j*s - p + v] += x[n, c, i, j] W[c, (o*k + u)*k + v]} (terms landing
 * outside the output dropped), then + b[o].
 *
 * <p>With g the convolution geometry over the <em>output</em> image (OC, OH, OW) whose column matrix
 * is (K = OC*k*k, L = H*W) (op &lt; s makes g's output size exactly H x W), the batch runs in chunks
 * of nb samples ({@link ConvChunks}: a chunk's columns fit in L2, and a full batch has at least
 * {@link ConvChunks#MIN_CHUNKS} chunks), each a task on the kernel pool with one single-threaded GEMM:
 * X (C, nb*L) gathered from x, cols (K, nb*L) = W^T X, y = col2im(cols) (batched) + b per channel.
 * Backward per chunk: its db = row sums of its dy_n; cols = the batched im2col of dy, X gathered
 * again, its dW = X cols^T, dX = W cols (into X's scratch) scattered to dx; then db and dW += the
 * chunks' partials in chunk order. Scratch per pool thread: cols (K, nb*L) and X (C, nb*L).
 */
public final class ConvTranspose2d implements Layer {

    private final String name;
    private final int inC;
    private final int outC;
    private final int kernel;
    private final int stride;
    private final int pad;
    private final int outputPad;
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

    public ConvTranspose2d(String name, int inC, int outC, int kernel, int stride, int pad, int outputPad, boolean bias) {
        if (inC < 1 || outC < 1 || kernel < 1 || stride < 1 || pad < 0 || outputPad < 0 || outputPad >= stride) {
            throw new IllegalArgumentException(name + ": need inC, outC, kernel, stride >= 1, pad >= 0 and"
                    + " 0 <= outputPad < stride, got inC=" + inC + " outC=" + outC + " kernel=" + kernel
                    + " stride=" + stride + " pad=" + pad + " outputPad=" + outputPad);
        }
        this.name = name;
        this.inC = inC;
        this.outC = outC;
        this.kernel = kernel;
        this.stride = stride;
        this.pad = pad;
        this.outputPad = outputPad;
        this.bias = bias;
    }

    public ConvTranspose2d(String name, int inC, int outC, int kernel, int stride, int pad) {
        this(name, inC, outC, kernel, stride, pad, 0, true);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        ConvGeometry geo = geometry(inputShape);
        return new int[] {outC, geo.height(), geo.width()};
    }

    private ConvGeometry geometry(int[] in) {
        boolean ok = in.length == 3 && in[0] == inC && in[1] >= 1 && in[2] >= 1;
        long oh = ok ? (long) (in[1] - 1) * stride - 2L * pad + kernel + outputPad : 0;
        long ow = ok ? (long) (in[2] - 1) * stride - 2L * pad + kernel + outputPad : 0;
        if (!ok || oh < 1 || ow < 1 || oh > Integer.MAX_VALUE || ow > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + ": expects per-sample input [" + inC + ", H, W] with output size"
                    + " (H-1)*" + stride + " - 2*" + pad + " + " + kernel + " + " + outputPad + " >= 1 but got "
                    + Tensor.format(in));
        }
        return ConvColumns.geometry(name, in, outC, (int) oh, (int) ow, kernel, stride, pad);
    }

    @Override
    public long paramCount(int[] inputShape) {
        return (long) inC * outC * kernel * kernel + (bias ? outC : 0);
    }

    @Override
    public void build(int[] inputShape, int maxBatch, Kernels kernels, ParamSlab slab, Workspace scratch) {
        this.g = geometry(inputShape);
        this.k = kernels;
        this.maxBatch = maxBatch;
        this.inSample = inputShape.clone();
        this.outSample = outputShape(inputShape);
        this.weight = slab.take(name + ".weight", true, inC, g.colRows());
        this.biasParam = bias ? slab.take(name + ".bias", false, outC) : null;
        this.chunks = new ConvChunks(kernels, maxBatch, g.colRows(), g.colCols(), inC, inC * g.colRows(), bias ? outC : 0, scratch);
    }

    /**
     * Kaiming (He) uniform, W ~ U(-r, r), r = sqrt(6 / fan_in) with the effective fan-in of one output
     * pixel, fan_in = max(1, C*k*k / s^2) (each output pixel receives about (k/s)^2 taps per input
     * channel); biases 0.
     */
    @Override
    public void init(SplittableRandom rnd) {
        double fanIn = Math.max(1.0, (double) inC * kernel * kernel / ((double) stride * stride));
        double r = Math.sqrt(6.0 / fanIn);
        ConvColumns.initUniform(rnd, r, weight, biasParam);
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        Layer.requireBatch(name, "input", x, inSample, maxBatch);
        int b = x.dim(0);
        Batches.requireExact(name, "output", y, outSample, b);
        chunks.run(x, y, null, weight, forwardBody);
    }

    /** Forward of one chunk: X (C, nb*L) gathered from x; cols (K, nb*L) = W^T X; y = col2im(cols) + b. */
    private void forwardChunk(int c, int n0, int nb, Tensor cols, Tensor rows) {
        int kk = g.colRows();
        int l = g.colCols();
        int ld = nb * l;
        int outPixels = g.height() * g.width();
        int outSize = g.imageSize();
        Tensor x = chunks.x();
        Tensor y = chunks.a();
        Tensor w = weight.value();
        ConvColumns.toChannelMajor(nb, inC, l, x.segment(), x.offset() + (long) n0 * inC * l, rows.segment(), rows.offset(), ld);
        chunks.gemm().gemm(Transpose.T, Transpose.N, kk, ld, inC, 1f, w.segment(), w.offset(), kk,
                rows.segment(), rows.offset(), ld, 0f, cols.segment(), cols.offset(), ld);
        k.im2col().col2imBatch(g, nb, cols.segment(), cols.offset(), ld, y.segment(), y.offset() + (long) n0 * outSize);
        if (biasParam != null) {
            // y = col2im(cols) + b: one rounding, as the reference's rank-1 bias update
            Tensor bv = biasParam.value();
            for (int n = n0; n < n0 + nb; n++) {
                k.elementwise().addRowBias(outC, outPixels, bv.segment(), bv.offset(), y.segment(),
                        y.offset() + (long) n * outSize, outPixels);
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
        chunks.run(x, dy, dx, weight, backwardBody);
        chunks.addPartials(weight.grad(), biasParam == null ? null : biasParam.grad());
    }

    /**
     * Backward of one chunk: its db = row sums of dy over its samples; cols = the im2col of dy, X
     * gathered again, its dW = X cols^T; dX = W cols (into X's scratch) scattered to dx.
     */
    private void backwardChunk(int c, int n0, int nb, Tensor cols, Tensor rows) {
        int kk = g.colRows();
        int l = g.colCols();
        int ld = nb * l;
        int outPixels = g.height() * g.width();
        int outSize = g.imageSize();
        Tensor x = chunks.x();
        Tensor dy = chunks.a();
        Tensor dx = chunks.b();
        MemorySegment cs = cols.segment();
        MemorySegment rs = rows.segment();
        Tensor w = weight.value();
        if (biasParam != null) {
            Tensor pb = chunks.partialB();
            for (int n = n0; n < n0 + nb; n++) {
                k.reductions().rowSums(outC, outPixels, dy.segment(), dy.offset() + (long) n * outSize, outPixels,
                        n == n0 ? 0f : 1f, pb.segment(), chunks.biasPartial(c));
            }
        }
        k.im2col().im2colBatch(g, nb, dy.segment(), dy.offset() + (long) n0 * outSize, cs, cols.offset(), ld);
        ConvColumns.toChannelMajor(nb, inC, l, x.segment(), x.offset() + (long) n0 * inC * l, rs, rows.offset(), ld);
        // dW_c (C, K) = X (C, nb*L) cols^T (nb*L, K)
        Tensor pw = chunks.partialW();
        chunks.gemm().gemm(Transpose.N, Transpose.T, inC, kk, ld, 1f, rs, rows.offset(), ld,
                cs, cols.offset(), ld, 0f, pw.segment(), chunks.weightPartial(c), kk);
        if (dx != null) {
            // dX (C, nb*L) = W (C, K) cols (K, nb*L), scattered to dx's NCHW layout
            chunks.gemm().gemm(Transpose.N, Transpose.N, inC, ld, kk, 1f, w.segment(), w.offset(), kk,
                    cs, cols.offset(), ld, 0f, rs, rows.offset(), ld);
            ConvColumns.fromChannelMajor(nb, inC, l, rs, rows.offset(), ld, dx.segment(), dx.offset() + (long) n0 * inC * l);
        }
    }

    /** The weight (C, OC*k*k): PyTorch's (C, OC, k, k) in the same memory order. */
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
