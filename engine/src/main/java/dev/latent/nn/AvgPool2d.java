package dev.latent.nn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;

/**
 * Average pooling without padding (PyTorch's {@code AvgPool2d(kernel, stride)}, floor mode).
 * x (B, C, H, W), y (B, C, OH, OW) with OH = (H - k) / s + 1, likewise OW:
 * {@code y[n, c, i, j] = (1 / k^2) sum_{u, v < k} x[n, c, i*s + u, j*s + v]}.
 * Backward writes dx = 0, then adds dy[n, c, i, j] / k^2 to every element of the window.
 * The window sum is accumulated in float in row-major order, then divided by k^2.
 */
public final class AvgPool2d implements Layer {

    private final String name;
    private final int kernel;
    private final int stride;
    private Kernels k;
    private int maxBatch;
    private int[] inSample;
    private int[] outSample;

    public AvgPool2d(String name, int kernel, int stride) {
        if (kernel < 1 || stride < 1) {
            throw new IllegalArgumentException(name + ": kernel and stride must be >= 1, got kernel=" + kernel
                    + " stride=" + stride);
        }
        this.name = name;
        this.kernel = kernel;
        this.stride = stride;
    }

    /** A layer named "avgpool". */
    public AvgPool2d(int kernel, int stride) {
        this("avgpool", kernel, stride);
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
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        Layer.requireBatch(name, "input", x, inSample, maxBatch);
        int b = x.dim(0);
        Batches.requireExact(name, "output", y, outSample, b);
        int h = inSample[1];
        int w = inSample[2];
        int oh = outSample[1];
        int ow = outSample[2];
        float area = kernel * kernel;
        MemorySegment xs = x.segment();
        MemorySegment ys = y.segment();
        long o = y.offset();
        for (int plane = 0; plane < b * inSample[0]; plane++) {
            long base = x.offset() + (long) plane * h * w;
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++, o++) {
                    float sum = 0f;
                    for (int u = 0; u < kernel; u++) {
                        long row = base + (long) (i * stride + u) * w + j * stride;
                        for (int v = 0; v < kernel; v++) {
                            sum += xs.getAtIndex(JAVA_FLOAT, row + v);
                        }
                    }
                    ys.setAtIndex(JAVA_FLOAT, o, sum / area);
                }
            }
        }
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        Layer.requireBatch(name, "input", x, inSample, maxBatch);
        int b = x.dim(0);
        Batches.requireExact(name, "output gradient", dy, outSample, b);
        if (dx == null) {
            return;
        }
        Batches.requireExact(name, "input gradient", dx, inSample, b);
        int h = inSample[1];
        int w = inSample[2];
        int oh = outSample[1];
        int ow = outSample[2];
        float area = kernel * kernel;
        MemorySegment dys = dy.segment();
        MemorySegment dxs = dx.segment();
        k.elementwise().fill((int) dx.size(), 0f, dxs, dx.offset());
        long o = dy.offset();
        for (int plane = 0; plane < b * inSample[0]; plane++) {
            long base = dx.offset() + (long) plane * h * w;
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++, o++) {
                    float g = dys.getAtIndex(JAVA_FLOAT, o) / area;
                    for (int u = 0; u < kernel; u++) {
                        long row = base + (long) (i * stride + u) * w + j * stride;
                        for (int v = 0; v < kernel; v++) {
                            dxs.setAtIndex(JAVA_FLOAT, row + v, dxs.getAtIndex(JAVA_FLOAT, row + v) + g);
                        }
                    }
                }
            }
        }
    }
}
