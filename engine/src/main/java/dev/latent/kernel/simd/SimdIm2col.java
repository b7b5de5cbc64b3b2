package dev.latent.kernel.simd;

import dev.latent.kernel.KernelPool;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;

import dev.latent.kernel.Bounds;
import dev.latent.kernel.ConvGeometry;
import dev.latent.kernel.Im2col;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
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
    /**
     * Column floats one task of the batched kernels stages on the heap (K x samples*L): 256 KiB, so a
     * task's tile stays in L2 between the gather and the copy to (or from) the column matrix.
     */
    static final int TILE_FLOATS = 1 << 16;
    /** Geometries whose gather tables a thread keeps (a network has a few convolution layers). */
    private static final int GATHERS_PER_THREAD = 8;

    private final KernelPool pool;
    /**
     * {@code -Dlatent.im2col.parallel=false} runs the batched kernels on the calling thread only: for
     * experiments with a GEMM provider that keeps its own spinning threads (OpenBLAS), which the pool's
     * workers then compete with on a small machine.
     */
    static final boolean PARALLEL = Boolean.parseBoolean(System.getProperty("latent.im2col.parallel", "true"));
    private final ThreadLocal<BatchJob> jobs = ThreadLocal.withInitial(BatchJob::new);
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    SimdIm2col(KernelPool pool) {
        this.pool = pool;
    }

    /**
     * Batched im2col / col2im: the batch is cut into tasks of a few samples run on the pool. A task
     * copies its images to the heap, gathers (scatters) through the thread's {@link SimdConvGather} into
     * a heap tile K x (samples*L), and moves the tile to (from) the column matrix one row at a time.
     * Every element is computed by one task in the reference's order, so the bits do not depend on the
     * thread count.
     */
    @Override
    public void im2colBatch(ConvGeometry g, int nb, MemorySegment img, long imgOff, MemorySegment cols, long colsOff, int ld) {
        Im2col.checkBatch("im2colBatch", g, nb, img, imgOff, cols, colsOff, ld);
        runBatch(true, g, nb, img, imgOff, cols, colsOff, ld);
    }

    @Override
    public void col2imBatch(ConvGeometry g, int nb, MemorySegment cols, long colsOff, int ld, MemorySegment img, long imgOff) {
        Im2col.checkBatch("col2imBatch", g, nb, img, imgOff, cols, colsOff, ld);
        runBatch(false, g, nb, img, imgOff, cols, colsOff, ld);
    }

    private void runBatch(boolean forward, ConvGeometry g, int nb, MemorySegment img, long imgOff,
                          MemorySegment cols, long colsOff, int ld) {
        if (nb == 0) {
            return;
        }
        long perTile = Math.max(1, TILE_FLOATS / Math.max(1L, (long) g.colRows() * g.colCols()));
        int perThread = (nb + pool.threads() - 1) / pool.threads();
        int per = (int) Math.min(perTile, perThread);
        int tasks = (nb + per - 1) / per;
        BatchJob job = jobs.get();
        job.set(forward, g, nb, per, img, imgOff, cols, colsOff, ld);
        try {
            if (PARALLEL && tasks > 1 && pool.shareable(img) && pool.shareable(cols)) {
                pool.run(tasks, job.task);
            } else {
                for (int t = 0; t < tasks; t++) {
                    job.run(t);
                }
            }
        } finally {
            job.clear();
        }
    }

    /** One batched call's arguments, held in fields so that handing it to the pool allocates nothing. */
    private static final class BatchJob {
        final KernelPool.Task task = this::run;
        boolean forward;
        ConvGeometry g;
        int nb;
        int per;
        MemorySegment img;
        long imgOff;
        MemorySegment cols;
        long colsOff;
        int ld;

        void set(boolean forward, ConvGeometry g, int nb, int per, MemorySegment img, long imgOff,
                 MemorySegment cols, long colsOff, int ld) {
            this.forward = forward;
            this.g = g;
            this.nb = nb;
            this.per = per;
            this.img = img;
            this.imgOff = imgOff;
            this.cols = cols;
            this.colsOff = colsOff;
            this.ld = ld;
        }

        void clear() {
            g = null;
            img = null;
            cols = null;
        }

        /** Task t: samples [t*per, min(nb, (t+1)*per)). */
        void run(int t) {
            int n0 = t * per;
            int cnt = Math.min(per, nb - n0);
            int size = g.imageSize();
            int l = g.colCols();
            int k = g.colRows();
            int w = cnt * l;
            Scratch sc = SCRATCH.get();
            SimdConvGather gather = sc.gather(g);
            float[] images = sc.images(cnt * size);
            float[] tile = sc.tile(k * w);
            long image0 = (imgOff + (long) n0 * size) * Float.BYTES;
            if (forward) {
                MemorySegment.copy(img, JAVA_FLOAT, image0, images, 0, cnt * size);
                for (int j = 0; j < cnt; j++) {
                    gather.im2col(images, j * size, tile, j * l, w);
                }
                for (int r = 0; r < k; r++) {
                    MemorySegment.copy(tile, r * w, cols, JAVA_FLOAT, (colsOff + (long) r * ld + (long) n0 * l) * Float.BYTES, w);
                }
            } else {
                for (int r = 0; r < k; r++) {
                    MemorySegment.copy(cols, JAVA_FLOAT, (colsOff + (long) r * ld + (long) n0 * l) * Float.BYTES, tile, r * w, w);
                }
                Arrays.fill(images, 0, cnt * size, 0f);
                for (int j = 0; j < cnt; j++) {
                    gather.col2im(tile, j * l, w, images, j * size);
                }
                MemorySegment.copy(images, 0, img, JAVA_FLOAT, image0, cnt * size);
            }
        }
    }

    /** A thread's heap buffers: gather tables by geometry (most recent first) and the staging arrays. */
    private static final class Scratch {
        final SimdConvGather[] gathers = new SimdConvGather[GATHERS_PER_THREAD];
        float[] images = new float[0];
        float[] tile = new float[0];

        SimdConvGather gather(ConvGeometry g) {
            for (int i = 0; i < gathers.length && gathers[i] != null; i++) {
                if (gathers[i].geometry().equals(g)) {
                    SimdConvGather hit = gathers[i];
                    System.arraycopy(gathers, 0, gathers, 1, i);
                    gathers[0] = hit;
                    return hit;
                }
            }
            System.arraycopy(gathers, 0, gathers, 1, gathers.length - 1);
            gathers[0] = new SimdConvGather(g);
            return gathers[0];
        }

        float[] images(int n) {
            if (images.length < n) {
                images = new float[n];
            }
            return images;
        }

        float[] tile(int n) {
            if (tile.length < n) {
                tile = new float[n];
            }
            return tile;
        }
    }

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
        for (; x < n; x++) {
            long o = (long) x * Float.BYTES;
            dst.set(JAVA_FLOAT_UNALIGNED, db + o, dst.get(JAVA_FLOAT_UNALIGNED, db + o) + src.get(JAVA_FLOAT_UNALIGNED, sb + o));
        }
    }
}
