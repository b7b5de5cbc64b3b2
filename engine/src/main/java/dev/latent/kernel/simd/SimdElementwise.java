package dev.latent.kernel.simd;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;

import dev.latent.kernel.Bounds;
import dev.latent.kernel.Elementwise;
import dev.latent.kernel.KernelPool;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Level-1 loops: a vector body up to {@code loopBound}, then a scalar tail with the same roundings (no
 * masked accesses: near a segment's end they leave the intrinsic path and allocate). Every method but
 * {@link #dot} rounds each element exactly as the written formula does (axpy is a multiply then an
 * add, not an FMA), so results equal the scalar reference bit for bit. Loops of at least
 * {@link ChunkJob#PARALLEL_MIN} floats are spread over the kernel pool in chunks (same bits: each
 * element is computed alone); shorter ones, and {@link #dot}, run on the calling thread.
 *
 * <p>All loops live in one static method, {@link #loop}, chunked to {@link #CHUNK} floats per call: it
 * is larger than C2's FreqInlineSize, so it is a compile root of its own (never inlined deep into a
 * layer's call chain, where the vectors would be boxed), and it is called often enough to be compiled
 * within a few training steps.
 */
final class SimdElementwise implements Elementwise {

    private static final VectorSpecies<Float> F = SimdShape.FLOAT;
    private static final int L = SimdShape.LANES;
    /** Floats per compiled chunk call. */
    static final int CHUNK = 4096;

    static final int AXPY = 0;
    static final int SCALE = 1;
    static final int FILL = 2;
    static final int MUL = 3;
    static final int ADD = 4;
    static final int SHIFT = 5;

    private final KernelPool pool;

    SimdElementwise(KernelPool pool) {
        this.pool = pool;
    }

    @Override
    public void axpy(int n, float alpha, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        Bounds.count("axpy n", n);
        Bounds.run("axpy x", x, xOff, n);
        Bounds.run("axpy y", y, yOff, n);
        run(AXPY, n, alpha, x, xOff, y, yOff, y, yOff);
    }

    @Override
    public void scale(int n, float alpha, MemorySegment x, long xOff) {
        Bounds.count("scale n", n);
        Bounds.run("scale x", x, xOff, n);
        run(SCALE, n, alpha, x, xOff, x, xOff, x, xOff);
    }

    @Override
    public void fill(int n, float value, MemorySegment x, long xOff) {
        Bounds.count("fill n", n);
        Bounds.run("fill x", x, xOff, n);
        run(FILL, n, value, x, xOff, x, xOff, x, xOff);
    }

    /** x[off .. off+n) = value, unchecked beyond the segment's own bounds checks. */
    static void fillRun(MemorySegment x, long off, int n, float value) {
        serial(FILL, n, value, x, off, x, off, x, off);
    }

    @Override
    public void copy(int n, MemorySegment src, long srcOff, MemorySegment dst, long dstOff) {
        Bounds.count("copy n", n);
        Bounds.run("copy src", src, srcOff, n);
        Bounds.run("copy dst", dst, dstOff, n);
        // MemorySegment.copy is memmove (any overlap) and already a vectorised bulk copy.
        MemorySegment.copy(src, srcOff * Float.BYTES, dst, dstOff * Float.BYTES, (long) n * Float.BYTES);
    }

    @Override
    public void mul(int n, MemorySegment x, long xOff, MemorySegment y, long yOff, MemorySegment out, long outOff) {
        Bounds.count("mul n", n);
        Bounds.run("mul x", x, xOff, n);
        Bounds.run("mul y", y, yOff, n);
        Bounds.run("mul out", out, outOff, n);
        run(MUL, n, 0f, x, xOff, y, yOff, out, outOff);
    }

    @Override
    public void addBias(int rows, int cols, MemorySegment bias, long biasOff, MemorySegment c, long cOff, int ldc) {
        Bounds.run("addBias bias", bias, biasOff, cols);
        Bounds.matrix("addBias C", c, cOff, rows, cols, ldc);
        if (rows > 1 && ChunkJob.parallel(pool, (int) Math.min((long) rows * cols, Integer.MAX_VALUE), bias, c, c, c)) {
            ChunkJob.rows(pool, ADD, rows, cols, ldc, Math.max(1, CHUNK / Math.max(1, cols)), c, cOff * Float.BYTES,
                    bias, biasOff * Float.BYTES, c, cOff * Float.BYTES);
            return;
        }
        for (int r = 0; r < rows; r++) {
            long row = cOff + (long) r * ldc;
            run(ADD, cols, 0f, c, row, bias, biasOff, c, row);
        }
    }

    @Override
    public void addRowBias(int rows, int cols, MemorySegment bias, long biasOff, MemorySegment c, long cOff, int ldc) {
        Bounds.run("addRowBias bias", bias, biasOff, rows);
        Bounds.matrix("addRowBias C", c, cOff, rows, cols, ldc);
        for (int r = 0; r < rows; r++) {
            long row = cOff + (long) r * ldc;
            run(SHIFT, cols, bias.getAtIndex(JAVA_FLOAT, biasOff + r), c, row, c, row, c, row);
        }
    }

    /** Four independent accumulators hide the FMA latency (4 cycles) at one load pair per cycle. */
    @Override
    public float dot(int n, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        Bounds.count("dot n", n);
        Bounds.run("dot x", x, xOff, n);
        Bounds.run("dot y", y, yOff, n);
        return dotRun(n, x, xOff * Float.BYTES, y, yOff * Float.BYTES);
    }

    /**
     * sum x[i] y[i] over n floats at byte offsets xb, yb: chunk partial sums (each: four vector
     * accumulators, a fixed-order lane sum, then the scalar tail) added in chunk order.
     */
    static float dotRun(int n, MemorySegment x, long xb, MemorySegment y, long yb) {
        float sum = 0f;
        for (int c = 0; c < n; c += CHUNK) {
            long o = (long) c * Float.BYTES;
            sum += dotChunk(Math.min(CHUNK, n - c), x, xb + o, y, yb + o);
        }
        return sum;
    }

    /** Runs op over n floats in chunks, on the pool when n is large; offsets are float indices. */
    private void run(int op, int n, float alpha, MemorySegment x, long xOff, MemorySegment y, long yOff,
                     MemorySegment out, long outOff) {
        if (ChunkJob.parallel(pool, n, x, y, out, out)) {
            ChunkJob.loop(pool, op, n, CHUNK, alpha, x, xOff * Float.BYTES, y, yOff * Float.BYTES, out, outOff * Float.BYTES);
            return;
        }
        serial(op, n, alpha, x, xOff, y, yOff, out, outOff);
    }

    /** Runs op over n floats in chunks on the calling thread; offsets are float indices. */
    private static void serial(int op, int n, float alpha, MemorySegment x, long xOff, MemorySegment y, long yOff,
                               MemorySegment out, long outOff) {
        for (int c = 0; c < n; c += CHUNK) {
            loop(op, Math.min(CHUNK, n - c), alpha, x, (xOff + c) * Float.BYTES, y, (yOff + c) * Float.BYTES,
                    out, (outOff + c) * Float.BYTES);
        }
    }

    /**
     * sum x y over one chunk of n floats at byte offsets: four vector accumulators, a fixed-order lane
     * sum, then the scalar tail in index order. Its own compile root, apart from {@link #loop}: together
     * they exceed what C1 can register-allocate.
     */
    static float dotChunk(int n, MemorySegment x, long xb, MemorySegment y, long yb) {
        int bound = F.loopBound(n);
        int i = 0;
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        long vb = (long) L * Float.BYTES;
        for (int b4 = n - 4 * L; i <= b4; i += 4 * L) {
            long o = (long) i * Float.BYTES;
            s0 = FloatVector.fromMemorySegment(F, x, xb + o, SimdShape.ORDER).fma(FloatVector.fromMemorySegment(F, y, yb + o, SimdShape.ORDER), s0);
            s1 = FloatVector.fromMemorySegment(F, x, xb + o + vb, SimdShape.ORDER).fma(FloatVector.fromMemorySegment(F, y, yb + o + vb, SimdShape.ORDER), s1);
            s2 = FloatVector.fromMemorySegment(F, x, xb + o + 2 * vb, SimdShape.ORDER).fma(FloatVector.fromMemorySegment(F, y, yb + o + 2 * vb, SimdShape.ORDER), s2);
            s3 = FloatVector.fromMemorySegment(F, x, xb + o + 3 * vb, SimdShape.ORDER).fma(FloatVector.fromMemorySegment(F, y, yb + o + 3 * vb, SimdShape.ORDER), s3);
        }
        for (; i < bound; i += L) {
            long o = (long) i * Float.BYTES;
            s0 = FloatVector.fromMemorySegment(F, x, xb + o, SimdShape.ORDER).fma(FloatVector.fromMemorySegment(F, y, yb + o, SimdShape.ORDER), s0);
        }
        float sum = SimdMath.sum(s0.add(s1).add(s2.add(s3)));
        for (; i < n; i++) {
            long o = (long) i * Float.BYTES;
            sum = SimdShape.fma(x.get(JAVA_FLOAT_UNALIGNED, xb + o), y.get(JAVA_FLOAT_UNALIGNED, yb + o), sum);
        }
        return sum;
    }

    /**
     * One chunk of n floats at byte offsets: AXPY out = y + alpha x (out is y), SCALE out = alpha x,
     * FILL out = alpha, MUL out = x y, ADD out = x + y, SHIFT out = x + alpha.
     */
    static void loop(int op, int n, float alpha, MemorySegment x, long xb, MemorySegment y, long yb,
                      MemorySegment out, long ob) {
        int bound = F.loopBound(n);
        int i = 0;
        if (op == AXPY) {
            FloatVector va = FloatVector.broadcast(F, alpha);
            for (; i < bound; i += L) {
                long o = (long) i * Float.BYTES;
                FloatVector vy = FloatVector.fromMemorySegment(F, y, yb + o, SimdShape.ORDER);
                FloatVector vx = FloatVector.fromMemorySegment(F, x, xb + o, SimdShape.ORDER);
                vy.add(vx.mul(va)).intoMemorySegment(out, ob + o, SimdShape.ORDER);
            }
            for (; i < n; i++) {
                long o = (long) i * Float.BYTES;
                out.set(JAVA_FLOAT_UNALIGNED, ob + o, y.get(JAVA_FLOAT_UNALIGNED, yb + o) + x.get(JAVA_FLOAT_UNALIGNED, xb + o) * alpha);
            }
        } else if (op == SCALE) {
            FloatVector va = FloatVector.broadcast(F, alpha);
            for (; i < bound; i += L) {
                long o = (long) i * Float.BYTES;
                va.mul(FloatVector.fromMemorySegment(F, x, xb + o, SimdShape.ORDER)).intoMemorySegment(out, ob + o, SimdShape.ORDER);
            }
            for (; i < n; i++) {
                long o = (long) i * Float.BYTES;
                out.set(JAVA_FLOAT_UNALIGNED, ob + o, alpha * x.get(JAVA_FLOAT_UNALIGNED, xb + o));
            }
        } else if (op == FILL) {
            FloatVector v = FloatVector.broadcast(F, alpha);
            for (; i < bound; i += L) {
                v.intoMemorySegment(out, ob + (long) i * Float.BYTES, SimdShape.ORDER);
            }
            for (; i < n; i++) {
                out.set(JAVA_FLOAT_UNALIGNED, ob + (long) i * Float.BYTES, alpha);
            }
        } else if (op == MUL) {
            for (; i < bound; i += L) {
                long o = (long) i * Float.BYTES;
                FloatVector.fromMemorySegment(F, x, xb + o, SimdShape.ORDER)
                        .mul(FloatVector.fromMemorySegment(F, y, yb + o, SimdShape.ORDER))
                        .intoMemorySegment(out, ob + o, SimdShape.ORDER);
            }
            for (; i < n; i++) {
                long o = (long) i * Float.BYTES;
                out.set(JAVA_FLOAT_UNALIGNED, ob + o, x.get(JAVA_FLOAT_UNALIGNED, xb + o) * y.get(JAVA_FLOAT_UNALIGNED, yb + o));
            }
        } else if (op == ADD) {
            for (; i < bound; i += L) {
                long o = (long) i * Float.BYTES;
                FloatVector.fromMemorySegment(F, x, xb + o, SimdShape.ORDER)
                        .add(FloatVector.fromMemorySegment(F, y, yb + o, SimdShape.ORDER))
                        .intoMemorySegment(out, ob + o, SimdShape.ORDER);
            }
            for (; i < n; i++) {
                long o = (long) i * Float.BYTES;
                out.set(JAVA_FLOAT_UNALIGNED, ob + o, x.get(JAVA_FLOAT_UNALIGNED, xb + o) + y.get(JAVA_FLOAT_UNALIGNED, yb + o));
            }
        } else if (op == SHIFT) {
            FloatVector va = FloatVector.broadcast(F, alpha);
            for (; i < bound; i += L) {
                long o = (long) i * Float.BYTES;
                FloatVector.fromMemorySegment(F, x, xb + o, SimdShape.ORDER).add(va).intoMemorySegment(out, ob + o, SimdShape.ORDER);
            }
            for (; i < n; i++) {
                long o = (long) i * Float.BYTES;
                out.set(JAVA_FLOAT_UNALIGNED, ob + o, x.get(JAVA_FLOAT_UNALIGNED, xb + o) + alpha);
            }
        } else {
            throw new IllegalStateException("elementwise op " + op);
        }
    }

    @Override
    public void adam(int n, float b1, float c1, float b2, float c2, float step, float eps,
                     MemorySegment w, long wOff, MemorySegment g, long gOff,
                     MemorySegment m, long mOff, MemorySegment v, long vOff) {
        Bounds.count("adam n", n);
        Bounds.run("adam w", w, wOff, n);
        Bounds.run("adam g", g, gOff, n);
        Bounds.run("adam m", m, mOff, n);
        Bounds.run("adam v", v, vOff, n);
        if (ChunkJob.parallel(pool, n, w, g, m, v)) {
            ChunkJob.adam(pool, n, CHUNK, b1, c1, b2, c2, step, eps, w, wOff * Float.BYTES, g, gOff * Float.BYTES,
                    m, mOff * Float.BYTES, v, vOff * Float.BYTES);
            return;
        }
        for (int c = 0; c < n; c += CHUNK) {
            adamChunk(Math.min(CHUNK, n - c), b1, c1, b2, c2, step, eps, w, (wOff + c) * Float.BYTES,
                    g, (gOff + c) * Float.BYTES, m, (mOff + c) * Float.BYTES, v, (vOff + c) * Float.BYTES);
        }
    }

    /** One chunk of {@link #adam} at byte offsets: the interface's operations in its order, lane by lane. */
    static void adamChunk(int n, float b1, float c1, float b2, float c2, float step, float eps,
                          MemorySegment w, long wb, MemorySegment g, long gb, MemorySegment m, long mb,
                          MemorySegment v, long vb) {
        int bound = F.loopBound(n);
        int i = 0;
        FloatVector vb1 = FloatVector.broadcast(F, b1);
        FloatVector vc1 = FloatVector.broadcast(F, c1);
        FloatVector vb2 = FloatVector.broadcast(F, b2);
        FloatVector vc2 = FloatVector.broadcast(F, c2);
        FloatVector vstep = FloatVector.broadcast(F, step);
        FloatVector veps = FloatVector.broadcast(F, eps);
        for (; i < bound; i += L) {
            long o = (long) i * Float.BYTES;
            FloatVector gi = FloatVector.fromMemorySegment(F, g, gb + o, SimdShape.ORDER);
            FloatVector mi = vb1.mul(FloatVector.fromMemorySegment(F, m, mb + o, SimdShape.ORDER)).add(vc1.mul(gi));
            FloatVector vi = vb2.mul(FloatVector.fromMemorySegment(F, v, vb + o, SimdShape.ORDER)).add(vc2.mul(gi).mul(gi));
            mi.intoMemorySegment(m, mb + o, SimdShape.ORDER);
            vi.intoMemorySegment(v, vb + o, SimdShape.ORDER);
            FloatVector wi = FloatVector.fromMemorySegment(F, w, wb + o, SimdShape.ORDER);
            wi.sub(vstep.mul(mi).div(vi.sqrt().add(veps))).intoMemorySegment(w, wb + o, SimdShape.ORDER);
        }
        for (; i < n; i++) {
            long o = (long) i * Float.BYTES;
            float gi = g.get(JAVA_FLOAT_UNALIGNED, gb + o);
            float mi = b1 * m.get(JAVA_FLOAT_UNALIGNED, mb + o) + c1 * gi;
            float vi = b2 * v.get(JAVA_FLOAT_UNALIGNED, vb + o) + c2 * gi * gi;
            m.set(JAVA_FLOAT_UNALIGNED, mb + o, mi);
            v.set(JAVA_FLOAT_UNALIGNED, vb + o, vi);
            float wi = w.get(JAVA_FLOAT_UNALIGNED, wb + o);
            w.set(JAVA_FLOAT_UNALIGNED, wb + o, wi - step * mi / ((float) Math.sqrt(vi) + eps));
        }
    }

    @Override
    public void sgd(int n, float rate, float mu, boolean nesterov, MemorySegment w, long wOff,
                    MemorySegment g, long gOff, MemorySegment vel, long velOff) {
        Bounds.count("sgd n", n);
        Bounds.run("sgd w", w, wOff, n);
        Bounds.run("sgd g", g, gOff, n);
        if (mu != 0f) {
            Bounds.run("sgd vel", vel, velOff, n);
        }
        int mode = mu == 0f ? 0 : nesterov ? 2 : 1;
        if (ChunkJob.parallel(pool, n, w, g, mode == 0 ? w : vel, w)) {
            ChunkJob.sgd(pool, n, CHUNK, rate, mu, mode, w, wOff * Float.BYTES, g, gOff * Float.BYTES,
                    vel, mode == 0 ? 0 : velOff * Float.BYTES);
            return;
        }
        for (int c = 0; c < n; c += CHUNK) {
            long velB = mode == 0 ? 0 : (velOff + c) * Float.BYTES;
            sgdChunk(Math.min(CHUNK, n - c), rate, mu, mode, w, (wOff + c) * Float.BYTES,
                    g, (gOff + c) * Float.BYTES, vel, velB);
        }
    }

    /** One chunk of {@link #sgd}; mode 0 plain (vel unused), 1 momentum, 2 Nesterov. */
    static void sgdChunk(int n, float rate, float mu, int mode, MemorySegment w, long wb,
                         MemorySegment g, long gb, MemorySegment vel, long velB) {
        int bound = F.loopBound(n);
        int i = 0;
        FloatVector vrate = FloatVector.broadcast(F, rate);
        FloatVector vmu = FloatVector.broadcast(F, mu);
        for (; i < bound; i += L) {
            long o = (long) i * Float.BYTES;
            FloatVector gi = FloatVector.fromMemorySegment(F, g, gb + o, SimdShape.ORDER);
            FloatVector u = gi;
            if (mode != 0) {
                FloatVector vi = vmu.mul(FloatVector.fromMemorySegment(F, vel, velB + o, SimdShape.ORDER)).add(gi);
                vi.intoMemorySegment(vel, velB + o, SimdShape.ORDER);
                u = mode == 2 ? gi.add(vmu.mul(vi)) : vi;
            }
            FloatVector.fromMemorySegment(F, w, wb + o, SimdShape.ORDER).sub(vrate.mul(u))
                    .intoMemorySegment(w, wb + o, SimdShape.ORDER);
        }
        for (; i < n; i++) {
            long o = (long) i * Float.BYTES;
            float gi = g.get(JAVA_FLOAT_UNALIGNED, gb + o);
            float u = gi;
            if (mode != 0) {
                float vi = mu * vel.get(JAVA_FLOAT_UNALIGNED, velB + o) + gi;
                vel.set(JAVA_FLOAT_UNALIGNED, velB + o, vi);
                u = mode == 2 ? gi + mu * vi : vi;
            }
            w.set(JAVA_FLOAT_UNALIGNED, wb + o, w.get(JAVA_FLOAT_UNALIGNED, wb + o) - rate * u);
        }
    }
}
