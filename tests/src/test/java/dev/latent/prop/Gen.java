package dev.latent.prop;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Seeded data for properties: float arrays from a mixture that exercises cancellation and magnitude
 * (mostly N(0, 1), some zeros, some 1e3 and 1e-3 scales), and off-heap copies of them. Whole buffers,
 * including leading-dimension gaps, offsets and tails, are filled, so a kernel that reads a gap or
 * writes past its run shows up as a difference from the reference.
 */
public final class Gen {

    /** Float machine epsilon, 2^-23: the unit the tolerances are written in. */
    public static final double EPS = Math.ulp(1f);

    private static final int[] EDGE_SIZES = {1, 2, 3, 7, 13, 31, 64, 65, 127, 257, 1021};

    private static final int[] CHUNK_SIZES = {2047, 2048, 2049, 4095, 4096, 4097, 8191, 8192, 8193};

    private Gen() {
    }

    /**
     * Sizes that break vector tails and blocks (1..3 below any lane count, 7/13/31 odd tails, 64/65 and
     * 127 around block edges, 257 one past a typical k-block, 1021 a large prime).
     */
    public static int[] edgeSizes() {
        return EDGE_SIZES.clone();
    }

    /**
     * Run lengths around the chunks the vector kernels cut long runs into: one below, at and one past
     * one and two chunks of the activations (SimdActivations.CHUNK = 2048 floats) and of the
     * elementwise and optimizer-update loops and dot's partial sums (SimdElementwise.CHUNK = 4096), so
     * a chunk boundary that drops, repeats or misplaces an element, or restarts an accumulator, shows
     * up. For the length-only families (elementwise, activations, updates, reductions, softmax rows);
     * GEMM and im2col keep {@link #edgeSizes()}, their blocking is tested there.
     */
    public static int[] chunkSizes() {
        return CHUNK_SIZES.clone();
    }

    /** An edge size with probability 1/2, else uniform in [lo, hi]. */
    /**
     * A run long enough that providers split it over their threads (the Vector API provider does from
     * 32 Ki floats), with a length that is no multiple of any chunk or vector: [32 Ki, 100 K).
     */
    public static int longRun(SplittableRandom r) {
        return r.nextInt(1 << 15, 100_000);
    }

    public static int size(SplittableRandom r, int lo, int hi) {
        if (r.nextBoolean()) {
            int e = EDGE_SIZES[r.nextInt(EDGE_SIZES.length)];
            if (e >= lo && e <= hi) {
                return e;
            }
        }
        return r.nextInt(lo, hi + 1);
    }

    /** A small offset into a segment: 0 a third of the time (aligned), else 1..17 (misaligned). */
    public static int offset(SplittableRandom r) {
        return r.nextInt(3) == 0 ? 0 : r.nextInt(1, 18);
    }

    /** Floats after the last addressed one: 0 half the time (an over-read hits the segment end), else 1..16. */
    public static int tail(SplittableRandom r) {
        return r.nextBoolean() ? 0 : r.nextInt(1, 17);
    }

    /** Extra leading-dimension floats: 0 half the time, else 1..9. */
    public static int pad(SplittableRandom r) {
        return r.nextBoolean() ? 0 : r.nextInt(1, 10);
    }

    /** n values from the mixture. */
    public static float[] values(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = value(r);
        }
        return v;
    }

    /** n values N(0, scale^2). */
    public static float[] gaussian(SplittableRandom r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return v;
    }

    /** n copies of NaN: write-only outputs start like this so a kernel that reads them shows it. */
    public static float[] nan(int n) {
        float[] v = new float[n];
        Arrays.fill(v, Float.NaN);
        return v;
    }

    /** One value of the mixture. */
    public static float value(SplittableRandom r) {
        int k = r.nextInt(20);
        return switch (k) {
            case 0 -> 0f;
            case 1 -> (float) (r.nextGaussian() * 1e3);
            case 2 -> (float) (r.nextGaussian() * 1e-3);
            default -> (float) r.nextGaussian();
        };
    }

    /** |v| element-wise (for the absolute sums that scale a tolerance). */
    public static float[] abs(float[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Math.abs(v[i]);
        }
        return out;
    }

    /** A segment of exactly {@code values.length} floats in {@code ws} holding a copy of values. */
    public static MemorySegment segment(Workspace ws, float[] values) {
        MemorySegment s = ws.allocateFloats(values.length);
        MemorySegment.copy(values, 0, s, JAVA_FLOAT, 0, values.length);
        return s;
    }

    /** The floats of a segment. */
    public static float[] read(MemorySegment s) {
        return s.toArray(JAVA_FLOAT);
    }

    /** Floats a row-major rows x cols matrix at offset off with leading dimension ld spans, plus tail. */
    public static int extent(long off, int rows, int cols, int ld, int tail) {
        long used = rows == 0 || cols == 0 ? 0 : (long) (rows - 1) * ld + cols;
        return Math.toIntExact(off + used + tail);
    }
}
