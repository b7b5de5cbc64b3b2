package dev.latent.nn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;

/**
 * Max pooling without padding (PyTorch's {@code MaxPool2d(kernel, stride)}, dilation 1, floor mode).
 * x (B, C, H, W), y (B, C, OH, OW) with OH = (H - k) / s + 1, likewise OW:
 * {@code y[n, c, i, j] = max_{u, v < k} x[n, c, i*s + u, j*s + v]}.
 *
 * <p>Forward records, per output, the flat index within its sample (c*H*W + row*W + col) of the
 * element it took: the first maximum in row-major window order, or the first NaN, which propagates
 * (PyTorch's CPU rule). Backward writes dx = 0 and then adds dy[n, c, i, j] at that index
 * (overlapping windows, s &lt; k, accumulate), so it must follow the forward of the same batch.
 * Scratch: maxBatch*C*OH*OW ints.
 */
public final class MaxPool2d implements Layer {

    private final String name;
    private final int kernel;
    private final int stride;
    private Kernels k;
    private int maxBatch;
    private int[] inSample;
    private int[] outSample;
    private MemorySegment argmax;
    private int forwardBatch = -1;

    public MaxPool2d(String name, int kernel, int stride) {
        if (kernel < 1 || stride < 1) {
            throw new IllegalArgumentException(name + ": kernel and stride must be >= 1, got kernel=" + kernel
                    + " stride=" + stride);
        }
        this.name = name;
        this.kernel = kernel;
        this.stride = stride;
    }

    /** A layer named "maxpool". */
    public MaxPool2d(int kernel, int stride) {
        this("maxpool", kernel, stride);
    }

    /** The square window's side. */
    public int kernel() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        return Pooling.outputShape(name, inputShape, kernel, stride);
    }

    @Override
    public void build(int[] inputShape, int maxBatch, Kernels kernels, ParamSlab slab, Workspace scratch) {
        this.outSample = outputShape(inputShape);
        this.inSample = inputShape.clone();
        this.k = kernels;
        this.maxBatch = maxBatch;
        // ints in float-sized slots: Workspace hands out 4-byte-element segments
        this.argmax = scratch.allocateFloats((long) maxBatch * Tensor.sizeOf(outSample));
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        Layer.requireBatch(name, "input", x, inSample, maxBatch);
        int b = x.dim(0);
        Batches.requireExact(name, "output", y, outSample, b);
        int c = inSample[0];
        int h = inSample[1];
        int w = inSample[2];
        int oh = outSample[1];
        int ow = outSample[2];
        MemorySegment xs = x.segment();
        MemorySegment ys = y.segment();
        long o = 0;
        for (int n = 0; n < b; n++) {
            long base = x.offset() + (long) n * c * h * w;
            for (int ch = 0; ch < c; ch++) {
                int plane = ch * h * w;
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++, o++) {
                        int best = plane + i * stride * w + j * stride;
                        float max = xs.getAtIndex(JAVA_FLOAT, base + best);
                        for (int u = 0; u < kernel && !Float.isNaN(max); u++) {
                            int row = plane + (i * stride + u) * w + j * stride;
                            for (int v = 0; v < kernel; v++) {
                                float val = xs.getAtIndex(JAVA_FLOAT, base + row + v);
                                if (val > max || Float.isNaN(val)) {
                                    max = val;
                                    best = row + v;
                                    if (Float.isNaN(val)) {
                                        break;
                                    }
                                }
                            }
                        }
                        ys.setAtIndex(JAVA_FLOAT, y.offset() + o, max);
                        argmax.setAtIndex(JAVA_INT, o, best);
                    }
                }
            }
        }
        forwardBatch = b;
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        Layer.requireBatch(name, "input", x, inSample, maxBatch);
        int b = x.dim(0);
        Batches.requireExact(name, "output gradient", dy, outSample, b);
        if (b != forwardBatch) {
            throw new IllegalStateException(name + ": backward for a batch of " + b + " after a forward of " + forwardBatch);
        }
        if (dx == null) {
            return;
        }
        Batches.requireExact(name, "input gradient", dx, inSample, b);
        int inSize = (int) Tensor.sizeOf(inSample);
        int outSize = (int) Tensor.sizeOf(outSample);
        MemorySegment dys = dy.segment();
        MemorySegment dxs = dx.segment();
        k.elementwise().fill(b * inSize, 0f, dxs, dx.offset());
        long o = 0;
        for (int n = 0; n < b; n++) {
            long base = dx.offset() + (long) n * inSize;
            for (int q = 0; q < outSize; q++, o++) {
                long at = base + argmax.getAtIndex(JAVA_INT, o);
                dxs.setAtIndex(JAVA_FLOAT, at, dxs.getAtIndex(JAVA_FLOAT, at) + dys.getAtIndex(JAVA_FLOAT, dy.offset() + o));
            }
        }
    }
}
