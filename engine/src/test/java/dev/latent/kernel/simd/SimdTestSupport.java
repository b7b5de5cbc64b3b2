package dev.latent.kernel.simd;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Kernels;
import dev.latent.kernel.scalar.ScalarProvider;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/** Shared fixtures of the simd unit tests: both providers' kernels and float segments. */
final class SimdTestSupport {

    /** The kernels under test. */
    static final Kernels SIMD = new SimdProvider().create(null);
    /** The reference. */
    static final Kernels SCALAR = new ScalarProvider().create(null);
    /** One float ulp at 1. */
    static final float EPS = Math.ulp(1f);
    /** Sizes that break every tail at 128, 256 and 512 bits. */
    static final int[] SIZES = {1, 2, 3, 7, 13, 31, 64, 65, 127, 257, 1021};

    private SimdTestSupport() {
    }

    /** A shared (multi-thread accessible) native segment holding {@code values}. */
    static MemorySegment segment(float[] values) {
        MemorySegment s = Arena.ofAuto().allocate(Math.max(1, values.length) * (long) Float.BYTES, 64);
        MemorySegment.copy(values, 0, s, JAVA_FLOAT, 0, values.length);
        return s;
    }

    static float[] floats(MemorySegment s) {
        return s.toArray(JAVA_FLOAT);
    }

    static float[] random(SplittableRandom r, int n, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextDouble(lo, hi);
        }
        return v;
    }

    static float[] filled(int n, float value) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, value);
        return v;
    }

    /** Distance in float ulps (of the larger magnitude) between x and the reference y. */
    static double ulps(float x, double y) {
        return Math.abs(x - y) / Math.ulp((float) Math.max(Math.abs(y), Float.MIN_NORMAL));
    }
}
