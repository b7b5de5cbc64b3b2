package dev.latent.kernel.simd;

import dev.latent.kernel.KernelPool;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;

import dev.latent.kernel.Bounds;
import dev.latent.kernel.Gemm;
import dev.latent.kernel.Transpose;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packed, cache-blocked, register-blocked, multi-threaded SGEMM (the Goto / BLIS scheme) on row-major
 * segments. C is row-major, so vectors run along n (a row of op(B) and of C) and op(A) is the
 * broadcast operand.
 *
 * <pre>
 * for jc in n step NC                       B block  KC x NC   (L3, shared by the threads)
 *   for pc in k step kc (~KC, even split)   summation order over k is fixed: kc depends on k only
 *     for ic in m step MB                   A block  MB x KC   (L3/L2, shared)
 *       phase 1 (parallel): pack B (once per pc) and A into MR / NR micro-panels, zero padded;
 *                           the packing absorbs both transposes
 *       phase 2 (parallel): tiles of MCT x NCT of C; per tile, for each MR panel of A (MR x kc,
 *                           16 KiB: stays in L1), stream the tile's NR panels of B (kc x NCT,
 *                           512 KiB: stays in L2) through the micro-kernel
 * </pre>
 *
 * <p>Blocking for this machine (L1d 32 KiB, L2 1 MiB per core): KC = 512 keeps the A micro-panel
 * (MR x KC x 4 B = 16 KiB) in L1 while the B micro-panel (128 B per k step) streams from L2 with the
 * hardware prefetcher one step ahead; a C tile's B block (KC x NCT x 4 B = 512 KiB) plus its A block
 * (MCT x KC x 4 B = 128 KiB) fit the 1 MiB L2. Measured single-thread at 1024^3: KC 512 and 384 beat
 * 256 by about 8 % (C is read and written once per k block, and fewer blocks mean fewer fork-joins).
 * NC = 4096 and MB = 1024 only bound the shared pack buffers (8 MiB and 2 MiB, in L3). kc splits k
 * evenly (k = 784 gives two blocks of 392), so no block is a sliver.
 *
 * <p>Micro-kernel: MR = 8 rows x 2 vectors (NR = 2 x lanes) = 16 independent accumulators. An FMA has
 * 4 cycles latency and this Zen 4 core retires one 512-bit FMA per cycle (two 256-bit pipes,
 * double-pumped), so at least 4 chains (8 at 256 bits, where two issue per cycle) must be in flight;
 * 16 leaves room for the 2 B loads + 8 broadcasts per k step and uses 16 + 2 + 1 of the 32 vector
 * registers, so C2 never spills (a 14 x 2 tile did spill and ran 20x slower). 6x2, 12x2, 4x3 and 6x3
 * all measured the same ~115 GFLOP/s per core (the FMA ceiling); 8x2 keeps the panel math simple.
 *
 * <p>Edges: panels are zero padded, so the kernel always runs the full tile and only the write-back
 * changes: it skips rows past m and writes columns past the last full vector with scalar code that
 * does the same roundings as the vector lanes. Every C element is therefore computed by exactly one tile with
 * the same operation sequence (acc = fma(a_ip, b_pj, acc) over each kc block in order, then
 * C = alpha * acc + beta * C on the first block and C += alpha * acc after), whichever thread runs
 * it and however the tiles are scheduled: results are bitwise reproducible.
 *
 * <p>A B^T with at most one vector of columns and a long k (a thin convolution's weight gradient) goes
 * to {@link SimdDots} instead: contiguous dot products, no packing, no padded tile.
 *
 * <p>Allocation: the pack buffers and the job state live in one {@link Context} per calling thread,
 * allocated on first use and grown when a larger problem comes (at most MB x KC + KC x NC floats); the
 * pool's fork-join allocates nothing either, so a steady-state call allocates nothing here (the
 * shared {@code Bounds} checks currently build their operand-name strings eagerly, ~220 bytes a call).
 */
final class SimdGemm implements Gemm {

    private static final VectorSpecies<Float> F = SimdShape.FLOAT;
    private static final int L = SimdShape.LANES;
    /** Rows of the register tile. */
    static final int MR = 8;
    /** Columns of the register tile: two vectors. */
    static final int NR = 2 * L;
    /** Depth of one packed block (floats along k); the actual kc splits k evenly into blocks of at most KC. */
    static final int KC = 512;
    /** Rows of a C tile of the compute phase (multiple of MR). */
    static final int MCT = 64;
    /** Columns of a C tile of the compute phase (multiple of NR at every vector size). */
    static final int NCT = 256;
    /** Rows of op(A) packed at once. */
    static final int MB = 1024;
    /** Columns of op(B) packed at once (multiple of NCT). */
    static final int NC = 4096;
    /** A micro-panels per packing task. */
    private static final int A_PANELS_PER_TASK = 4;
    /**
     * Below this many multiply-adds (m*n*k = 2 Mi, ~40 us on one core) a call runs on the calling thread:
     * waking the pool and joining costs 10-20 us on an idle machine, and 128^3 was the measured
     * break-even (at 256^3 two threads win whenever the second core is actually free).
     */
    static final long PARALLEL_MIN = 1L << 21;
    /**
     * The single-row path streams op(B) once and is bound by memory bandwidth, which a second core on
     * the same L3 barely adds to: it goes parallel only for a B of 16 Mi floats or more.
     */
    static final long ROW_PARALLEL_MIN = 1L << 24;
    /** Columns per task of the single-row (GEMV-like) path (a multiple of 4 vectors at every size). */
    private static final int ROW_CHUNK = 256;

    /** Per-thread MR x NR staging tile between the register tile and C (MR*NR >= 4 vectors). */
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[MR * NR]);
    /** k steps of a transposed B panel staged at once (NR x STAGE_K floats per thread). */
    static final int STAGE_K = 64;
    private static final ThreadLocal<float[]> STAGE = ThreadLocal.withInitial(() -> new float[NR * STAGE_K]);
    /** Whether an MR-float vector is a hardware shape here (MR = 8 floats: 256 bits). */
    private static final boolean MR_VECTOR = SimdShape.BITS >= MR * Float.SIZE;
    /** MR float lanes, used only when {@link #MR_VECTOR}. */
    private static final VectorSpecies<Float> F_MR = FloatVector.SPECIES_256;

    private final KernelPool pool;
    private final ThreadLocal<Context> contexts = ThreadLocal.withInitial(Context::new);

    /** This GEMM on a pool of one thread (the caller): same tasks in the same order, so the same bits. */
    private volatile SimdGemm serial;

    SimdGemm(KernelPool pool) {
        this.pool = pool;
    }

    @Override
    public Optional<Gemm> singleThreaded() {
        if (pool.threads() == 1) {
            return Optional.of(this);
        }
        SimdGemm s = serial;
        if (s == null) {
            synchronized (this) {
                s = serial;
                if (s == null) {
                    s = new SimdGemm(new KernelPool(1));
                    serial = s;
                }
            }
        }
        return Optional.of(s);
    }

    @Override
    public void gemm(Transpose ta, Transpose tb, int m, int n, int k,
                     float alpha, MemorySegment a, long aOff, int lda,
                     MemorySegment b, long bOff, int ldb,
                     float beta, MemorySegment c, long cOff, int ldc) {
        Bounds.gemm(ta, tb, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0 || alpha == 0f) {
            scaleC(m, n, beta, c, cOff, ldc);
            return;
        }
        if (SimdDots.serves(ta == Transpose.T, tb == Transpose.T, n, k)) {
            SimdDots.nt(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        Context ctx = contexts.get();
        ctx.set(ta == Transpose.T, tb == Transpose.T, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        boolean parallel = (long) m * n * k >= (m == 1 ? ROW_PARALLEL_MIN : PARALLEL_MIN)
                && pool.shareable(a) && pool.shareable(b) && pool.shareable(c);
        try {
            if (m == 1) {
                ctx.singleRow(pool, parallel);
            } else {
                ctx.blocked(pool, parallel);
            }
        } finally {
            ctx.clear();
        }
    }

    /** C = beta * C over m x n (k == 0 or alpha == 0); beta == 0 writes zeros without reading. */
    private static void scaleC(int m, int n, float beta, MemorySegment c, long cOff, int ldc) {
        if (beta == 1f) {
            return;
        }
        for (int i = 0; i < m; i++) {
            long row = cOff + (long) i * ldc;
            if (beta == 0f) {
                SimdElementwise.fillRun(c, row, n, 0f);
            } else {
                SimdElementwise.loop(SimdElementwise.SCALE, n, beta, c, row * Float.BYTES, c, row * Float.BYTES,
                        c, row * Float.BYTES);
            }
        }
    }

    /** The arguments of one call, its pack buffers, and the phase being run: one per calling thread. */
    private static final class Context implements KernelPool.Task {
        private static final int PHASE_PACK = 0;
        private static final int PHASE_COMPUTE = 1;
        private static final int PHASE_ROW = 2;

        boolean transA;
        boolean transB;
        int m;
        int n;
        int k;
        float alpha;
        float beta;
        MemorySegment a;
        long aOff;
        int lda;
        MemorySegment b;
        long bOff;
        int ldb;
        MemorySegment c;
        long cOff;
        int ldc;

        float[] packA = new float[0];
        float[] packB = new float[0];
        float[] row = new float[0];

        int phase;
        int jc;
        int nc;
        int pc;
        int kc;
        int ic;
        int mc;
        boolean first;
        int bTasks;
        int aPanels;
        int tilesM;

        void set(boolean transA, boolean transB, int m, int n, int k, float alpha,
                 MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                 float beta, MemorySegment c, long cOff, int ldc) {
            this.transA = transA;
            this.transB = transB;
            this.m = m;
            this.n = n;
            this.k = k;
            this.alpha = alpha;
            this.a = a;
            this.aOff = aOff;
            this.lda = lda;
            this.b = b;
            this.bOff = bOff;
            this.ldb = ldb;
            this.beta = beta;
            this.c = c;
            this.cOff = cOff;
            this.ldc = ldc;
        }

        /** Drops the segment references so a finished call does not keep its memory reachable. */
        void clear() {
            a = null;
            b = null;
            c = null;
        }

        void blocked(KernelPool pool, boolean parallel) {
            int kBlocks = (k + KC - 1) / KC;
            int kcMax = (k + kBlocks - 1) / kBlocks;
            int mPanelsMax = (Math.min(m, MB) + MR - 1) / MR;
            int nPanelsMax = (Math.min(n, NC) + NR - 1) / NR;
            if (packA.length < mPanelsMax * MR * kcMax) {
                packA = new float[mPanelsMax * MR * kcMax];
            }
            if (packB.length < nPanelsMax * NR * kcMax) {
                packB = new float[nPanelsMax * NR * kcMax];
            }
            for (jc = 0; jc < n; jc += NC) {
                nc = Math.min(NC, n - jc);
                for (pc = 0; pc < k; pc += kc) {
                    kc = Math.min(kcMax, k - pc);
                    first = pc == 0;
                    for (ic = 0; ic < m; ic += MB) {
                        mc = Math.min(MB, m - ic);
                        bTasks = ic == 0 ? (nc + NR - 1) / NR : 0;
                        aPanels = (mc + MR - 1) / MR;
                        int aTasks = (aPanels + A_PANELS_PER_TASK - 1) / A_PANELS_PER_TASK;
                        phase = PHASE_PACK;
                        run(pool, parallel, bTasks + aTasks);
                        phase = PHASE_COMPUTE;
                        tilesM = (mc + MCT - 1) / MCT;
                        run(pool, parallel, tilesM * ((nc + NCT - 1) / NCT));
                    }
                }
            }
        }

        void singleRow(KernelPool pool, boolean parallel) {
            if (row.length < k) {
                row = new float[k];
            }
            for (int p = 0; p < k; p++) {
                row[p] = a.getAtIndex(JAVA_FLOAT, aOff + (transA ? (long) p * lda : p));
            }
            phase = PHASE_ROW;
            run(pool, parallel, (n + ROW_CHUNK - 1) / ROW_CHUNK);
        }

        private void run(KernelPool pool, boolean parallel, int tasks) {
            if (parallel) {
                pool.run(tasks, this);
            } else {
                for (int t = 0; t < tasks; t++) {
                    run(t);
                }
            }
        }

        @Override
        public void run(int t) {
            switch (phase) {
                case PHASE_PACK -> {
                    if (t < bTasks) {
                        packBPanel(t);
                    } else {
                        int p0 = (t - bTasks) * A_PANELS_PER_TASK;
                        for (int q = p0; q < Math.min(aPanels, p0 + A_PANELS_PER_TASK); q++) {
                            packAPanel(q);
                        }
                    }
                }
                // Column-major over tiles: consecutive tasks share the tile's B block (512 KiB, the larger
                // operand), which then stays in L2 and only the 128 KiB A block changes.
                case PHASE_COMPUTE -> computeTile(t % tilesM, t / tilesM);
                case PHASE_ROW -> rowChunk(t);
                default -> throw new IllegalStateException("phase " + phase);
            }
        }

        /** Packs rows [ic + q*MR, +MR) of op(A), columns [pc, pc + kc), as kc groups of MR floats. */
        private void packAPanel(int q) {
            float[] dst = packA;
            int base = q * MR * kc;
            int i0 = ic + q * MR;
            int rows = Math.min(MR, m - i0);
            int p0 = 0;
            if (!transA && rows == MR) {
                // Full panel: load L floats of each of the MR rows as vectors into a staging array, then
                // interleave array to array (no per-element segment checks).
                float[] stage = TILE.get();
                for (; p0 + L <= kc; p0 += L) {
                    for (int r = 0; r < MR; r++) {
                        long src = (aOff + (long) (i0 + r) * lda + pc + p0) * Float.BYTES;
                        FloatVector.fromMemorySegment(F, a, src, SimdShape.ORDER).intoArray(stage, r * L);
                    }
                    for (int e = 0, d = base + p0 * MR; e < L; e++, d += MR) {
                        for (int r = 0; r < MR; r++) {
                            dst[d + r] = stage[r * L + e];
                        }
                    }
                }
            }
            if (!transA) {
                for (int r = 0; r < rows; r++) {
                    long src = aOff + (long) (i0 + r) * lda + pc;
                    for (int p = p0, d = base + p0 * MR + r; p < kc; p++, d += MR) {
                        dst[d] = a.getAtIndex(JAVA_FLOAT, src + p);
                    }
                }
            } else if (rows == MR && MR_VECTOR) {
                // op(A) = A^T: the panel's MR floats of each k step are contiguous in A, one MR-lane load.
                long src = (aOff + (long) pc * lda + i0) * Float.BYTES;
                long step = (long) lda * Float.BYTES;
                for (int p = 0, d = base; p < kc; p++, d += MR, src += step) {
                    FloatVector.fromMemorySegment(F_MR, a, src, SimdShape.ORDER).intoArray(dst, d);
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    long src = aOff + (long) (pc + p) * lda + i0;
                    int d = base + p * MR;
                    for (int r = 0; r < rows; r++) {
                        dst[d + r] = a.getAtIndex(JAVA_FLOAT, src + r);
                    }
                }
            }
            if (rows < MR) {
                for (int p = 0; p < kc; p++) {
                    for (int r = rows; r < MR; r++) {
                        dst[base + p * MR + r] = 0f;
                    }
                }
            }
        }

        /** Packs columns [jc + s*NR, +NR) of op(B), rows [pc, pc + kc), as kc groups of NR floats. */
        private void packBPanel(int s) {
            float[] dst = packB;
            int base = s * NR * kc;
            int j0 = jc + s * NR;
            int cols = Math.min(NR, n - j0);
            if (!transB) {
                long vb = (long) L * Float.BYTES;
                long step = (long) ldb * Float.BYTES;
                long src = (bOff + (long) pc * ldb + j0) * Float.BYTES;
                if (cols == NR) {
                    for (int p = 0, d = base; p < kc; p++, d += NR, src += step) {
                        FloatVector.fromMemorySegment(F, b, src, SimdShape.ORDER).intoArray(dst, d);
                        FloatVector.fromMemorySegment(F, b, src + vb, SimdShape.ORDER).intoArray(dst, d + L);
                    }
                } else {
                    packBEdge(dst, base, j0, cols);
                }
            } else if (cols == NR) {
                packBTransposed(dst, base, j0);
            } else {
                for (int col = 0; col < cols; col++) {
                    long src = bOff + (long) (j0 + col) * ldb + pc;
                    for (int p = 0, d = base + col; p < kc; p++, d += NR) {
                        dst[d] = b.getAtIndex(JAVA_FLOAT, src + p);
                    }
                }
                if (cols < NR) {
                    for (int p = 0; p < kc; p++) {
                        for (int col = cols; col < NR; col++) {
                            dst[base + p * NR + col] = 0f;
                        }
                    }
                }
            }
        }

        /**
         * Edge panel of B (not transposed, cols < NR columns): each row's cols floats, then zeros
         * (MemorySegment.copy into the array would allocate a heap segment per row). Its own method with no data-dependent branch inside its loop: a
         * {@code col < cols ? load : 0} select in the loop let C2 hoist the load's bounds check over all
         * NR columns as a profiled loop predicate, which fails on B's last row (the padding lies past
         * the segment's end) and sent the whole method into a deoptimize / recompile loop.
         */
        private void packBEdge(float[] dst, int base, int j0, int cols) {
            long row = bOff + (long) pc * ldb + j0;
            for (int p = 0, d = base; p < kc; p++, d += NR, row += ldb) {
                for (int col = 0; col < cols; col++) {
                    dst[d + col] = b.getAtIndex(JAVA_FLOAT, row + col);
                }
                for (int col = cols; col < NR; col++) {
                    dst[d + col] = 0f;
                }
            }
        }

        /**
         * A full panel of op(B) = B^T (NR rows of the stored B, each contiguous in k): blocks of
         * {@link #STAGE_K} k steps are copied row by row into a per-thread staging array with vector
         * loads (8 KiB at 512 bits, in L1), then interleaved array to array. Per element this is one
         * plain array store instead of a checked segment read, which made this pack a fifth of W1's
         * GEMM time.
         */
        private void packBTransposed(float[] dst, int base, int j0) {
            float[] stage = STAGE.get();
            long rowBytes = (long) ldb * Float.BYTES;
            for (int p0 = 0; p0 < kc; p0 += STAGE_K) {
                int w = Math.min(STAGE_K, kc - p0);
                long src = (bOff + (long) j0 * ldb + pc + p0) * Float.BYTES;
                for (int col = 0; col < NR; col++, src += rowBytes) {
                    int q = 0;
                    int at = col * STAGE_K;
                    for (; q + L <= w; q += L) {
                        FloatVector.fromMemorySegment(F, b, src + (long) q * Float.BYTES, SimdShape.ORDER)
                                .intoArray(stage, at + q);
                    }
                    for (; q < w; q++) {
                        stage[at + q] = b.get(JAVA_FLOAT_UNALIGNED, src + (long) q * Float.BYTES);
                    }
                }
                for (int q = 0, d = base + p0 * NR; q < w; q++, d += NR) {
                    for (int col = 0; col < NR; col++) {
                        dst[d + col] = stage[col * STAGE_K + q];
                    }
                }
            }
        }

        /** One MCT x NCT tile of C: every MR panel of its rows against every NR panel of its columns. */
        private void computeTile(int ti, int tj) {
            int r0 = ti * MCT;
            int r1 = Math.min(mc, r0 + MCT);
            int c0 = tj * NCT;
            int c1 = Math.min(nc, c0 + NCT);
            float[] tile = TILE.get();
            for (int r = r0; r < r1; r += MR) {
                int ai = (r / MR) * MR * kc;
                int rows = Math.min(MR, r1 - r);
                long cRow = cOff + (long) (ic + r) * ldc + jc;
                for (int col = c0; col < c1; col += NR) {
                    microKernel(kc, packA, ai, packB, (col / NR) * NR * kc, tile);
                    updateC(tile, c, cRow + col, ldc, rows, Math.min(NR, c1 - col), alpha, beta, first);
                }
            }
        }

        /**
         * Columns [t*ROW_CHUNK, +ROW_CHUNK) of the single output row (m == 1): C = alpha * x op(B) + beta C
         * with x = op(A)'s row, copied to {@code row}; no packing, op(B) is streamed once. Kept above
         * C2's FreqInlineSize so it is compiled as a root (see {@link SimdGemm#updateC}).
         */
        private void rowChunk(int t) {
            int j0 = t * ROW_CHUNK;
            int j1 = Math.min(n, j0 + ROW_CHUNK);
            if (!transB) {
                float[] tile = TILE.get();
                int j = j0;
                for (; j + 4 * L <= j1; j += 4 * L) {
                    rowAxpy4(j, tile);
                    // 4L = 2 NR columns, written as two "rows" of NR that are NR apart in C.
                    updateC(tile, c, cOff + j, NR, 2, NR, alpha, beta, true);
                }
                for (; j < j1; j += L) {
                    rowAxpy1(j, Math.min(L, j1 - j), tile);
                    updateC(tile, c, cOff + j, 0, 1, Math.min(L, j1 - j), alpha, beta, true);
                }
            } else {
                // C[0, j] = dot(x, row j of the stored B), both contiguous; two accumulators.
                float[] x = row;
                for (int j = j0; j < j1; j++) {
                    long base = (bOff + (long) j * ldb) * Float.BYTES;
                    FloatVector s0 = FloatVector.zero(F);
                    FloatVector s1 = s0;
                    int p = 0;
                    for (int bound = k - 2 * L; p <= bound; p += 2 * L) {
                        s0 = FloatVector.fromArray(F, x, p).fma(FloatVector.fromMemorySegment(F, b, base + (long) p * Float.BYTES, SimdShape.ORDER), s0);
                        s1 = FloatVector.fromArray(F, x, p + L).fma(FloatVector.fromMemorySegment(F, b, base + (long) (p + L) * Float.BYTES, SimdShape.ORDER), s1);
                    }
                    for (int bound = k - L; p <= bound; p += L) {
                        s0 = FloatVector.fromArray(F, x, p).fma(FloatVector.fromMemorySegment(F, b, base + (long) p * Float.BYTES, SimdShape.ORDER), s0);
                    }
                    float sum = SimdMath.sum(s0.add(s1));
                    for (; p < k; p++) {
                        sum = SimdShape.fma(x[p], b.get(JAVA_FLOAT_UNALIGNED, base + (long) p * Float.BYTES), sum);
                    }
                    long ci = cOff + j;
                    float out = alpha * sum;
                    if (beta != 0f) {
                        out = SimdShape.fma(beta, c.getAtIndex(JAVA_FLOAT, ci), out);
                    }
                    c.setAtIndex(JAVA_FLOAT, ci, out);
                }
            }
        }

        /**
         * tile[0 .. 4L) = sum_p x[p] B[p, j .. j+4L) for B not transposed: four independent vector
         * accumulators swept down the k rows of B (4 chains cover the FMA latency at one row load per step).
         */
        private void rowAxpy4(int j, float[] tile) {
            FloatVector s0 = FloatVector.zero(F);
            FloatVector s1 = s0;
            FloatVector s2 = s0;
            FloatVector s3 = s0;
            float[] x = row;
            long vb = (long) L * Float.BYTES;
            long step = (long) ldb * Float.BYTES;
            long at = (bOff + j) * Float.BYTES;
            for (int p = 0; p < k; p++, at += step) {
                FloatVector xp = FloatVector.broadcast(F, x[p]);
                s0 = xp.fma(FloatVector.fromMemorySegment(F, b, at, SimdShape.ORDER), s0);
                s1 = xp.fma(FloatVector.fromMemorySegment(F, b, at + vb, SimdShape.ORDER), s1);
                s2 = xp.fma(FloatVector.fromMemorySegment(F, b, at + 2 * vb, SimdShape.ORDER), s2);
                s3 = xp.fma(FloatVector.fromMemorySegment(F, b, at + 3 * vb, SimdShape.ORDER), s3);
            }
            s0.intoArray(tile, 0);
            s1.intoArray(tile, L);
            s2.intoArray(tile, 2 * L);
            s3.intoArray(tile, 3 * L);
        }

        /** tile[0 .. w) = sum_p x[p] B[p, j .. j+w), w <= L: one vector, or scalar when w < L. */
        private void rowAxpy1(int j, int w, float[] tile) {
            FloatVector s0 = FloatVector.zero(F);
            float[] x = row;
            long step = (long) ldb * Float.BYTES;
            long at = (bOff + j) * Float.BYTES;
            if (w == L) {
                for (int p = 0; p < k; p++, at += step) {
                    s0 = FloatVector.broadcast(F, x[p]).fma(FloatVector.fromMemorySegment(F, b, at, SimdShape.ORDER), s0);
                }
            } else {
                // Edge (w < L): scalar, with the same fused roundings as the lanes, summed in the same order.
                long row = bOff + j;
                for (int q = 0; q < w; q++) {
                    float acc = 0f;
                    for (int p = 0; p < k; p++) {
                        acc = SimdShape.fma(x[p], b.getAtIndex(JAVA_FLOAT, row + (long) p * ldb + q), acc);
                    }
                    tile[q] = acc;
                }
                return;
            }
            s0.intoArray(tile, 0);
        }

    }

    /**
     * The register tile: 8 rows x 2 vectors of accumulators, summed over kc steps of the packed
     * panels (ap: MR floats per k step from ai, bp: NR floats per k step from bi), then stored to
     * {@code tile} (MR x NR, row-major). Vectors never cross a call boundary: a call that C2 does not
     * inline would box them, so the C update is a separate method reading {@code tile}.
     */
    static void microKernel(int kc, float[] ap, int ai, float[] bp, int bi, float[] tile) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        FloatVector c60 = FloatVector.zero(F), c61 = FloatVector.zero(F);
        FloatVector c70 = FloatVector.zero(F), c71 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int ao = ai + p * MR;
            int bo = bi + p * NR;
            FloatVector b0 = FloatVector.fromArray(F, bp, bo);
            FloatVector b1 = FloatVector.fromArray(F, bp, bo + 1 * L);
            FloatVector a;
            a = FloatVector.broadcast(F, ap[ao]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(F, ap[ao + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(F, ap[ao + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(F, ap[ao + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(F, ap[ao + 4]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(F, ap[ao + 5]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
            a = FloatVector.broadcast(F, ap[ao + 6]);
            c60 = a.fma(b0, c60);
            c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(F, ap[ao + 7]);
            c70 = a.fma(b0, c70);
            c71 = a.fma(b1, c71);
        }
        c00.intoArray(tile, 0 * NR);
        c01.intoArray(tile, 0 * NR + 1 * L);
        c10.intoArray(tile, 1 * NR);
        c11.intoArray(tile, 1 * NR + 1 * L);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + 1 * L);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + 1 * L);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + 1 * L);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + 1 * L);
        c60.intoArray(tile, 6 * NR);
        c61.intoArray(tile, 6 * NR + 1 * L);
        c70.intoArray(tile, 7 * NR);
        c71.intoArray(tile, 7 * NR + 1 * L);
    }

    /**
     * C[r, 0..cols) = alpha * tile[r, 0..cols) + (first ? beta * C : C) for r < rows, at float index idx
     * of C; beta == 0 on the first block never reads C. Columns past cols are not touched.
     *
     * <p>Deliberately larger than C2's FreqInlineSize (325 bytecodes, hence the unmasked full-tile path
     * spelled out): it is then compiled as a root of its own. Inlined deep into the pool's call chain,
     * the Vector API's internal call tree would exceed MaxInlineLevel and its vectors would be boxed.
     * (Nor may it grow much: unswitching the vector loop three ways pushed the inlined Vector API code
     * past C2's inlining budget and boxed vectors on every call.)
     */
    private static void updateC(float[] tile, MemorySegment c, long idx, int ldc, int rows, int cols,
                                float alpha, float beta, boolean first) {
        boolean read = !first || beta != 0f;
        boolean scale = first && beta != 1f;
        if (cols == NR) {
            FloatVector va = FloatVector.broadcast(F, alpha);
            FloatVector vb = FloatVector.broadcast(F, beta);
            long vl = (long) L * Float.BYTES;
            for (int r = 0; r < rows; r++) {
                long at = (idx + (long) r * ldc) * Float.BYTES;
                FloatVector acc0 = FloatVector.fromArray(F, tile, r * NR);
                FloatVector acc1 = FloatVector.fromArray(F, tile, r * NR + L);
                FloatVector prev0 = FloatVector.zero(F);
                FloatVector prev1 = prev0;
                if (read) {
                    prev0 = FloatVector.fromMemorySegment(F, c, at, SimdShape.ORDER);
                    prev1 = FloatVector.fromMemorySegment(F, c, at + vl, SimdShape.ORDER);
                    if (scale) {
                        prev0 = prev0.mul(vb);
                        prev1 = prev1.mul(vb);
                    }
                }
                acc0.fma(va, prev0).intoMemorySegment(c, at, SimdShape.ORDER);
                acc1.fma(va, prev1).intoMemorySegment(c, at + vl, SimdShape.ORDER);
            }
            return;
        }
        // Edge tile (cols < NR): scalar, with the same roundings as the vector lanes above (beta * C,
        // then one fused alpha * acc + prev), so edge elements get the same bits as interior ones. The
        // read / scale choices stay outside the loops: a branch inside them let C2 hoist the checks
        // under it as profiled loop predicates, which fail when a later call takes the other side.
        if (!read) {
            for (int r = 0; r < rows; r++) {
                long at = idx + (long) r * ldc;
                for (int j = 0, t = r * NR; j < cols; j++, t++) {
                    c.setAtIndex(JAVA_FLOAT, at + j, SimdShape.fma(tile[t], alpha, 0f));
                }
            }
        } else if (scale) {
            for (int r = 0; r < rows; r++) {
                long at = idx + (long) r * ldc;
                for (int j = 0, t = r * NR; j < cols; j++, t++) {
                    c.setAtIndex(JAVA_FLOAT, at + j, SimdShape.fma(tile[t], alpha, c.getAtIndex(JAVA_FLOAT, at + j) * beta));
                }
            }
        } else {
            for (int r = 0; r < rows; r++) {
                long at = idx + (long) r * ldc;
                for (int j = 0, t = r * NR; j < cols; j++, t++) {
                    c.setAtIndex(JAVA_FLOAT, at + j, SimdShape.fma(tile[t], alpha, c.getAtIndex(JAVA_FLOAT, at + j)));
                }
            }
        }
    }
}
