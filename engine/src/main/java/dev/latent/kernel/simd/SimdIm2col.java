package dev.latent.kernel.simd;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Bounds;
import dev.latent.kernel.ConvGeometry;
import dev.latent.kernel.Im2col;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * im2col / col2im in the reference's loop order. For one kernel offset (i, j) and one output row y,
 * the output columns x whose source pixel lies inside the image form one interval [x0, x1); the rest
 * is padding. With strideW == 1 that interval maps to a contiguous image run, so it is one bulk copy
 * (im2col) or one vector add (col2im); larger strides gather element by element. col2im keeps the
 * reference's accumulation order per pixel, so both kernels equal the reference bit for bit.
 */
final class SimdIm2col implements Im2col {

    private static final VectorSpecies<Float> F = SimdShape.FLOAT;
    private static final int L = SimdShape.LANES;

    @Override
    public void im2col(ConvGeometry g, MemorySegment img, long imgOff, MemorySegment cols, long colsOff) {
        Bounds.run("im2col image", img, imgOff, g.imageSize());
        Bounds.run("im2col columns", cols, colsOff, (long) g.colRows() * g.colCols());
        int outH = g.outH();
        int outW = g.outW();
        int sw = g.strideW();
        for (int c = 0; c < g.channels(); c++) {
            for (int i = 0; i < g.kernelH(); i++) {
                for (int j = 0; j < g.kernelW(); j++) {
                    long row = colsOff + (((long) c * g.kernelH() + i) * g.kernelW() + j) * outH * outW;
                    int x0 = firstInside(j, g.padW(), sw, outW);
                    int x1 = endInside(j, g.padW(), sw, g.width(), outW);
                    for (int y = 0; y < outH; y++) {
                        int iy = y * g.strideH() - g.padH() + i;
                        long dst = row + (long) y * outW;
                        if (iy < 0 || iy >= g.height() || x0 >= x1) {
                            SimdElementwise.fillRun(cols, dst, outW, 0f);
                            continue;
                        }
                        SimdElementwise.fillRun(cols, dst, x0, 0f);
                        long src = imgOff + ((long) c * g.height() + iy) * g.width() + (long) x0 * sw - g.padW() + j;
                        if (sw == 1) {
                            MemorySegment.copy(img, src * Float.BYTES, cols, (dst + x0) * Float.BYTES,
                                    (long) (x1 - x0) * Float.BYTES);
                        } else {
                            for (int x = x0; x < x1; x++, src += sw) {
                                cols.setAtIndex(JAVA_FLOAT, dst + x, img.getAtIndex(JAVA_FLOAT, src));
                            }
                        }
                        SimdElementwise.fillRun(cols, dst + x1, outW - x1, 0f);
                    }
                }
            }
        }
    }

    @Override
    public void col2im(ConvGeometry g, MemorySegment cols, long colsOff, MemorySegment img, long imgOff) {
        Bounds.run("col2im image", img, imgOff, g.imageSize());
        Bounds.run("col2im columns", cols, colsOff, (long) g.colRows() * g.colCols());
        int outH = g.outH();
        int outW = g.outW();
        int sw = g.strideW();
        for (int c = 0; c < g.channels(); c++) {
            for (int i = 0; i < g.kernelH(); i++) {
                for (int j = 0; j < g.kernelW(); j++) {
                    long row = colsOff + (((long) c * g.kernelH() + i) * g.kernelW() + j) * outH * outW;
                    int x0 = firstInside(j, g.padW(), sw, outW);
                    int x1 = endInside(j, g.padW(), sw, g.width(), outW);
                    if (x0 >= x1) {
                        continue;
                    }
                    for (int y = 0; y < outH; y++) {
                        int iy = y * g.strideH() - g.padH() + i;
                        if (iy < 0 || iy >= g.height()) {
                            continue;
                        }
                        long src = row + (long) y * outW + x0;
                        long dst = imgOff + ((long) c * g.height() + iy) * g.width() + (long) x0 * sw - g.padW() + j;
                        if (sw == 1) {
                            addRun(x1 - x0, cols, src, img, dst);
                        } else {
                            for (int x = x0; x < x1; x++, src++, dst += sw) {
                                img.setAtIndex(JAVA_FLOAT, dst, img.getAtIndex(JAVA_FLOAT, dst) + cols.getAtIndex(JAVA_FLOAT, src));
                            }
                        }
                    }
                }
            }
        }
    }

    /** The first output column x with x*sw - pad + j >= 0 (clamped to [0, outW]). */
    private static int firstInside(int j, int pad, int sw, int outW) {
        int need = pad - j;
        return need <= 0 ? 0 : Math.min(outW, (need + sw - 1) / sw);
    }

    /** One past the last output column x with x*sw - pad + j < width (clamped to [0, outW]). */
    private static int endInside(int j, int pad, int sw, int width, int outW) {
        int limit = width + pad - j; // need x*sw < limit
        if (limit <= 0) {
            return 0;
        }
        return Math.min(outW, (limit - 1) / sw + 1);
    }

    /** dst[0..n) += src[0..n), float indices. */
    private static void addRun(int n, MemorySegment src, long srcIdx, MemorySegment dst, long dstIdx) {
        long sb = srcIdx * Float.BYTES;
        long db = dstIdx * Float.BYTES;
        int x = 0;
        for (int bound = F.loopBound(n); x < bound; x += L) {
            long o = (long) x * Float.BYTES;
            FloatVector.fromMemorySegment(F, dst, db + o, SimdShape.ORDER)
                    .add(FloatVector.fromMemorySegment(F, src, sb + o, SimdShape.ORDER))
                    .intoMemorySegment(dst, db + o, SimdShape.ORDER);
        }
        if (x < n) {
            VectorMask<Float> m = F.indexInRange(x, n);
            long o = (long) x * Float.BYTES;
            FloatVector.fromMemorySegment(F, dst, db + o, SimdShape.ORDER, m)
                    .add(FloatVector.fromMemorySegment(F, src, sb + o, SimdShape.ORDER, m))
                    .intoMemorySegment(dst, db + o, SimdShape.ORDER, m);
        }
    }
}
