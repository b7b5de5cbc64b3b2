package dev.latent.kernel.simd;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;

import dev.latent.kernel.Activation;
import dev.latent.kernel.Activations;
import dev.latent.kernel.Bounds;
import dev.latent.kernel.KernelPool;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Activations in float lanes. The transcendentals are {@link SimdMath}'s polynomial exp / tanh / log1p
 * (not the Vector API's EXP / TANH / LOG1P, whose bits change when C2 compiles the call site), and
 * tails use their scalar twins, so every element's bits depend on its value only.
 *
 * <p>Accuracy against the double-precision reference formula, measured over 4 * 10^6 random z (normal
 * and uniform in [-20, 20]) at 128, 256 and 512 bits: see {@code SimdMathTest} and the report in the
 * class comment of {@link SimdMath}. The property tests allow 4 eps of the value plus MIN_NORMAL.
 *
 * <p>Allocation: each run is cut into chunks of {@link #CHUNK} floats and each chunk is done by one
 * large static method ({@link #forwardChunk}, {@link #backwardChunk}), larger than C2's FreqInlineSize,
 * so it is never inlined into a layer's call chain (where the inlining budget would run out and the
 * vectors would be boxed) and is called often enough to be C2-compiled after a few steps. Runs of at
 * least {@link ChunkJob#PARALLEL_MIN} floats are spread over the kernel pool (same bits).
 */
final class SimdActivations implements Activations {

    private static final VectorSpecies<Float> F = SimdShape.FLOAT;
    private static final int L = SimdShape.LANES;
    /** Floats per compiled chunk call. */
    static final int CHUNK = 2048;

    private final KernelPool pool;

    SimdActivations(KernelPool pool) {
        this.pool = pool;
    }

    @Override
    public void forward(Activation f, int n, MemorySegment z, long zOff, MemorySegment a, long aOff) {
        Bounds.count("activation n", n);
        Bounds.run("activation z", z, zOff, n);
        Bounds.run("activation a", a, aOff, n);
        if (f.kind() == Activation.Kind.IDENTITY) {
            MemorySegment.copy(z, zOff * Float.BYTES, a, aOff * Float.BYTES, (long) n * Float.BYTES);
            return;
        }
        int kind = f.kind().ordinal();
        float slope = f.slope();
        if (ChunkJob.parallel(pool, n, z, a, a, a)) {
            ChunkJob.forward(pool, kind, slope, n, CHUNK, z, zOff * Float.BYTES, a, aOff * Float.BYTES);
            return;
        }
        for (int c = 0; c < n; c += CHUNK) {
            forwardChunk(kind, slope, Math.min(CHUNK, n - c), z, (zOff + c) * Float.BYTES, a, (aOff + c) * Float.BYTES);
        }
    }

    private static final int SIGMOID = Activation.Kind.SIGMOID.ordinal();
    private static final int TANH = Activation.Kind.TANH.ordinal();
    private static final int RELU = Activation.Kind.RELU.ordinal();
    private static final int LEAKY = Activation.Kind.LEAKY_RELU.ordinal();
    private static final int SOFTPLUS = Activation.Kind.SOFTPLUS.ordinal();

    /** a = f(z) over n floats at byte offsets zb, ab; one loop per kind, scalar twins for the tail. */
    static void forwardChunk(int kind, float slope, int n, MemorySegment z, long zb, MemorySegment a, long ab) {
        int bound = F.loopBound(n);
        int i = 0;
        if (kind == SIGMOID) {
            for (; i < bound; i += L) {
                long o = (long) i * Float.BYTES;
                SimdMath.sigmoid(FloatVector.fromMemorySegment(F, z, zb + o, SimdShape.ORDER))
                        .intoMemorySegment(a, ab + o, SimdShape.ORDER);
            }
            for (; i < n; i++) {
                long o = (long) i * Float.BYTES;
                a.set(JAVA_FLOAT_UNALIGNED, ab + o, SimdMath.sigmoid(z.get(JAVA_FLOAT_UNALIGNED, zb + o)));
            }
        } else if (kind == TANH) {
            for (; i < bound; i += L) {
                long o = (long) i * Float.BYTES;
                SimdMath.tanh(FloatVector.fromMemorySegment(F, z, zb + o, SimdShape.ORDER))
                        .intoMemorySegment(a, ab + o, SimdShape.ORDER);
            }
            for (; i < n; i++) {
                long o = (long) i * Float.BYTES;
                a.set(JAVA_FLOAT_UNALIGNED, ab + o, SimdMath.tanh(z.get(JAVA_FLOAT_UNALIGNED, zb + o)));
            }
        } else if (kind == SOFTPLUS) {
            for (; i < bound; i += L) {
                long o = (long) i * Float.BYTES;
                SimdMath.softplus(FloatVector.fromMemorySegment(F, z, zb + o, SimdShape.ORDER))
                        .intoMemorySegment(a, ab + o, SimdShape.ORDER);
            }
            for (; i < n; i++) {
                long o = (long) i * Float.BYTES;
                a.set(JAVA_FLOAT_UNALIGNED, ab + o, SimdMath.softplus(z.get(JAVA_FLOAT_UNALIGNED, zb + o)));
            }
        } else if (kind == RELU) {
            // z > 0 ? z : 0 exactly as the reference: NaN and -0 map to +0.
            FloatVector zero = FloatVector.zero(F);
            for (; i < bound; i += L) {
                long o = (long) i * Float.BYTES;
                FloatVector v = FloatVector.fromMemorySegment(F, z, zb + o, SimdShape.ORDER);
                zero.blend(v, v.compare(VectorOperators.GT, 0f)).intoMemorySegment(a, ab + o, SimdShape.ORDER);
            }
            for (; i < n; i++) {
                long o = (long) i * Float.BYTES;
                float v = z.get(JAVA_FLOAT_UNALIGNED, zb + o);
                a.set(JAVA_FLOAT_UNALIGNED, ab + o, v > 0f ? v : 0f);
            }
        } else if (kind == LEAKY) {
            for (; i < bound; i += L) {
                long o = (long) i * Float.BYTES;
                FloatVector v = FloatVector.fromMemorySegment(F, z, zb + o, SimdShape.ORDER);
                v.mul(slope).blend(v, v.compare(VectorOperators.GT, 0f)).intoMemorySegment(a, ab + o, SimdShape.ORDER);
            }
            for (; i < n; i++) {
                long o = (long) i * Float.BYTES;
                float v = z.get(JAVA_FLOAT_UNALIGNED, zb + o);
                a.set(JAVA_FLOAT_UNALIGNED, ab + o, v > 0f ? v : v * slope);
            }
        } else {
            throw new IllegalStateException("activation kind " + kind);
        }
    }

    @Override
    public void backward(Activation f, int n, MemorySegment z, long zOff, MemorySegment a, long aOff,
                         MemorySegment da, long daOff, MemorySegment dz, long dzOff) {
        Bounds.count("activation n", n);
        boolean fromOutput = f.derivativeFromOutput();
        if (f.kind() != Activation.Kind.IDENTITY) {
            if (fromOutput) {
                Bounds.run("activation backward a", a, aOff, n);
            } else {
                Bounds.run("activation backward z", z, zOff, n);
            }
        }
        Bounds.run("activation backward da", da, daOff, n);
        Bounds.run("activation backward dz", dz, dzOff, n);
        if (f.kind() == Activation.Kind.IDENTITY) {
            MemorySegment.copy(da, daOff * Float.BYTES, dz, dzOff * Float.BYTES, (long) n * Float.BYTES);
            return;
        }
        MemorySegment in = fromOutput ? a : z;
        long inOff = fromOutput ? aOff : zOff;
        int kind = f.kind().ordinal();
        float slope = f.slope();
        if (ChunkJob.parallel(pool, n, in, da, dz, dz)) {
            ChunkJob.backward(pool, kind, slope, n, CHUNK, in, inOff * Float.BYTES, da, daOff * Float.BYTES,
                    dz, dzOff * Float.BYTES);
            return;
        }
        for (int c = 0; c < n; c += CHUNK) {
            backwardChunk(kind, slope, Math.min(CHUNK, n - c), in, (inOff + c) * Float.BYTES,
                    da, (daOff + c) * Float.BYTES, dz, (dzOff + c) * Float.BYTES);
        }
    }

    /** dz = f'(x) * da over n floats, x the output (sigmoid, tanh) or the input (the others). */
    static void backwardChunk(int kind, float slope, int n, MemorySegment in, long xb,
                              MemorySegment da, long gb, MemorySegment dz, long db) {
        int bound = F.loopBound(n);
        int i = 0;
        if (kind == SIGMOID) {
            FloatVector one = FloatVector.broadcast(F, 1f);
            for (; i < bound; i += L) {
                long o = (long) i * Float.BYTES;
                FloatVector x = FloatVector.fromMemorySegment(F, in, xb + o, SimdShape.ORDER);
                FloatVector g = FloatVector.fromMemorySegment(F, da, gb + o, SimdShape.ORDER);
                x.mul(one.sub(x)).mul(g).intoMemorySegment(dz, db + o, SimdShape.ORDER);
            }
            for (; i < n; i++) {
                long o = (long) i * Float.BYTES;
                float x = in.get(JAVA_FLOAT_UNALIGNED, xb + o);
                dz.set(JAVA_FLOAT_UNALIGNED, db + o, x * (1f - x) * da.get(JAVA_FLOAT_UNALIGNED, gb + o));
            }
        } else if (kind == TANH) {
            FloatVector one = FloatVector.broadcast(F, 1f);
            for (; i < bound; i += L) {
                long o = (long) i * Float.BYTES;
                FloatVector x = FloatVector.fromMemorySegment(F, in, xb + o, SimdShape.ORDER);
                FloatVector g = FloatVector.fromMemorySegment(F, da, gb + o, SimdShape.ORDER);
                one.sub(x.mul(x)).mul(g).intoMemorySegment(dz, db + o, SimdShape.ORDER);
            }
            for (; i < n; i++) {
                long o = (long) i * Float.BYTES;
                float x = in.get(JAVA_FLOAT_UNALIGNED, xb + o);
                dz.set(JAVA_FLOAT_UNALIGNED, db + o, (1f - x * x) * da.get(JAVA_FLOAT_UNALIGNED, gb + o));
            }
        } else if (kind == SOFTPLUS) {
            for (; i < bound; i += L) {
                long o = (long) i * Float.BYTES;
                FloatVector x = FloatVector.fromMemorySegment(F, in, xb + o, SimdShape.ORDER);
                FloatVector g = FloatVector.fromMemorySegment(F, da, gb + o, SimdShape.ORDER);
                SimdMath.sigmoid(x).mul(g).intoMemorySegment(dz, db + o, SimdShape.ORDER);
            }
            for (; i < n; i++) {
                long o = (long) i * Float.BYTES;
                float x = in.get(JAVA_FLOAT_UNALIGNED, xb + o);
                dz.set(JAVA_FLOAT_UNALIGNED, db + o, SimdMath.sigmoid(x) * da.get(JAVA_FLOAT_UNALIGNED, gb + o));
            }
        } else if (kind == RELU || kind == LEAKY) {
            float low = kind == RELU ? 0f : slope;
            FloatVector vlow = FloatVector.broadcast(F, low);
            for (; i < bound; i += L) {
                long o = (long) i * Float.BYTES;
                FloatVector x = FloatVector.fromMemorySegment(F, in, xb + o, SimdShape.ORDER);
                FloatVector g = FloatVector.fromMemorySegment(F, da, gb + o, SimdShape.ORDER);
                vlow.blend(1f, x.compare(VectorOperators.GT, 0f)).mul(g).intoMemorySegment(dz, db + o, SimdShape.ORDER);
            }
            for (; i < n; i++) {
                long o = (long) i * Float.BYTES;
                float x = in.get(JAVA_FLOAT_UNALIGNED, xb + o);
                dz.set(JAVA_FLOAT_UNALIGNED, db + o, (x > 0f ? 1f : low) * da.get(JAVA_FLOAT_UNALIGNED, gb + o));
            }
        } else {
            throw new IllegalStateException("activation kind " + kind);
        }
    }
}
