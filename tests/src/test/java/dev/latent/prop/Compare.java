package dev.latent.prop;

import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.junit.jupiter.api.function.Executable;

/**
 * The one comparison helper every property uses (tinygrad's {@code helper_test_op} idea): element-wise
 * closeness with a per-element tolerance, bit equality for determinism, and the twin that checks a bad
 * call is rejected. Failure messages always give the largest difference seen and where, not only
 * pass/fail.
 */
public final class Compare {

    private Compare() {
    }

    /**
     * Asserts {@code |actual[i] - expected[i]| <= tol[i]} for every i. A NaN expected value needs a NaN;
     * an infinite one needs the same infinity; a tolerance of 0 needs the same value (+0 equals -0).
     * {@code where} names index i (e.g. "C[3, 5]") in the message.
     */
    public static void close(String what, float[] actual, float[] expected, double[] tol, IntFunction<String> where) {
        double[] e = new double[expected.length];
        for (int i = 0; i < e.length; i++) {
            e[i] = expected[i];
        }
        close(what, actual, e, tol, where);
    }

    /**
     * {@link #close(String, float[], float[], double[], IntFunction)} against double-precision expected
     * values (a naive double twin's), compared without rounding them to float first.
     */
    public static void close(String what, float[] actual, double[] expected, double[] tol, IntFunction<String> where) {
        if (actual.length != expected.length || tol.length != expected.length) {
            throw new AssertionError(what + ": length " + actual.length + " vs expected " + expected.length
                    + " vs tolerances " + tol.length);
        }
        int bad = 0;
        int firstBad = -1;
        int worstRatioAt = -1;
        double worstRatio = 0;
        int largestAt = -1;
        double largest = 0;
        for (int i = 0; i < expected.length; i++) {
            float a = actual[i];
            double e = expected[i];
            boolean ok;
            double diff;
            if (Double.isNaN(e) || Float.isNaN(a)) {
                ok = Double.isNaN(e) && Float.isNaN(a);
                diff = ok ? 0 : Double.POSITIVE_INFINITY;
            } else if (Double.isInfinite(e) || Float.isInfinite(a)) {
                ok = a == e;
                diff = ok ? 0 : Double.POSITIVE_INFINITY;
            } else {
                diff = Math.abs((double) a - e);
                ok = diff <= tol[i];
            }
            if (diff > largest || largestAt < 0 && diff > 0) {
                largest = diff;
                largestAt = i;
            }
            if (!ok) {
                bad++;
                if (firstBad < 0) {
                    firstBad = i;
                }
                double ratio = tol[i] > 0 ? diff / tol[i] : Double.POSITIVE_INFINITY;
                if (worstRatioAt < 0 || ratio > worstRatio) {
                    worstRatio = ratio;
                    worstRatioAt = i;
                }
            }
        }
        if (bad > 0) {
            throw new AssertionError(what + ": " + bad + " of " + expected.length + " elements out of tolerance;"
                    + " first at " + at(where, firstBad, actual, expected, tol)
                    + "; worst (diff/tol " + fmt(worstRatio) + ") at " + at(where, worstRatioAt, actual, expected, tol)
                    + "; largest |diff| seen " + fmt(largest) + " at " + where.apply(largestAt));
        }
    }

    /** Asserts that two results have identical bits (the same call twice must give the same bits). */
    public static void sameBits(String what, float[] first, float[] second, IntFunction<String> where) {
        int diffs = 0;
        int firstAt = -1;
        double largest = 0;
        for (int i = 0; i < first.length; i++) {
            if (Float.floatToRawIntBits(first[i]) != Float.floatToRawIntBits(second[i])) {
                diffs++;
                if (firstAt < 0) {
                    firstAt = i;
                }
                largest = Math.max(largest, Math.abs((double) first[i] - second[i]));
            }
        }
        if (diffs > 0) {
            throw new AssertionError(what + ": not deterministic, " + diffs + " of " + first.length
                    + " elements differ between two identical calls; first at " + where.apply(firstAt) + ": "
                    + first[firstAt] + " then " + second[firstAt] + "; largest |diff| " + fmt(largest));
        }
    }

    /**
     * Asserts that {@code call} throws {@link IllegalArgumentException} (not an index or state
     * exception, and not silently succeeding). {@code context} names provider and call for the message.
     */
    public static IllegalArgumentException rejects(Supplier<String> context, Executable call) {
        try {
            call.execute();
        } catch (IllegalArgumentException expected) {
            return expected;
        } catch (Throwable other) {
            throw new AssertionError(context.get() + ": expected IllegalArgumentException but got " + other, other);
        }
        throw new AssertionError(context.get() + ": expected IllegalArgumentException but the call returned normally");
    }

    /**
     * Norm-wise closeness, for results composed through several float layers whose element errors do
     * not have a usable per-element bound: ||actual - expected||_2 <= rel ||expected||_2 + 1e-12. The
     * message gives both norms and the largest element difference with its place.
     */
    public static void normClose(String what, float[] actual, double[] expected, double rel, IntFunction<String> where) {
        if (actual.length != expected.length) {
            throw new AssertionError(what + ": length " + actual.length + " vs expected " + expected.length);
        }
        double diff = 0;
        double norm = 0;
        double largest = -1;
        int largestAt = -1;
        for (int i = 0; i < actual.length; i++) {
            double d = actual[i] - expected[i];
            diff += d * d;
            norm += expected[i] * expected[i];
            if (!(Math.abs(d) <= largest)) {
                largest = Math.abs(d);
                largestAt = i;
            }
        }
        double e = Math.sqrt(diff);
        double n = Math.sqrt(norm);
        if (!(e <= rel * n + 1e-12)) {
            throw new AssertionError(what + ": ||diff|| " + fmt(e) + " > " + fmt(rel) + " * ||expected|| " + fmt(n)
                    + "; largest |diff| " + fmt(largest) + " at " + where.apply(largestAt) + " actual "
                    + actual[largestAt] + " expected " + expected[largestAt]);
        }
    }

    private static String at(IntFunction<String> where, int i, float[] actual, double[] expected, double[] tol) {
        return where.apply(i) + " actual " + actual[i] + " expected " + expected[i] + " |diff| "
                + fmt(Math.abs((double) actual[i] - expected[i])) + " tol " + fmt(tol[i]);
    }

    private static String fmt(double v) {
        return String.format(java.util.Locale.ROOT, "%.4g", v);
    }
}
