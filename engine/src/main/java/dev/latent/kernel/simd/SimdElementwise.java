package dev.latent.kernel.simd;

import dev.latent.kernel.Bounds;
import dev.latent.kernel.Elementwise;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Level-1 loops: a vector body up to {@code loopBound}, then one masked vector for the tail. Every
 * method but {@link #dot} rounds each element exactly as the written formula does (axpy is a multiply
 * then an add, not an FMA), so results equal the scalar reference bit for bit. These loops are
 * memory bound: they run on the calling thread.
 */
final class SimdElementwise implements Elementwise {

    private static final VectorSpecies<Float> F = SimdShape.FLOAT;
    private static final int L = SimdShape.LANES;

    @Override
    public void axpy(int n, float alpha, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        Bounds.count("axpy n", n);
        Bounds.run("axpy x", x, xOff, n);
        Bounds.run("axpy y", y, yOff, n);
        FloatVector va = FloatVector.broadcast(F, alpha);
        long xb = xOff * Float.BYTES;
        long yb = yOff * Float.BYTES;
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            long o = (long) i * Float.BYTES;
            FloatVector vy = FloatVector.fromMemorySegment(F, y, yb + o, SimdShape.ORDER);
            FloatVector vx = FloatVector.fromMemorySegment(F, x, xb + o, SimdShape.ORDER);
            vy.add(vx.mul(va)).intoMemorySegment(y, yb + o, SimdShape.ORDER);
        }
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            long o = (long) i * Float.BYTES;
            FloatVector vy = FloatVector.fromMemorySegment(F, y, yb + o, SimdShape.ORDER, m);
            FloatVector vx = FloatVector.fromMemorySegment(F, x, xb + o, SimdShape.ORDER, m);
            vy.add(vx.mul(va)).intoMemorySegment(y, yb + o, SimdShape.ORDER, m);
        }
    }

    @Override
    public void scale(int n, float alpha, MemorySegment x, long xOff) {
        Bounds.count("scale n", n);
        Bounds.run("scale x", x, xOff, n);
        FloatVector va = FloatVector.broadcast(F, alpha);
        long xb = xOff * Float.BYTES;
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            long o = xb + (long) i * Float.BYTES;
            va.mul(FloatVector.fromMemorySegment(F, x, o, SimdShape.ORDER)).intoMemorySegment(x, o, SimdShape.ORDER);
        }
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            long o = xb + (long) i * Float.BYTES;
            va.mul(FloatVector.fromMemorySegment(F, x, o, SimdShape.ORDER, m)).intoMemorySegment(x, o, SimdShape.ORDER, m);
        }
    }

    @Override
    public void fill(int n, float value, MemorySegment x, long xOff) {
        Bounds.count("fill n", n);
        Bounds.run("fill x", x, xOff, n);
        fillRun(x, xOff, n, value);
    }

    /** x[off .. off+n) = value, unchecked beyond the Vector API's own bounds checks. */
    static void fillRun(MemorySegment x, long off, int n, float value) {
        FloatVector v = FloatVector.broadcast(F, value);
        long xb = off * Float.BYTES;
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            v.intoMemorySegment(x, xb + (long) i * Float.BYTES, SimdShape.ORDER);
        }
        if (i < n) {
            v.intoMemorySegment(x, xb + (long) i * Float.BYTES, SimdShape.ORDER, F.indexInRange(i, n));
        }
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
        long xb = xOff * Float.BYTES;
        long yb = yOff * Float.BYTES;
        long ob = outOff * Float.BYTES;
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            long o = (long) i * Float.BYTES;
            FloatVector.fromMemorySegment(F, x, xb + o, SimdShape.ORDER)
                    .mul(FloatVector.fromMemorySegment(F, y, yb + o, SimdShape.ORDER))
                    .intoMemorySegment(out, ob + o, SimdShape.ORDER);
        }
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            long o = (long) i * Float.BYTES;
            FloatVector.fromMemorySegment(F, x, xb + o, SimdShape.ORDER, m)
                    .mul(FloatVector.fromMemorySegment(F, y, yb + o, SimdShape.ORDER, m))
                    .intoMemorySegment(out, ob + o, SimdShape.ORDER, m);
        }
    }

    @Override
    public void addBias(int rows, int cols, MemorySegment bias, long biasOff, MemorySegment c, long cOff, int ldc) {
        Bounds.run("addBias bias", bias, biasOff, cols);
        Bounds.matrix("addBias C", c, cOff, rows, cols, ldc);
        long bb = biasOff * Float.BYTES;
        int bound = F.loopBound(cols);
        VectorMask<Float> tail = F.indexInRange(bound, cols);
        for (int r = 0; r < rows; r++) {
            long cb = (cOff + (long) r * ldc) * Float.BYTES;
            int j = 0;
            for (; j < bound; j += L) {
                long o = (long) j * Float.BYTES;
                FloatVector.fromMemorySegment(F, c, cb + o, SimdShape.ORDER)
                        .add(FloatVector.fromMemorySegment(F, bias, bb + o, SimdShape.ORDER))
                        .intoMemorySegment(c, cb + o, SimdShape.ORDER);
            }
            if (j < cols) {
                long o = (long) j * Float.BYTES;
                FloatVector.fromMemorySegment(F, c, cb + o, SimdShape.ORDER, tail)
                        .add(FloatVector.fromMemorySegment(F, bias, bb + o, SimdShape.ORDER, tail))
                        .intoMemorySegment(c, cb + o, SimdShape.ORDER, tail);
            }
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

    /** sum x[i] y[i] over n floats at byte offsets xb, yb. */
    static float dotRun(int n, MemorySegment x, long xb, MemorySegment y, long yb) {
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        long vb = (long) L * Float.BYTES;
        int i = 0;
        for (int bound = n - 4 * L; i <= bound; i += 4 * L) {
            long o = (long) i * Float.BYTES;
            s0 = SimdShape.fma(FloatVector.fromMemorySegment(F, x, xb + o, SimdShape.ORDER),
                    FloatVector.fromMemorySegment(F, y, yb + o, SimdShape.ORDER), s0);
            s1 = SimdShape.fma(FloatVector.fromMemorySegment(F, x, xb + o + vb, SimdShape.ORDER),
                    FloatVector.fromMemorySegment(F, y, yb + o + vb, SimdShape.ORDER), s1);
            s2 = SimdShape.fma(FloatVector.fromMemorySegment(F, x, xb + o + 2 * vb, SimdShape.ORDER),
                    FloatVector.fromMemorySegment(F, y, yb + o + 2 * vb, SimdShape.ORDER), s2);
            s3 = SimdShape.fma(FloatVector.fromMemorySegment(F, x, xb + o + 3 * vb, SimdShape.ORDER),
                    FloatVector.fromMemorySegment(F, y, yb + o + 3 * vb, SimdShape.ORDER), s3);
        }
        for (; i < n; i += L) {
            VectorMask<Float> m = F.indexInRange(i, n);
            long o = (long) i * Float.BYTES;
            s0 = SimdShape.fma(FloatVector.fromMemorySegment(F, x, xb + o, SimdShape.ORDER, m),
                    FloatVector.fromMemorySegment(F, y, yb + o, SimdShape.ORDER, m), s0);
        }
        return s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
    }
}
