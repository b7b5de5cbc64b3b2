package dev.latent.kernel.simd;

import dev.latent.kernel.KernelPool;
import java.lang.foreign.MemorySegment;

/**
 * One element-wise loop (a level-1 op, an Adam or SGD step, an activation or its derivative) cut into
 * chunks and spread over the kernel pool. Every element's result depends on its own inputs only (the
 * loops round each element as their scalar twins do, tails included), so the bits do not depend on
 * how the chunks are shared out: a loop gives the same result on one thread or on all of them.
 *
 * <p>Why: on a training step of W1 (784-196-784) these loops, run on the calling thread alone, were a
 * third of the step's wall time while the other cores waited for the next GEMM. Loops shorter than
 * {@link #PARALLEL_MIN} floats stay on the caller (waking a worker costs more than they do).
 *
 * <p>No allocation: each calling thread reuses its own job (a pool task calling back into these
 * kernels runs on its own thread's job, serially, as the pool runs nested calls).
 */
final class ChunkJob implements KernelPool.Task {

    /** Floats below which a loop runs on the calling thread: 32 Ki, about 10-20 us of work. */
    static final int PARALLEL_MIN = 1 << 15;

    static final int LOOP = 0;
    static final int ADAM = 1;
    static final int SGD = 2;
    static final int FORWARD = 3;
    static final int BACKWARD = 4;
    /** A row-wise op: {@link SimdElementwise#loop} on each of n rows of cols floats, ld apart. */
    static final int ROWS = 5;

    private static final ThreadLocal<ChunkJob> JOBS = ThreadLocal.withInitial(ChunkJob::new);

    private int kind;
    private int op;
    private int n;
    private int chunk;
    private int cols;
    private long ldBytes;
    private float f0;
    private float f1;
    private float f2;
    private float f3;
    private float f4;
    private float f5;
    private MemorySegment s0;
    private MemorySegment s1;
    private MemorySegment s2;
    private MemorySegment s3;
    private long b0;
    private long b1;
    private long b2;
    private long b3;

    private ChunkJob() {
    }

    /** Whether a loop of n floats over these segments goes to the pool. */
    static boolean parallel(KernelPool pool, int n, MemorySegment x, MemorySegment y, MemorySegment z, MemorySegment w) {
        return n >= PARALLEL_MIN && pool.threads() > 1
                && pool.shareable(x) && pool.shareable(y) && pool.shareable(z) && pool.shareable(w);
    }

    /** {@link SimdElementwise#loop} over n floats at byte offsets, in chunks of chunk floats. */
    static void loop(KernelPool pool, int op, int n, int chunk, float alpha, MemorySegment x, long xb,
                     MemorySegment y, long yb, MemorySegment out, long ob) {
        ChunkJob j = JOBS.get();
        j.set(LOOP, op, n, chunk);
        j.f0 = alpha;
        j.segments(x, xb, y, yb, out, ob, null, 0);
        j.execute(pool);
    }

    /**
     * {@link SimdElementwise#loop} op on each of rows rows of cols floats: out row r at ob + r * ld,
     * x row r at xb + r * ld, y the same vector for every row (a bias) at yb; chunk rows per task.
     */
    static void rows(KernelPool pool, int op, int rows, int cols, long ld, int chunkRows, MemorySegment x, long xb,
                     MemorySegment y, long yb, MemorySegment out, long ob) {
        ChunkJob j = JOBS.get();
        j.set(ROWS, op, rows, chunkRows);
        j.cols = cols;
        j.ldBytes = ld * Float.BYTES;
        j.segments(x, xb, y, yb, out, ob, null, 0);
        j.execute(pool);
    }

    /** {@link SimdElementwise#adamChunk} over n floats at byte offsets. */
    static void adam(KernelPool pool, int n, int chunk, float b1, float c1, float b2, float c2, float step, float eps,
                     MemorySegment w, long wb, MemorySegment g, long gb, MemorySegment m, long mb,
                     MemorySegment v, long vb) {
        ChunkJob j = JOBS.get();
        j.set(ADAM, 0, n, chunk);
        j.f0 = b1;
        j.f1 = c1;
        j.f2 = b2;
        j.f3 = c2;
        j.f4 = step;
        j.f5 = eps;
        j.segments(w, wb, g, gb, m, mb, v, vb);
        j.execute(pool);
    }

    /** {@link SimdElementwise#sgdChunk} over n floats at byte offsets (vel at byte 0 when mode is 0). */
    static void sgd(KernelPool pool, int n, int chunk, float rate, float mu, int mode, MemorySegment w, long wb,
                    MemorySegment g, long gb, MemorySegment vel, long velB) {
        ChunkJob j = JOBS.get();
        j.set(SGD, mode, n, chunk);
        j.f0 = rate;
        j.f1 = mu;
        j.segments(w, wb, g, gb, vel, velB, null, 0);
        j.execute(pool);
    }

    /** {@link SimdActivations#forwardChunk} over n floats at byte offsets. */
    static void forward(KernelPool pool, int kindOfActivation, float slope, int n, int chunk,
                        MemorySegment z, long zb, MemorySegment a, long ab) {
        ChunkJob j = JOBS.get();
        j.set(FORWARD, kindOfActivation, n, chunk);
        j.f0 = slope;
        j.segments(z, zb, a, ab, null, 0, null, 0);
        j.execute(pool);
    }

    /** {@link SimdActivations#backwardChunk} over n floats at byte offsets. */
    static void backward(KernelPool pool, int kindOfActivation, float slope, int n, int chunk,
                         MemorySegment in, long xb, MemorySegment da, long gb, MemorySegment dz, long db) {
        ChunkJob j = JOBS.get();
        j.set(BACKWARD, kindOfActivation, n, chunk);
        j.f0 = slope;
        j.segments(in, xb, da, gb, dz, db, null, 0);
        j.execute(pool);
    }

    private void set(int kind, int op, int n, int chunk) {
        this.kind = kind;
        this.op = op;
        this.n = n;
        this.chunk = chunk;
    }

    private void segments(MemorySegment a, long ab, MemorySegment b, long bb, MemorySegment c, long cb,
                          MemorySegment d, long db) {
        s0 = a;
        b0 = ab;
        s1 = b;
        b1 = bb;
        s2 = c;
        b2 = cb;
        s3 = d;
        b3 = db;
    }

    private void execute(KernelPool pool) {
        try {
            pool.run((n + chunk - 1) / chunk, this);
        } finally {
            s0 = s1 = s2 = s3 = null;
        }
    }

    @Override
    public void run(int t) {
        int c = t * chunk;
        int len = Math.min(chunk, n - c);
        long o = (long) c * Float.BYTES;
        switch (kind) {
            case LOOP -> SimdElementwise.loop(op, len, f0, s0, b0 + o, s1, b1 + o, s2, b2 + o);
            case ADAM -> SimdElementwise.adamChunk(len, f0, f1, f2, f3, f4, f5, s0, b0 + o, s1, b1 + o,
                    s2, b2 + o, s3, b3 + o);
            case SGD -> SimdElementwise.sgdChunk(len, f0, f1, op, s0, b0 + o, s1, b1 + o, s2, op == 0 ? 0 : b2 + o);
            case FORWARD -> SimdActivations.forwardChunk(op, f0, len, s0, b0 + o, s1, b1 + o);
            case BACKWARD -> SimdActivations.backwardChunk(op, f0, len, s0, b0 + o, s1, b1 + o, s2, b2 + o);
            case ROWS -> {
                for (int r = c; r < c + len; r++) {
                    long at = r * ldBytes;
                    SimdElementwise.loop(op, cols, f0, s0, b0 + at, s1, b1, s2, b2 + at);
                }
            }
            default -> throw new IllegalStateException("chunk job kind " + kind);
        }
    }
}
