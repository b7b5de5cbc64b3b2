package dev.latent.nn;

import dev.latent.kernel.Gemm;
import dev.latent.kernel.KernelPool;
import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * How {@link Conv2d} and {@link ConvTranspose2d} split a batch: into chunks of samples, each chunk one
 * task on the kernel pool that runs its whole pipeline (layout, im2col, a single-threaded GEMM, col2im)
 * on one core with that core's own column scratch, instead of one multi-threaded GEMM per chunk between
 * single-threaded data movement. One fork-join per layer call; the thin GEMMs of small convolutions
 * (K = 9, OC = 1) and the im2col/col2im passes then scale with the cores as well.
 *
 * <p>The bits do not depend on the threads: a chunk's samples and its order of operations are fixed by
 * the batch size and {@link #chunk} (never by the thread count), each chunk's weight and bias gradients
 * go to a partial of its own, and {@link #addPartials} adds the partials to the gradient in chunk order.
 * With a provider that has no single-threaded GEMM (OpenBLAS starts threads of its own) the chunks run
 * one after another on the caller with the provider's GEMM, through the same code. Nothing here
 * allocates after construction.
 */
final class ConvChunks implements KernelPool.Task {

    /** The work of one chunk: samples [n0, n0 + nb) of the running call, with a scratch slot of its own. */
    @FunctionalInterface
    interface Body {
        void run(int c, int n0, int nb, Tensor cols, Tensor rows);
    }

    /**
     * At least this many chunks for a full batch (when it has that many samples): enough tasks that a
     * core that is busy elsewhere simply takes fewer of them.
     */
    static final int MIN_CHUNKS = 8;

    /**
     * At least this many GEMM columns (samples x output pixels) a chunk, when the batch has them: each
     * chunk's GEMM packs the whole weight matrix again, which for a layer with few output pixels (a
     * DCGAN's 4 x 4) costs more than the products of a chunk of a few samples.
     */
    static final int MIN_COLUMNS = Integer.getInteger("latent.conv.minColumns", 512);

    private final Kernels kernels;
    private final KernelPool pool;
    private final Gemm gemm;
    private final boolean parallel;
    private final int chunk;
    private final Tensor[] cols;
    private final Tensor[] rows;
    private final AtomicIntegerArray busy;
    private final Tensor partialW;
    private final Tensor partialB;
    private final int wSize;
    private final int bSize;
    private int per;
    private int count;
    /** The GEMM of the running batch's chunks. */
    private Gemm active;
    /** The running call: its input, the other tensors its chunks read or write (null: none), its body. */
    private Tensor x;
    private Tensor a;
    private Tensor b;
    private Body body;
    private final KernelPool.Task chunkTask = this::runChunk;
    /** The running {@link #addPartials} job: destination, source partials, length. */
    private Tensor reduceDst;
    private Tensor reduceSrc;
    private int reduceLen;

    /**
     * Scratch for a layer whose column matrix has {@code colRows} x {@code colCols} floats a sample and
     * whose channel-major rows matrix {@code rowChannels} rows; weight gradients of {@code wSize} floats
     * and bias gradients of {@code bSize} (0: none).
     */
    ConvChunks(Kernels kernels, int maxBatch, int colRows, int colCols, int rowChannels, int wSize, int bSize, Workspace scratch) {
        this.kernels = kernels;
        this.pool = kernels.pool();
        Gemm serial = kernels.gemm().singleThreaded().orElse(null);
        this.parallel = serial != null && pool.threads() > 1;
        this.gemm = parallel ? serial : kernels.gemm();
        int byCache = ConvColumns.chunk(maxBatch, (long) colRows * colCols);
        int wide = (int) Math.min(maxBatch, (MIN_COLUMNS + colCols - 1) / colCols);
        this.chunk = Math.max(1, Math.min(byCache, Math.max((maxBatch + MIN_CHUNKS - 1) / MIN_CHUNKS, wide)));
        int maxChunks = (maxBatch + chunk - 1) / chunk;
        int slots = parallel ? pool.threads() : 1;
        this.cols = new Tensor[slots];
        this.rows = new Tensor[slots];
        for (int s = 0; s < slots; s++) {
            cols[s] = scratch.allocate(colRows, chunk * colCols);
            rows[s] = scratch.allocate(rowChannels, chunk * colCols);
        }
        this.busy = new AtomicIntegerArray(slots);
        this.wSize = wSize;
        this.bSize = bSize;
        this.partialW = scratch.allocate(maxChunks, wSize);
        this.partialB = bSize > 0 ? scratch.allocate(maxChunks, bSize) : null;
    }

    /** Whether the pool's workers may touch t (null: nothing to touch). */
    private boolean shareable(Tensor t) {
        return t == null || pool.shareable(t.segment());
    }

    /**
     * Runs {@code body} on every chunk of the batch in x (its first dimension): on the pool when the
     * workers may touch x, a, b and the weight's value and gradient, else on the caller. The body reads
     * the call's tensors through {@link #x}, {@link #a} and {@link #b} (a, b may be null).
     */
    void run(Tensor x, Tensor a, Tensor b, Param weight, Body body) {
        int batch = x.dim(0);
        per = ConvColumns.per(batch, chunk);
        count = (batch + per - 1) / per;
        // One chunk: the provider's own (multi-threaded) GEMM, which has the same bits as its serial one.
        active = count == 1 ? kernels.gemm() : gemm;
        this.x = x;
        this.a = a;
        this.b = b;
        this.body = body;
        try {
            if (parallel && count > 1 && shareable(x) && shareable(a) && shareable(b) && shareable(weight.value())
                    && shareable(weight.grad())) {
                pool.run(count, chunkTask);
            } else {
                for (int c = 0; c < count; c++) {
                    runChunk(c);
                }
            }
        } finally {
            this.x = null;
            this.a = null;
            this.b = null;
            this.body = null;
        }
    }

    /** Chunk c of the running call, in a free scratch slot (at most threads() tasks run at once). */
    private void runChunk(int c) {
        int n0 = c * per;
        int nb = Math.min(per, x.dim(0) - n0);
        int slot = acquire();
        try {
            body.run(c, n0, nb, cols[slot], rows[slot]);
        } finally {
            busy.set(slot, 0);
        }
    }

    /** The running call's input. */
    Tensor x() {
        return x;
    }

    /** The running call's second tensor (y forward, dy backward). */
    Tensor a() {
        return a;
    }

    /** The running call's third tensor (dx backward; may be null). */
    Tensor b() {
        return b;
    }

    /** The GEMM a chunk task calls: single-threaded when the chunks run in parallel. */
    Gemm gemm() {
        return active;
    }

    /** A free scratch slot for the calling task. */
    private int acquire() {
        while (true) {
            for (int s = 0; s < cols.length; s++) {
                if (busy.get(s) == 0 && busy.compareAndSet(s, 0, 1)) {
                    return s;
                }
            }
            Thread.onSpinWait(); // at most threads() tasks run at once, so a slot is free or about to be
        }
    }

    /** Offset (floats) of chunk c's weight-gradient partial in {@link #partialW()}. */
    long weightPartial(int c) {
        return partialW.offset() + (long) c * wSize;
    }

    Tensor partialW() {
        return partialW;
    }

    /** Offset (floats) of chunk c's bias-gradient partial in {@link #partialB()}. */
    long biasPartial(int c) {
        return partialB.offset() + (long) c * bSize;
    }

    Tensor partialB() {
        return partialB;
    }

    /** grad += the running batch's weight partials, then (when there is one) bias += its bias partials, in chunk order. */
    void addPartials(Tensor weightGrad, Tensor biasGrad) {
        reduce(weightGrad, partialW, wSize);
        if (biasGrad != null) {
            reduce(biasGrad, partialB, bSize);
        }
    }

    /** Floats per reduction task: one page-sized range per task keeps the tasks few. */
    private static final int RANGE = 4096;

    private void reduce(Tensor dst, Tensor src, int len) {
        reduceDst = dst;
        reduceSrc = src;
        reduceLen = len;
        int tasks = (len + RANGE - 1) / RANGE;
        if (parallel && tasks > 1 && pool.shareable(dst.segment())) {
            pool.run(tasks, this);
        } else {
            for (int t = 0; t < tasks; t++) {
                run(t);
            }
        }
        reduceDst = null;
        reduceSrc = null;
    }

    /** Reduction task t: elements [t*RANGE, ...) of the destination, each summed over the chunks in order. */
    @Override
    public void run(int t) {
        int from = t * RANGE;
        int n = Math.min(RANGE, reduceLen - from);
        for (int c = 0; c < count; c++) {
            kernels.elementwise().axpy(n, 1f, reduceSrc.segment(), reduceSrc.offset() + (long) c * reduceLen + from,
                    reduceDst.segment(), reduceDst.offset() + from);
        }
    }
}
