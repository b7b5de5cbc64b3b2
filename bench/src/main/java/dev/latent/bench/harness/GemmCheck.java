package dev.latent.bench.harness;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The result check every GEMM benchmark runs once in its setup, so that a fast wrong kernel cannot win.
 * Entries of C = op(A) op(B) are recomputed in double precision and must pass two tests:
 * <ol>
 *   <li>each entry lies within the {@code Gemm} contract's rounding bound
 *       |error| &le; c * k * eps * sum_p |a_ip| |b_pj| (c = 2, eps = 2^-23): catches NaN, garbage and
 *       skipped blocks;
 *   <li>the RMS error over the checked entries is at most {@value #RMS_FACTOR} * sqrt(k) * eps times the
 *       RMS of the reference. The worst-case bound above grows like k^2 for our uniform operands and
 *       would let a kernel that secretly multiplies in bf16, fp16 or TF32 (relative error 2^-8 to
 *       2^-11 per product) through; plain float32 accumulation in any order stays below about
 *       sqrt(k) * eps, 16 times inside this limit.
 * </ol>
 * Small problems are checked entirely; large ones on the last row, the last column (where edge tiles
 * live) and {@value #RANDOM_SAMPLES} random entries.
 */
public final class GemmCheck {

    /** Problems with m * n * k up to this are checked on every entry (256^3: well under a second). */
    static final long FULL_CHECK_VOLUME = 1L << 24;
    static final int RANDOM_SAMPLES = 1024;
    private static final double C_BOUND = 2.0;
    static final double RMS_FACTOR = 16.0;
    private static final double EPS = Math.ulp(1.0f);

    private final String what;
    private final GemmShape shape;
    private final long[] entries;
    private final float[] values;
    private final String summary;

    private GemmCheck(String what, GemmShape shape, long[] entries, float[] values, String summary) {
        this.what = what;
        this.shape = shape;
        this.entries = entries;
        this.values = values;
        this.summary = summary;
    }

    /** How close the result came to each limit, e.g. to notice a provider drifting towards one. */
    public String summary() {
        return summary;
    }

    /**
     * Checks the sampled entries of {@code c} against a double-precision recomputation from {@code a}
     * and {@code b}, and remembers their bits for {@link #requireUnchanged}.
     *
     * @param what names the provider, shape and seed in the failure message
     * @throws IllegalStateException naming the first wrong entry and how many were wrong
     */
    public static GemmCheck verify(String what, GemmShape s, long seed, MemorySegment a, MemorySegment b, MemorySegment c) {
        long[] entries = sample(s, seed);
        float[] values = new float[entries.length];
        int wrong = 0;
        String first = null;
        double squaredError = 0;
        double squaredReference = 0;
        double worstShareOfBound = 0;
        for (int e = 0; e < entries.length; e++) {
            int i = (int) (entries[e] / s.n());
            int j = (int) (entries[e] % s.n());
            double sum = 0;
            double absSum = 0;
            for (int p = 0; p < s.k(); p++) {
                double prod = (double) a.getAtIndex(JAVA_FLOAT, s.aIndex(i, p)) * b.getAtIndex(JAVA_FLOAT, s.bIndex(p, j));
                sum += prod;
                absSum += Math.abs(prod);
            }
            float got = c.getAtIndex(JAVA_FLOAT, entries[e]);
            values[e] = got;
            squaredError += (got - sum) * (got - sum);
            squaredReference += sum * sum;
            double tolerance = C_BOUND * s.k() * EPS * absSum + Float.MIN_NORMAL;
            worstShareOfBound = Math.max(worstShareOfBound, Math.abs(got - sum) / tolerance);
            if (!(Math.abs(got - sum) <= tolerance)) {
                wrong++;
                if (first == null) {
                    first = String.format("C[%d, %d] = %s but the double-precision reference is %s (tolerance %.3g)",
                            i, j, got, sum, tolerance);
                }
            }
        }
        if (wrong > 0) {
            throw new IllegalStateException("WRONG GEMM RESULT, refusing to benchmark " + what + ": " + wrong + " of "
                    + entries.length + " checked entries are outside the rounding bound; first: " + first);
        }
        double relativeRms = Math.sqrt(squaredError / squaredReference);
        double rmsLimit = RMS_FACTOR * Math.sqrt(s.k()) * EPS;
        if (!(relativeRms <= rmsLimit)) {
            throw new IllegalStateException(String.format("INACCURATE GEMM RESULT, refusing to benchmark %s: RMS error"
                    + " / RMS of the double-precision reference over %d entries is %.3g, above the float32 limit"
                    + " %.3g (16 sqrt(k) eps); is the kernel computing in reduced precision?",
                    what, entries.length, relativeRms, rmsLimit));
        }
        String summary = String.format("result check passed on %d entries: worst entry at %.2g of its bound,"
                + " relative RMS error %.2g (limit %.2g)", entries.length, worstShareOfBound, relativeRms, rmsLimit);
        return new GemmCheck(what, s, entries, values, summary);
    }

    /**
     * Fails unless the checked entries of {@code c} still hold the same bits: the contract says the same
     * provider with the same arguments gives the same bits on every call, so after the measured calls
     * (which recompute C from the same A and B) this catches a kernel that goes wrong once JIT-compiled.
     */
    public void requireUnchanged(MemorySegment c) {
        for (int e = 0; e < entries.length; e++) {
            float now = c.getAtIndex(JAVA_FLOAT, entries[e]);
            if (Float.floatToRawIntBits(now) != Float.floatToRawIntBits(values[e])) {
                throw new IllegalStateException("GEMM RESULT CHANGED during measurement of " + what + ": C["
                        + entries[e] / shape.n() + ", " + entries[e] % shape.n() + "] was " + values[e]
                        + " after the setup check but is " + now + " after the measured calls");
            }
        }
    }

    /** Row-major indices into C of the entries to check. */
    private static long[] sample(GemmShape s, long seed) {
        long cells = (long) s.m() * s.n();
        if (s.volume() <= FULL_CHECK_VOLUME) {
            long[] all = new long[(int) cells];
            for (int e = 0; e < all.length; e++) {
                all[e] = e;
            }
            return all;
        }
        Set<Long> picked = new LinkedHashSet<>();
        for (int j = 0; j < s.n(); j++) {
            picked.add((long) (s.m() - 1) * s.n() + j);
        }
        for (int i = 0; i < s.m(); i++) {
            picked.add((long) i * s.n() + s.n() - 1);
        }
        SplittableRandom random = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
        for (int r = 0; r < RANDOM_SAMPLES; r++) {
            picked.add(random.nextLong(cells));
        }
        return picked.stream().mapToLong(Long::longValue).toArray();
    }
}
