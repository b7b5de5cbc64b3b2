package dev.latent.kernel.simd;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.latent.kernel.Activation;
import dev.latent.kernel.Bounds;
import dev.latent.kernel.KernelPool;
import dev.latent.kernel.PackedDense;
import dev.latent.kernel.PackedDense.Storage;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link PackedDense} in Vector API lanes: the serving path's dense layer (the {@code Encoder}'s).
 *
 * <p>Packing (once, at construction): W (out, in) becomes ceil(out / P) panels of P = 2 x lanes outputs,
 * each panel in x P floats, row p holding W[q P .. q P + P, p] (zero past out), so every k step of the
 * kernels reads 2 contiguous vectors and a panel is one sequential stream (in x 128 B at 512 bits,
 * 100 KB for in = 784: it stays in L2 while the rows of x pass). No per-call packing of W and no
 * transpose: the GEMM (N, T) the layer used to call re-packed W on every call.
 *
 * <pre>
 * n &gt;= MR rows: tasks = (ROW_CHUNK rows) x (PANEL_GROUP panels); per task, for each block of MR = 8
 *   rows (x rows in L1), for each panel: 8 rows x 2 vectors = 16 accumulators (16 FMAs per 2 loads and
 *   8 broadcasts: enough chains for 2 FMA pipes x 4 cycles), then the epilogue
 * n &lt; MR rows (batch 1) and the last n mod MR rows: per row, 4 panels at a time (8 accumulators,
 *   one broadcast of x[p] feeds 8 FMAs), the weights streamed once; the panels are split across the
 *   pool's threads, which is what makes batch 1 fast: it is bound by the rate W streams from L2/L3
 * epilogue: + b, then f by {@link SimdActivations#forwardChunk} on the row's outputs while in L1
 * </pre>
 *
 * <p>Bits: every y[i, j] is acc = fma(x[i, p], W[j, p], acc) for p = 0 .. in - 1 from acc = 0 (one chain
 * in both kernels), then acc + b[j], then f, whose lanes and scalar tails give the same bits. So an
 * element depends on its row only: not on n, the row's position, the task split or the thread.
 *
 * <p>Threads: the shared {@link KernelPool}, when n x in x out &gt;= {@link #PARALLEL_MIN} and the
 * pool may touch the segments; otherwise the calling thread. Allocation: one {@code Call} per calling
 * thread and one staging tile per executing thread on first use, nothing after.
 */
public final class SimdDense implements PackedDense {

    private static final VectorSpecies<Float> F = SimdShape.FLOAT;
    private static final int L = SimdShape.LANES;
    /** L bfloat16 weights (half the float vector's bits), widened to L ints, then shifted into floats. */
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(SimdShape.BITS / 2));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(SimdShape.BITS));
    /** Outputs per panel: two vectors. */
    static final int P = 2 * L;
    /** Rows of the batch kernel's register tile. */
    static final int MR = 8;
    /** Panels per step of the single-row kernel. */
    static final int ROW_PANELS = 4;
    /** Rows per task (a multiple of MR). */
    static final int ROW_CHUNK = 64;
    /** Panels per task (a multiple of ROW_PANELS): 8 x 100 KB of W for in = 784, within L2. */
    static final int PANEL_GROUP = 8;
    /** Panels per task when a call has fewer than MR rows (batch 1): small tasks so both cores stream. */
    static final int ROW_PANEL_GROUP = 4;
    /**
     * Below this many multiply-adds (n x in x out) a call runs on the calling thread: a fork-join costs
     * a few microseconds, which is what 128 Ki multiply-adds take on one core.
     */
    static final long PARALLEL_MIN = 1L << 17;

    private final int in;
    private final int out;
    private final int panels;
    private final MemorySegment w;
    private final MemorySegment bias;
    private final int kind;
    private final float slope;
    private final boolean identity;
    private final KernelPool pool;
    /** Whether {@link #w} holds bfloat16 weights (2 bytes each) instead of floats. */
    private final boolean bf16;
    private final ThreadLocal<Call> calls = ThreadLocal.withInitial(Call::new);
    /**
     * bfloat16 only, per executing thread: one panel widened to floats, for the batch kernel (each
     * panel is widened once per task and then read by all of the task's rows).
     */
    private final ThreadLocal<MemorySegment> widened;
    /**
     * Per executing thread (the caller's and the workers' tasks of one call run at once): MR x P floats,
     * the register tile on its way to y (vectors never cross a call).
     */
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[MR * P]);

    private SimdDense(int in, int out, MemorySegment w, MemorySegment bias, Activation f, KernelPool pool, boolean bf16) {
        this.bf16 = bf16;
        this.widened = bf16 ? ThreadLocal.withInitial(() -> Arena.ofAuto().allocate((long) in * P * Float.BYTES, 64)) : null;
        this.in = in;
        this.out = out;
        this.panels = (out + P - 1) / P;
        this.w = w;
        this.bias = bias;
        this.kind = f.kind().ordinal();
        this.slope = f.slope();
        this.identity = f.kind() == Activation.Kind.IDENTITY;
        this.pool = pool;
    }

    /** {@link #pack} as the {@link PackedDense.Packer} service (META-INF/services). */
    public static final class Packer implements PackedDense.Packer {
        @Override
        public PackedDense pack(int out, int in, MemorySegment w, long wOff, int ldw, MemorySegment b, long bOff, Activation f,
                                Storage storage, Arena arena) {
            return SimdDense.pack(out, in, w, wOff, ldw, b, bOff, f, storage, arena);
        }
    }

    /**
     * Packs W (out, in) at {@code wOff} with leading dimension {@code ldw} and b (out) at {@code bOff}
     * into memory of {@code arena} (which then owns it), for f, on the shared kernel pool.
     */
    public static SimdDense pack(int out, int in, MemorySegment weight, long wOff, int ldw, MemorySegment b, long bOff,
                                 Activation f, Arena arena) {
        return pack(out, in, weight, wOff, ldw, b, bOff, f, Storage.FLOAT32, arena);
    }

    /** {@link #pack(int, int, MemorySegment, long, int, MemorySegment, long, Activation, Arena)} with the weights stored as {@code storage}. */
    public static SimdDense pack(int out, int in, MemorySegment weight, long wOff, int ldw, MemorySegment b, long bOff,
                                 Activation f, Storage storage, Arena arena) {
        boolean half = storage == Storage.BFLOAT16;
        if (out < 1 || in < 1) {
            throw new IllegalArgumentException("dense layer must be at least 1 x 1, got " + out + " x " + in);
        }
        Bounds.matrix("dense W", weight, wOff, out, in, ldw);
        Bounds.run("dense b", b, bOff, out);
        int panels = (out + P - 1) / P;
        MemorySegment w = arena.allocate((long) panels * in * P * (half ? Short.BYTES : Float.BYTES), 64);
        MemorySegment bias = arena.allocate((long) panels * P * Float.BYTES, 64);
        for (int q = 0; q < panels; q++) {
            for (int j = 0; j < P; j++) {
                int o = q * P + j;
                if (o >= out) {
                    continue; // arena memory is zeroed: the padding stays 0
                }
                long src = wOff + (long) o * ldw;
                for (int p = 0; p < in; p++) {
                    long at = ((long) q * in + p) * P + j;
                    float v = weight.getAtIndex(JAVA_FLOAT, src + p);
                    if (half) {
                        w.setAtIndex(JAVA_SHORT, at, PackedDense.bfloat16Bits(v));
                    } else {
                        w.setAtIndex(JAVA_FLOAT, at, v);
                    }
                }
                bias.setAtIndex(JAVA_FLOAT, o, b.getAtIndex(JAVA_FLOAT, bOff + o));
            }
        }
        return new SimdDense(in, out, w, bias, f, KernelPool.SHARED, half);
    }

    @Override
    public Storage storage() {
        return bf16 ? Storage.BFLOAT16 : Storage.FLOAT32;
    }

    @Override
    public int in() {
        return in;
    }

    @Override
    public int out() {
        return out;
    }

    @Override
    public void forward(int n, MemorySegment x, long xOff, int ldx, MemorySegment y, long yOff, int ldy) {
        Bounds.count("dense n", n);
        Bounds.matrix("dense x", x, xOff, n, in, ldx);
        Bounds.matrix("dense y", y, yOff, n, out, ldy);
        if (n == 0) {
            return;
        }
        Call c = calls.get();
        c.n = n;
        c.x = x;
        c.xb = xOff * Float.BYTES;
        c.ldxb = (long) ldx * Float.BYTES;
        c.y = y;
        c.yb = yOff * Float.BYTES;
        c.ldyb = (long) ldy * Float.BYTES;
        c.group = n < MR ? ROW_PANEL_GROUP : PANEL_GROUP;
        c.groups = (panels + c.group - 1) / c.group;
        int chunks = n < MR ? 1 : (n + ROW_CHUNK - 1) / ROW_CHUNK;
        int tasks = chunks * c.groups;
        boolean parallel = (long) n * in * out >= PARALLEL_MIN && pool.threads() > 1
                && pool.shareable(x) && pool.shareable(y);
        try {
            if (parallel) {
                pool.run(tasks, c);
            } else {
                for (int t = 0; t < tasks; t++) {
                    c.run(t);
                }
            }
        } finally {
            c.x = null;
            c.y = null;
        }
    }

    /** The arguments of one call: one per calling thread. */
    private final class Call implements KernelPool.Task {
        int n;
        MemorySegment x;
        long xb;
        long ldxb;
        MemorySegment y;
        long yb;
        long ldyb;
        int group;
        int groups;

        @Override
        public void run(int t) {
            if (bf16) {
                runBf16(t);
                return;
            }
            float[] tile = TILE.get();
            int q0 = (t % groups) * group;
            int q1 = Math.min(panels, q0 + group);
            int r0 = (t / groups) * ROW_CHUNK;
            int r1 = Math.min(n, r0 + ROW_CHUNK);
            int r = r0;
            long panelBytes = (long) in * P * Float.BYTES;
            for (; r + MR <= r1; r += MR) {
                long xr = xb + r * ldxb;
                for (int q = q0; q < q1; q++) {
                    micro8(in, x, xr, ldxb, w, q * panelBytes, tile);
                    for (int i = 0; i < MR; i++) {
                        store(tile, i, r + i, q);
                    }
                }
                if (!identity) {
                    for (int i = 0; i < MR; i++) {
                        activate(r + i, q0, q1);
                    }
                }
            }
            for (; r < r1; r++) {
                long xr = xb + r * ldxb;
                int q = q0;
                for (; q + ROW_PANELS <= q1; q += ROW_PANELS) {
                    row4(in, x, xr, w, q * panelBytes, panelBytes, tile);
                    for (int i = 0; i < ROW_PANELS; i++) {
                        store(tile, i, r, q + i);
                    }
                }
                for (; q < q1; q++) {
                    row1(in, x, xr, w, q * panelBytes, tile);
                    store(tile, 0, r, q);
                }
                if (!identity) {
                    activate(r, q0, q1);
                }
            }
        }

        /**
         * {@link #run} on bfloat16 weights. Rows of 8 widen each panel once into this thread's float panel
         * and run the float kernels on it, panel by panel; fewer rows (batch 1) stream the 2-byte weights
         * through the widening kernels. Every element gets the float kernels' operation sequence on the
         * rounded weights, so the bits equal a float layer packed from them.
         */
        private void runBf16(int t) {
            float[] tile = TILE.get();
            int q0 = (t % groups) * group;
            int q1 = Math.min(panels, q0 + group);
            int r0 = (t / groups) * ROW_CHUNK;
            int r1 = Math.min(n, r0 + ROW_CHUNK);
            long panelHalves = (long) in * P * Short.BYTES;
            if (r1 - r0 >= MR) {
                MemorySegment panel = widened.get();
                for (int q = q0; q < q1; q++) {
                    widen(in * P, w, q * panelHalves, panel);
                    int r = r0;
                    for (; r + MR <= r1; r += MR) {
                        micro8(in, x, xb + r * ldxb, ldxb, panel, 0, tile);
                        for (int i = 0; i < MR; i++) {
                            store(tile, i, r + i, q);
                        }
                    }
                    for (; r < r1; r++) {
                        row1(in, x, xb + r * ldxb, panel, 0, tile);
                        store(tile, 0, r, q);
                    }
                }
            } else {
                for (int r = r0; r < r1; r++) {
                    long xr = xb + r * ldxb;
                    int q = q0;
                    for (; q + ROW_PANELS <= q1; q += ROW_PANELS) {
                        row4h(in, x, xr, w, q * panelHalves, panelHalves, tile);
                        for (int i = 0; i < ROW_PANELS; i++) {
                            store(tile, i, r, q + i);
                        }
                    }
                    for (; q < q1; q++) {
                        row1h(in, x, xr, w, q * panelHalves, tile);
                        store(tile, 0, r, q);
                    }
                }
            }
            if (!identity) {
                for (int r = r0; r < r1; r++) {
                    activate(r, q0, q1);
                }
            }
        }

        /** y[row, panel q] = tile row i + b (columns past out untouched). */
        private void store(float[] tile, int i, int row, int q) {
            int cols = Math.min(P, out - q * P);
            long at = yb + row * ldyb + (long) q * P * Float.BYTES;
            long bb = (long) q * P * Float.BYTES;
            int t = i * P;
            if (cols == P) {
                FloatVector.fromArray(F, tile, t).add(FloatVector.fromMemorySegment(F, bias, bb, SimdShape.ORDER))
                        .intoMemorySegment(y, at, SimdShape.ORDER);
                FloatVector.fromArray(F, tile, t + L).add(FloatVector.fromMemorySegment(F, bias, bb + (long) L * Float.BYTES,
                        SimdShape.ORDER)).intoMemorySegment(y, at + (long) L * Float.BYTES, SimdShape.ORDER);
            } else {
                for (int j = 0; j < cols; j++) {
                    y.set(JAVA_FLOAT_UNALIGNED, at + (long) j * Float.BYTES,
                            tile[t + j] + bias.getAtIndex(JAVA_FLOAT, (long) q * P + j));
                }
            }
        }

        /** f in place on y[row, panels q0 .. q1). */
        private void activate(int row, int q0, int q1) {
            int c0 = q0 * P;
            int cols = Math.min(out, q1 * P) - c0;
            long at = yb + row * ldyb + (long) c0 * Float.BYTES;
            SimdActivations.forwardChunk(kind, slope, cols, y, at, y, at);
        }
    }

    /**
     * tile[r P .. r P + P) = sum_p x[r, p] W-panel[p, 0 .. P) for the 8 rows at byte offset xr (stride
     * ldxb) and the panel at byte offset wb.
     */
    static void micro8(int in, MemorySegment x, long xr, long ldxb, MemorySegment w, long wb, float[] tile) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        FloatVector c60 = FloatVector.zero(F), c61 = FloatVector.zero(F);
        FloatVector c70 = FloatVector.zero(F), c71 = FloatVector.zero(F);
        long vb = (long) L * Float.BYTES;
        long x0 = xr;
        long x1 = x0 + ldxb;
        long x2 = x1 + ldxb;
        long x3 = x2 + ldxb;
        long x4 = x3 + ldxb;
        long x5 = x4 + ldxb;
        long x6 = x5 + ldxb;
        long x7 = x6 + ldxb;
        long wo = wb;
        for (int p = 0; p < in; p++, wo += 2 * vb) {
            long o = (long) p * Float.BYTES;
            FloatVector b0 = FloatVector.fromMemorySegment(F, w, wo, SimdShape.ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(F, w, wo + vb, SimdShape.ORDER);
            FloatVector a;
            a = FloatVector.broadcast(F, x.get(JAVA_FLOAT_UNALIGNED, x0 + o));
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(F, x.get(JAVA_FLOAT_UNALIGNED, x1 + o));
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(F, x.get(JAVA_FLOAT_UNALIGNED, x2 + o));
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(F, x.get(JAVA_FLOAT_UNALIGNED, x3 + o));
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(F, x.get(JAVA_FLOAT_UNALIGNED, x4 + o));
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(F, x.get(JAVA_FLOAT_UNALIGNED, x5 + o));
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
            a = FloatVector.broadcast(F, x.get(JAVA_FLOAT_UNALIGNED, x6 + o));
            c60 = a.fma(b0, c60);
            c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(F, x.get(JAVA_FLOAT_UNALIGNED, x7 + o));
            c70 = a.fma(b0, c70);
            c71 = a.fma(b1, c71);
        }
        c00.intoArray(tile, 0 * P);
        c01.intoArray(tile, 0 * P + L);
        c10.intoArray(tile, 1 * P);
        c11.intoArray(tile, 1 * P + L);
        c20.intoArray(tile, 2 * P);
        c21.intoArray(tile, 2 * P + L);
        c30.intoArray(tile, 3 * P);
        c31.intoArray(tile, 3 * P + L);
        c40.intoArray(tile, 4 * P);
        c41.intoArray(tile, 4 * P + L);
        c50.intoArray(tile, 5 * P);
        c51.intoArray(tile, 5 * P + L);
        c60.intoArray(tile, 6 * P);
        c61.intoArray(tile, 6 * P + L);
        c70.intoArray(tile, 7 * P);
        c71.intoArray(tile, 7 * P + L);
    }

    /**
     * tile[i P .. i P + P) = sum_p x[p] W-panel q+i [p, 0 .. P) for i &lt; 4: one row (at byte offset xr)
     * against 4 panels (the first at byte offset wb, panelBytes apart); 8 accumulators.
     */
    static void row4(int in, MemorySegment x, long xr, MemorySegment w, long wb, long panelBytes, float[] tile) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        long vb = (long) L * Float.BYTES;
        long w0 = wb;
        long w1 = w0 + panelBytes;
        long w2 = w1 + panelBytes;
        long w3 = w2 + panelBytes;
        for (int p = 0; p < in; p++) {
            long o = (long) p * 2 * vb;
            FloatVector a = FloatVector.broadcast(F, x.get(JAVA_FLOAT_UNALIGNED, xr + (long) p * Float.BYTES));
            c00 = a.fma(FloatVector.fromMemorySegment(F, w, w0 + o, SimdShape.ORDER), c00);
            c01 = a.fma(FloatVector.fromMemorySegment(F, w, w0 + o + vb, SimdShape.ORDER), c01);
            c10 = a.fma(FloatVector.fromMemorySegment(F, w, w1 + o, SimdShape.ORDER), c10);
            c11 = a.fma(FloatVector.fromMemorySegment(F, w, w1 + o + vb, SimdShape.ORDER), c11);
            c20 = a.fma(FloatVector.fromMemorySegment(F, w, w2 + o, SimdShape.ORDER), c20);
            c21 = a.fma(FloatVector.fromMemorySegment(F, w, w2 + o + vb, SimdShape.ORDER), c21);
            c30 = a.fma(FloatVector.fromMemorySegment(F, w, w3 + o, SimdShape.ORDER), c30);
            c31 = a.fma(FloatVector.fromMemorySegment(F, w, w3 + o + vb, SimdShape.ORDER), c31);
        }
        c00.intoArray(tile, 0 * P);
        c01.intoArray(tile, 0 * P + L);
        c10.intoArray(tile, 1 * P);
        c11.intoArray(tile, 1 * P + L);
        c20.intoArray(tile, 2 * P);
        c21.intoArray(tile, 2 * P + L);
        c30.intoArray(tile, 3 * P);
        c31.intoArray(tile, 3 * P + L);
    }

    /** tile[0 .. P) = sum_p x[p] W-panel[p, 0 .. P): one row against one panel (the last few). */
    static void row1(int in, MemorySegment x, long xr, MemorySegment w, long wb, float[] tile) {
        FloatVector c0 = FloatVector.zero(F);
        FloatVector c1 = FloatVector.zero(F);
        long vb = (long) L * Float.BYTES;
        long wo = wb;
        for (int p = 0; p < in; p++, wo += 2 * vb) {
            FloatVector a = FloatVector.broadcast(F, x.get(JAVA_FLOAT_UNALIGNED, xr + (long) p * Float.BYTES));
            c0 = a.fma(FloatVector.fromMemorySegment(F, w, wo, SimdShape.ORDER), c0);
            c1 = a.fma(FloatVector.fromMemorySegment(F, w, wo + vb, SimdShape.ORDER), c1);
        }
        c0.intoArray(tile, 0);
        c1.intoArray(tile, L);
    }

    /** dst[0 .. count) = the bfloat16 weights at byte offset src of w, as floats (count a multiple of L). */
    static void widen(int count, MemorySegment w, long src, MemorySegment dst) {
        long hb = (long) L * Short.BYTES;
        long fb = (long) L * Float.BYTES;
        for (int i = 0; i < count; i += L) {
            ((IntVector) ShortVector.fromMemorySegment(H, w, src + (i / L) * hb, SimdShape.ORDER).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoMemorySegment(dst, (i / L) * fb, SimdShape.ORDER);
        }
    }

    /**
     * {@link #row4} on bfloat16 panels (byte offset wb, panelBytes apart): each weight vector is L shorts
     * widened to ints and shifted up 16 bits, which is the float the weight was rounded to. The widening
     * is written out at every load (no helper: a helper returning a vector that C2 does not inline boxes).
     */
    static void row4h(int in, MemorySegment x, long xr, MemorySegment w, long wb, long panelBytes, float[] tile) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        long vb = (long) L * Short.BYTES;
        long w0 = wb;
        long w1 = w0 + panelBytes;
        long w2 = w1 + panelBytes;
        long w3 = w2 + panelBytes;
        for (int p = 0; p < in; p++) {
            long o = (long) p * 2 * vb;
            FloatVector a = FloatVector.broadcast(F, x.get(JAVA_FLOAT_UNALIGNED, xr + (long) p * Float.BYTES));
            c00 = a.fma(((IntVector) ShortVector.fromMemorySegment(H, w, w0 + o, SimdShape.ORDER).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), c00);
            c01 = a.fma(((IntVector) ShortVector.fromMemorySegment(H, w, w0 + o + vb, SimdShape.ORDER).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), c01);
            c10 = a.fma(((IntVector) ShortVector.fromMemorySegment(H, w, w1 + o, SimdShape.ORDER).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), c10);
            c11 = a.fma(((IntVector) ShortVector.fromMemorySegment(H, w, w1 + o + vb, SimdShape.ORDER).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), c11);
            c20 = a.fma(((IntVector) ShortVector.fromMemorySegment(H, w, w2 + o, SimdShape.ORDER).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), c20);
            c21 = a.fma(((IntVector) ShortVector.fromMemorySegment(H, w, w2 + o + vb, SimdShape.ORDER).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), c21);
            c30 = a.fma(((IntVector) ShortVector.fromMemorySegment(H, w, w3 + o, SimdShape.ORDER).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), c30);
            c31 = a.fma(((IntVector) ShortVector.fromMemorySegment(H, w, w3 + o + vb, SimdShape.ORDER).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), c31);
        }
        c00.intoArray(tile, 0 * P);
        c01.intoArray(tile, 0 * P + L);
        c10.intoArray(tile, 1 * P);
        c11.intoArray(tile, 1 * P + L);
        c20.intoArray(tile, 2 * P);
        c21.intoArray(tile, 2 * P + L);
        c30.intoArray(tile, 3 * P);
        c31.intoArray(tile, 3 * P + L);
    }

    /** {@link #row1} on a bfloat16 panel at byte offset wb. */
    static void row1h(int in, MemorySegment x, long xr, MemorySegment w, long wb, float[] tile) {
        FloatVector c0 = FloatVector.zero(F);
        FloatVector c1 = FloatVector.zero(F);
        long vb = (long) L * Short.BYTES;
        long wo = wb;
        for (int p = 0; p < in; p++, wo += 2 * vb) {
            FloatVector a = FloatVector.broadcast(F, x.get(JAVA_FLOAT_UNALIGNED, xr + (long) p * Float.BYTES));
            c0 = a.fma(((IntVector) ShortVector.fromMemorySegment(H, w, wo, SimdShape.ORDER).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), c0);
            c1 = a.fma(((IntVector) ShortVector.fromMemorySegment(H, w, wo + vb, SimdShape.ORDER).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), c1);
        }
        c0.intoArray(tile, 0);
        c1.intoArray(tile, L);
    }
}
