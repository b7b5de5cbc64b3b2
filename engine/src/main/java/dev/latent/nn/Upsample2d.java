package dev.latent.nn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;

/**
 * Nearest-neighbour upsampling by an integer factor (PyTorch's {@code Upsample(scale_factor=s,
 * mode='nearest')}). x (B, C, H, W), y (B, C, s*H, s*W): {@code y[n, c, i, j] = x[n, c, i / s, j / s]}
 * (integer division). Backward: {@code dx[n, c, i, j] = sum_{u, v < s} dy[n, c, i*s + u, j*s + v]},
 * summed in float in row-major order.
 */
public final class Upsample2d implements Layer {

    private final String name;
    private final int scale;
    private int maxBatch;
    private int[] inSample;
    private int[] outSample;

    public Upsample2d(String name, int scale) {
        if (scale < 1) {
            throw new IllegalArgumentException(name + ": scale must be >= 1, got " + scale);
        }
        this.name = name;
        this.scale = scale;
    }

    /** A layer named "upsample". */
    public Upsample2d(int scale) {
        this("upsample", scale);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int[] outputShape(int[] in) {
        if (in.length != 3 || in[0] < 1 || in[1] < 1 || in[2] < 1
                || (long) in[1] * scale * in[2] * scale * in[0] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + ": expects per-sample input [C, H, W] (upsampled by " + scale
                    + " to fewer than 2^31 elements) but got " + Tensor.format(in));
        }
        return new int[] {in[0], in[1] * scale, in[2] * scale};
    }

    @Override
    public void build(int[] inputShape, int maxBatch, Kernels kernels, ParamSlab slab, Workspace scratch) {
        this.outSample = outputShape(inputShape);
        this.inSample = inputShape.clone();
        this.maxBatch = maxBatch;
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        Layer.requireBatch(name, "input", x, inSample, maxBatch);
        int b = x.dim(0);
        Batches.requireExact(name, "output", y, outSample, b);
        int h = inSample[1];
        int w = inSample[2];
        int ow = outSample[2];
        MemorySegment xs = x.segment();
        MemorySegment ys = y.segment();
        long o = y.offset();
        for (int plane = 0; plane < b * inSample[0]; plane++) {
            long base = x.offset() + (long) plane * h * w;
            for (int i = 0; i < outSample[1]; i++) {
                long row = base + (long) (i / scale) * w;
                for (int j = 0; j < ow; j++, o++) {
                    ys.setAtIndex(JAVA_FLOAT, o, xs.getAtIndex(JAVA_FLOAT, row + j / scale));
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
        int ow = outSample[2];
        MemorySegment dys = dy.segment();
        MemorySegment dxs = dx.segment();
        long o = dx.offset();
        for (int plane = 0; plane < b * inSample[0]; plane++) {
            long base = dy.offset() + (long) plane * outSample[1] * ow;
            for (int i = 0; i < h; i++) {
                for (int j = 0; j < w; j++, o++) {
                    float sum = 0f;
                    for (int u = 0; u < scale; u++) {
                        long row = base + (long) (i * scale + u) * ow + j * scale;
                        for (int v = 0; v < scale; v++) {
                            sum += dys.getAtIndex(JAVA_FLOAT, row + v);
                        }
                    }
                    dxs.setAtIndex(JAVA_FLOAT, o, sum);
                }
            }
        }
    }
}
