package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.kernel.Transpose;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A long short-term memory layer (Hochreiter &amp; Schmidhuber 1997, with a forget gate) run over whole
 * sequences. x (B, T, I), input weights W (4H, I), recurrent weights U (4H, H), bias b (4H),
 * y (B, T, H) the hidden state of every step. Gates in the order i, f, o, g:
 * <pre>
 *   z_t = x_t W^T + h_{t-1} U^T + b          (B, 4H)
 *   i, f, o = sigm(z_i, z_f, z_o); g = tanh(z_g)
 *   c_t = f c_{t-1} + i g;  h_t = o tanh(c_t);  y_t = h_t
 * </pre>
 * with the initial state (h_0, c_0) = {@link #initialHidden()}, {@link #initialCell()} (zero unless the
 * caller writes them before forward: how an encoder's final state starts a decoder).
 *
 * <p>Backward is backpropagation through time: from dh = dy_t + dh_{t+1} and dc_{t+1},
 * do = dh tanh(c_t), dc = dc_{t+1} + dh o (1 - tanh^2 c_t), di = dc g, dg = dc i, df = dc c_{t-1},
 * dz = (di i(1-i), df f(1-f), do o(1-o), dg (1-g^2)), dh_t = dz U, dc_t = dc f; then dW += dZ^T x,
 * dU += dZ^T h_prev, db += column sums of dZ and dx = dZ W as three GEMMs over all B T rows. The
 * gradients of the final state ({@link #finalHiddenGrad()}, {@link #finalCellGrad()}, zero unless the
 * caller writes them) enter the last step, and those of the initial state land in
 * {@link #initialHiddenGrad()}, {@link #initialCellGrad()}. The forward keeps the gates and cells of
 * the last batch for backward; the elementwise maps are plain loops in float with Math's exp and tanh.
 */
public final class Lstm implements Layer {

    private final String name;
    private final int steps;
    private final int in;
    private final int hidden;
    private final int[] inSample;
    private final int[] outSample;
    private Kernels k;
    private int maxBatch;
    private Param w;
    private Param u;
    private Param b;
    // (maxBatch, T, 4H) gate activations and their gradients; (maxBatch, T, H) cells, tanh of cells, h_{t-1}
    private Tensor gates;
    private Tensor dz;
    private Tensor cells;
    private Tensor tanhCells;
    private Tensor hPrev;
    private Tensor h0;
    private Tensor c0;
    private Tensor dh0;
    private Tensor dc0;
    private Tensor dhT;
    private Tensor dcT;
    private Tensor dh;
    private Tensor dc;

    /** An LSTM over sequences of {@code steps} steps of {@code in} features, with {@code hidden} units. */
    public Lstm(String name, int steps, int in, int hidden) {
        if (steps < 1 || in < 1 || hidden < 1) {
            throw new IllegalArgumentException(name + ": steps, input and hidden sizes must be >= 1, got " + steps + ", " + in + ", " + hidden);
        }
        this.name = name;
        this.steps = steps;
        this.in = in;
        this.hidden = hidden;
        this.inSample = new int[] {steps, in};
        this.outSample = new int[] {steps, hidden};
    }

    @Override
    public String name() {
        return name;
    }

    public int steps() {
        return steps;
    }

    public int hidden() {
        return hidden;
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        if (inputShape.length != 2 || inputShape[0] != steps || inputShape[1] != in) {
            throw new IllegalArgumentException(name + ": expects per-sample input [" + steps + ", " + in + "] but got "
                    + Tensor.format(inputShape));
        }
        return outSample.clone();
    }

    @Override
    public long paramCount(int[] inputShape) {
        return 4L * hidden * (in + hidden + 1);
    }

    @Override
    public void build(int[] inputShape, int maxBatch, Kernels kernels, ParamSlab slab, Workspace scratch) {
        outputShape(inputShape);
        this.k = kernels;
        this.maxBatch = maxBatch;
        this.w = slab.take(name + ".w", true, 4 * hidden, in);
        this.u = slab.take(name + ".u", true, 4 * hidden, hidden);
        this.b = slab.take(name + ".b", false, 4 * hidden);
        gates = scratch.allocate(maxBatch, steps, 4 * hidden);
        dz = scratch.allocate(maxBatch, steps, 4 * hidden);
        cells = scratch.allocate(maxBatch, steps, hidden);
        tanhCells = scratch.allocate(maxBatch, steps, hidden);
        hPrev = scratch.allocate(maxBatch, steps, hidden);
        h0 = scratch.allocate(maxBatch, hidden);
        c0 = scratch.allocate(maxBatch, hidden);
        dh0 = scratch.allocate(maxBatch, hidden);
        dc0 = scratch.allocate(maxBatch, hidden);
        dhT = scratch.allocate(maxBatch, hidden);
        dcT = scratch.allocate(maxBatch, hidden);
        dh = scratch.allocate(maxBatch, hidden);
        dc = scratch.allocate(maxBatch, hidden);
    }

    /** W, U ~ U(-1/sqrt(H), 1/sqrt(H)); b = 0 except the forget gate's bias 1 (Jozefowicz et al. 2015). */
    @Override
    public void init(SplittableRandom rnd) {
        double r = 1 / Math.sqrt(hidden);
        for (Param p : List.of(w, u)) {
            Tensor t = p.value();
            for (long i = 0; i < t.size(); i++) {
                t.set(i, (float) ((rnd.nextDouble() * 2 - 1) * r));
            }
        }
        b.value().fill(0f);
        for (int j = hidden; j < 2 * hidden; j++) {
            b.value().set(j, 1f);
        }
    }

    /** h_0 (maxBatch, H): written by the caller before forward; rows beyond the batch are ignored. */
    public Tensor initialHidden() {
        return h0;
    }

    /** c_0 (maxBatch, H). */
    public Tensor initialCell() {
        return c0;
    }

    /** dL/dh_0 (maxBatch, H) after backward. */
    public Tensor initialHiddenGrad() {
        return dh0;
    }

    /** dL/dc_0 (maxBatch, H) after backward. */
    public Tensor initialCellGrad() {
        return dc0;
    }

    /** c_T of the last forward (a view of (B, T, H) at step T-1: row stride T H). */
    public float finalCell(int row, int unit) {
        return cells.get(((long) row * steps + steps - 1) * hidden + unit);
    }

    /** dL/dh_T (maxBatch, H) beyond dy's last step, written by the caller before backward (zero by default). */
    public Tensor finalHiddenGrad() {
        return dhT;
    }

    /** dL/dc_T (maxBatch, H), written by the caller before backward (zero by default). */
    public Tensor finalCellGrad() {
        return dcT;
    }

    private static float sigm(float z) {
        return (float) (1 / (1 + Math.exp(-z)));
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        Layer.requireBatch(name, "input", x, inSample, maxBatch);
        int bs = x.dim(0);
        Batches.requireExact(name, "output", y, outSample, bs);
        int g4 = 4 * hidden;
        MemorySegment gs = gates.segment();
        long go = gates.offset();
        MemorySegment cs = cells.segment();
        MemorySegment ts = tanhCells.segment();
        MemorySegment ps = hPrev.segment();
        MemorySegment ys = y.segment();
        for (int t = 0; t < steps; t++) {
            // h_{t-1} into hPrev[:, t]
            for (int r = 0; r < bs; r++) {
                long dst = hPrev.offset() + ((long) r * steps + t) * hidden;
                if (t == 0) {
                    MemorySegment.copy(h0.segment(), ValueLayout.JAVA_FLOAT, (h0.offset() + (long) r * hidden) * 4, ps,
                            ValueLayout.JAVA_FLOAT, dst * 4, hidden);
                } else {
                    MemorySegment.copy(ys, ValueLayout.JAVA_FLOAT, (y.offset() + ((long) r * steps + t - 1) * hidden) * 4, ps,
                            ValueLayout.JAVA_FLOAT, dst * 4, hidden);
                }
            }
            long zt = go + (long) t * g4;
            k.gemm().gemm(Transpose.N, Transpose.T, bs, g4, in, 1f, x.segment(), x.offset() + (long) t * in, steps * in,
                    w.value().segment(), w.value().offset(), in, 0f, gs, zt, steps * g4);
            k.gemm().gemm(Transpose.N, Transpose.T, bs, g4, hidden, 1f, ps, hPrev.offset() + (long) t * hidden, steps * hidden,
                    u.value().segment(), u.value().offset(), hidden, 1f, gs, zt, steps * g4);
            k.elementwise().addBias(bs, g4, b.value().segment(), b.value().offset(), gs, zt, steps * g4);
            for (int r = 0; r < bs; r++) {
                long z = zt + (long) r * steps * g4;
                long cell = ((long) r * steps + t) * hidden;
                for (int j = 0; j < hidden; j++) {
                    float ig = sigm(gs.getAtIndex(ValueLayout.JAVA_FLOAT, z + j));
                    float fg = sigm(gs.getAtIndex(ValueLayout.JAVA_FLOAT, z + hidden + j));
                    float og = sigm(gs.getAtIndex(ValueLayout.JAVA_FLOAT, z + 2 * hidden + j));
                    float gg = (float) Math.tanh(gs.getAtIndex(ValueLayout.JAVA_FLOAT, z + 3 * hidden + j));
                    gs.setAtIndex(ValueLayout.JAVA_FLOAT, z + j, ig);
                    gs.setAtIndex(ValueLayout.JAVA_FLOAT, z + hidden + j, fg);
                    gs.setAtIndex(ValueLayout.JAVA_FLOAT, z + 2 * hidden + j, og);
                    gs.setAtIndex(ValueLayout.JAVA_FLOAT, z + 3 * hidden + j, gg);
                    float cPrev = t == 0 ? c0.get((long) r * hidden + j) : cs.getAtIndex(ValueLayout.JAVA_FLOAT, cells.offset() + cell - hidden + j);
                    float c = fg * cPrev + ig * gg;
                    float tc = (float) Math.tanh(c);
                    cs.setAtIndex(ValueLayout.JAVA_FLOAT, cells.offset() + cell + j, c);
                    ts.setAtIndex(ValueLayout.JAVA_FLOAT, tanhCells.offset() + cell + j, tc);
                    ys.setAtIndex(ValueLayout.JAVA_FLOAT, y.offset() + cell + j, og * tc);
                }
            }
        }
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        int bs = x.dim(0);
        int g4 = 4 * hidden;
        MemorySegment gs = gates.segment();
        MemorySegment zs = dz.segment();
        for (int r = 0; r < bs; r++) {
            for (int j = 0; j < hidden; j++) {
                long at = (long) r * hidden + j;
                dh.set(at, dhT.get(at));
                dc.set(at, dcT.get(at));
            }
        }
        for (int t = steps - 1; t >= 0; t--) {
            for (int r = 0; r < bs; r++) {
                long z = gates.offset() + ((long) r * steps + t) * g4;
                long zd = dz.offset() + ((long) r * steps + t) * g4;
                long cell = ((long) r * steps + t) * hidden;
                for (int j = 0; j < hidden; j++) {
                    long at = (long) r * hidden + j;
                    float ig = gs.getAtIndex(ValueLayout.JAVA_FLOAT, z + j);
                    float fg = gs.getAtIndex(ValueLayout.JAVA_FLOAT, z + hidden + j);
                    float og = gs.getAtIndex(ValueLayout.JAVA_FLOAT, z + 2 * hidden + j);
                    float gg = gs.getAtIndex(ValueLayout.JAVA_FLOAT, z + 3 * hidden + j);
                    float tc = tanhCells.get(cell + j);
                    float cPrev = t == 0 ? c0.get(at) : cells.get(cell - hidden + j);
                    float dhv = dy.get(cell + j) + dh.get(at);
                    float dov = dhv * tc;
                    float dcv = dc.get(at) + dhv * og * (1 - tc * tc);
                    zs.setAtIndex(ValueLayout.JAVA_FLOAT, zd + j, dcv * gg * ig * (1 - ig));
                    zs.setAtIndex(ValueLayout.JAVA_FLOAT, zd + hidden + j, dcv * cPrev * fg * (1 - fg));
                    zs.setAtIndex(ValueLayout.JAVA_FLOAT, zd + 2 * hidden + j, dov * og * (1 - og));
                    zs.setAtIndex(ValueLayout.JAVA_FLOAT, zd + 3 * hidden + j, dcv * ig * (1 - gg * gg));
                    dc.set(at, dcv * fg);
                }
            }
            // dh_{t-1} = dz_t U (B, H)
            k.gemm().gemm(Transpose.N, Transpose.N, bs, hidden, g4, 1f, zs, dz.offset() + (long) t * g4, steps * g4,
                    u.value().segment(), u.value().offset(), hidden, 0f, dh.segment(), dh.offset(), hidden);
        }
        dh0.rows(0, bs).copyFrom(dh.rows(0, bs));
        dc0.rows(0, bs).copyFrom(dc.rows(0, bs));
        int rows = bs * steps;
        // dW (4H, I) += dZ^T (4H, BT) x (BT, I); dU += dZ^T h_prev; db += colsums dZ
        k.gemm().gemm(Transpose.T, Transpose.N, g4, in, rows, 1f, zs, dz.offset(), g4, x.segment(), x.offset(), in, 1f,
                w.grad().segment(), w.grad().offset(), in);
        k.gemm().gemm(Transpose.T, Transpose.N, g4, hidden, rows, 1f, zs, dz.offset(), g4, hPrev.segment(), hPrev.offset(), hidden, 1f,
                u.grad().segment(), u.grad().offset(), hidden);
        k.reductions().colSums(rows, g4, zs, dz.offset(), g4, 1f, b.grad().segment(), b.grad().offset());
        if (dx != null) {
            k.gemm().gemm(Transpose.N, Transpose.N, rows, in, g4, 1f, zs, dz.offset(), g4, w.value().segment(), w.value().offset(), in,
                    0f, dx.segment(), dx.offset(), in);
        }
    }

    public Param inputWeight() {
        return w;
    }

    public Param recurrentWeight() {
        return u;
    }

    public Param bias() {
        return b;
    }

    @Override
    public List<Param> params() {
        return List.of(w, u, b);
    }
}
