package dev.latent.nn;

import dev.latent.prop.Compare;
import dev.latent.prop.Gen;
import java.util.function.Supplier;

/**
 * How closely a float layer's result must match its double twin, as one of a few rules (eps = 2^-23,
 * u = eps / 2), all checked through {@link Compare} (which reports the largest difference seen):
 * <ul>
 *   <li>{@link #sum(int)}: a float sum of k terms, in any order, is within k u sum|terms| of the exact
 *       value; the rule allows 2 k eps sum|terms| (4x that, for the last roundings of bias adds and
 *       alpha/beta), with sum|terms| per element from the twin run on |x|, |p|, |dy|;
 *   <li>{@link #relative(double, double)}: rel max(floor, |ref|), for element-wise maps through
 *       approximated transcendentals;
 *   <li>{@link #ofMax(double, double)}: a |ref| + b max|ref|, for results computed in double and
 *       rounded once whose elements cancel (batch norm's dx sums to 0 per channel);
 *   <li>{@link #exact()}: values only moved, or multiplied by 0 or 1: equal as numbers;
 *   <li>{@link #norm(double)}: norm-wise relative, for chains of several float layers.
 * </ul>
 * {@code extra} adds a per-element allowance (the rounding of an accumulation into a gradient).
 */
record Tolerance(String rule, Kind kind, double a, double b) {

    enum Kind { SUM, RELATIVE, OF_MAX, NORM }

    static final double EPS = Gen.EPS;

    static Tolerance sum(int k) {
        return new Tolerance("2 k eps sum|terms|, k = " + k, Kind.SUM, k, 0);
    }

    static Tolerance relative(double rel, double floor) {
        return new Tolerance(rel + " max(" + floor + ", |ref|)", Kind.RELATIVE, rel, floor);
    }

    static Tolerance ofMax(double perElement, double ofMax) {
        return new Tolerance(perElement + " |ref| + " + ofMax + " max|ref|", Kind.OF_MAX, perElement, ofMax);
    }

    static Tolerance exact() {
        return new Tolerance("exact", Kind.RELATIVE, 0, 0);
    }

    static Tolerance norm(double rel) {
        return new Tolerance("norm-wise relative " + rel, Kind.NORM, rel, 0);
    }

    /** Checks got against ref; mag (sum|terms| per element) is only computed by the SUM rule. */
    void check(String what, float[] got, double[] ref, Supplier<double[]> mag, double[] extra) {
        String label = what + " (tolerance " + rule + ")";
        if (kind == Kind.NORM) {
            Compare.normClose(label, got, ref, a, i -> "[" + i + "]");
            return;
        }
        double[] tol = new double[ref.length];
        double[] m = kind == Kind.SUM ? mag.get() : null;
        double max = 0;
        for (double v : ref) {
            max = Math.max(max, Math.abs(v));
        }
        for (int i = 0; i < tol.length; i++) {
            tol[i] = switch (kind) {
                case SUM -> 2 * a * EPS * m[i] + 1e-30;
                case RELATIVE -> a == 0 ? 0 : a * Math.max(b, Math.abs(ref[i])) + 1e-30;
                case OF_MAX -> a * Math.abs(ref[i]) + b * max + 1e-30;
                case NORM -> throw new AssertionError();
            } + (extra == null ? 0 : extra[i]);
        }
        Compare.close(label, got, ref, tol, i -> "[" + i + "]");
    }
}
