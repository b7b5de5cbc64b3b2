package dev.latent.kernel;

import dev.latent.prop.Gen;
import dev.latent.prop.Shrinkable;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A GEMM case's shape: op(A) m x k, op(B) k x n, C m x n, the transposes, how far each leading
 * dimension exceeds its width, each operand's offset into its segment, floats left after the last
 * addressed one, how alpha and beta are chosen, and whether B is the same memory as A
 * (A^T A or A A^T; then n = m and B's layout is A's).
 */
public record GemmShape(Transpose ta, Transpose tb, int m, int n, int k, int padA, int padB, int padC,
                        int offA, int offB, int offC, int tail, Scaling scaling, boolean sharedAB)
        implements Shrinkable<GemmShape> {

    /** How alpha and beta are chosen (values that are not fixed come from the case's data seed). */
    public enum Scaling {
        /** alpha = 1, beta = 0 over a NaN-filled C: C is write-only, NaN must not leak. */
        OVERWRITE_NAN,
        /** alpha = 1, beta = 1: accumulate. */
        ACCUMULATE,
        /** alpha, beta drawn from [-2, 2]. */
        GENERAL,
        /** alpha drawn, beta = 0 over a NaN-filled C. */
        SCALED_OVERWRITE_NAN,
        /** alpha = 0, beta drawn: C becomes beta * C. */
        ZERO_ALPHA;

        boolean betaZero() {
            return this == OVERWRITE_NAN || this == SCALED_OVERWRITE_NAN;
        }
    }

    /** Total multiply-adds a random shape may have (keeps the scalar reference fast). */
    static final long BUDGET = 3_000_000;

    public GemmShape {
        if (sharedAB) {
            n = m;
            tb = ta == Transpose.N ? Transpose.T : Transpose.N;
            padB = padA;
            offB = offA;
        }
    }

    /** Rows and columns of A as stored. */
    int rowsA() {
        return ta == Transpose.N ? m : k;
    }

    int colsA() {
        return ta == Transpose.N ? k : m;
    }

    int rowsB() {
        return tb == Transpose.N ? k : n;
    }

    int colsB() {
        return tb == Transpose.N ? n : k;
    }

    int lda() {
        return Math.max(1, colsA()) + padA;
    }

    int ldb() {
        return Math.max(1, colsB()) + padB;
    }

    int ldc() {
        return Math.max(1, n) + padC;
    }

    /**
     * Fixed shapes: every edge size in each of the roles m, n and k (the other two from a small
     * cycle so the one huge side stays cheap) under all four transpose pairs, plus k = 0, m = 0, n = 0.
     */
    static List<GemmShape> edges() {
        int[] sizes = Gen.edgeSizes();
        int[] partners = {1, 3, 7, 13, 31, 65, 2};
        Scaling[] scalings = Scaling.values();
        List<GemmShape> out = new ArrayList<>();
        int idx = 0;
        for (int s : sizes) {
            for (int role = 0; role < 3; role++) {
                for (int t = 0; t < 4; t++) {
                    int p1 = partners[idx % partners.length];
                    int p2 = partners[(idx / partners.length + 3 * role + t) % partners.length];
                    int m = role == 0 ? s : p1;
                    int n = role == 1 ? s : role == 0 ? p1 : p2;
                    int k = role == 2 ? s : p2;
                    int pad = idx % 3 == 0 ? 0 : idx % 5 + 1;
                    int off = idx % 4 == 0 ? 0 : idx % 7 + 1;
                    out.add(new GemmShape(Transpose.of((t & 1) != 0), Transpose.of((t & 2) != 0), m, n, k,
                            pad, (pad + 2) % 4, (pad + 1) % 3, off, (off + 3) % 8, (off + 5) % 9, idx % 2 == 0 ? 0 : 3,
                            scalings[idx % scalings.length], false));
                    idx++;
                }
            }
        }
        for (Scaling sc : new Scaling[] {Scaling.ACCUMULATE, Scaling.OVERWRITE_NAN, Scaling.GENERAL}) {
            out.add(new GemmShape(Transpose.N, Transpose.N, 13, 7, 0, 0, 0, 2, 1, 0, 3, 0, sc, false));
            out.add(new GemmShape(Transpose.T, Transpose.T, 65, 3, 0, 1, 0, 0, 0, 2, 0, 1, sc, false));
        }
        out.add(new GemmShape(Transpose.N, Transpose.N, 0, 7, 5, 0, 0, 0, 0, 0, 0, 0, Scaling.OVERWRITE_NAN, false));
        out.add(new GemmShape(Transpose.T, Transpose.N, 7, 0, 5, 0, 0, 0, 0, 0, 0, 0, Scaling.OVERWRITE_NAN, false));
        out.add(new GemmShape(Transpose.T, Transpose.N, 65, 65, 257, 3, 3, 1, 5, 5, 2, 0, Scaling.GENERAL, true));
        out.add(new GemmShape(Transpose.N, Transpose.T, 127, 127, 31, 0, 0, 0, 0, 0, 0, 0, Scaling.OVERWRITE_NAN, true));
        // the simd dot path (A B^T, n <= one vector, long k): a thin convolution's weight gradient, with
        // edge blocks of A and B rows, a k tail, and every scaling
        out.add(new GemmShape(Transpose.N, Transpose.T, 32, 9, 3136, 0, 0, 0, 0, 0, 0, 0, Scaling.ACCUMULATE, false));
        out.add(new GemmShape(Transpose.N, Transpose.T, 7, 16, 1031, 2, 1, 3, 1, 4, 2, 3, Scaling.OVERWRITE_NAN, false));
        out.add(new GemmShape(Transpose.N, Transpose.T, 5, 1, 128, 0, 3, 0, 2, 0, 1, 0, Scaling.GENERAL, false));
        out.add(new GemmShape(Transpose.N, Transpose.T, 13, 4, 257, 1, 1, 1, 0, 0, 0, 0, Scaling.GENERAL, false));
        return out;
    }

    /** A random mix: dimensions from the edge sizes or uniform, total work within {@link #BUDGET}. */
    static GemmShape random(SplittableRandom r) {
        int m;
        int n;
        int k;
        do {
            m = dim(r);
            n = dim(r);
            k = dim(r);
        } while ((long) m * n * Math.max(k, 1) > BUDGET || (long) m * n > 300_000);
        Scaling[] scalings = Scaling.values();
        return new GemmShape(Transpose.of(r.nextBoolean()), Transpose.of(r.nextBoolean()), m, n, k,
                Gen.pad(r), Gen.pad(r), Gen.pad(r), Gen.offset(r), Gen.offset(r), Gen.offset(r), Gen.tail(r),
                scalings[r.nextInt(scalings.length)], r.nextInt(10) == 0);
    }

    private static int dim(SplittableRandom r) {
        return r.nextInt(10) == 0 ? r.nextInt(0, 4) : Gen.size(r, 1, 300);
    }

    @Override
    public List<GemmShape> smaller() {
        List<GemmShape> out = new ArrayList<>();
        if (m > 1) {
            out.add(new GemmShape(ta, tb, m / 2, n, k, padA, padB, padC, offA, offB, offC, tail, scaling, sharedAB));
        }
        if (n > 1 && !sharedAB) {
            out.add(new GemmShape(ta, tb, m, n / 2, k, padA, padB, padC, offA, offB, offC, tail, scaling, sharedAB));
        }
        if (k > 1) {
            out.add(new GemmShape(ta, tb, m, n, k / 2, padA, padB, padC, offA, offB, offC, tail, scaling, sharedAB));
        }
        if (padA + padB + padC > 0) {
            out.add(new GemmShape(ta, tb, m, n, k, 0, 0, 0, offA, offB, offC, tail, scaling, sharedAB));
        }
        if (offA + offB + offC > 0) {
            out.add(new GemmShape(ta, tb, m, n, k, padA, padB, padC, 0, 0, 0, tail, scaling, sharedAB));
        }
        return out;
    }

    @Override
    public String toString() {
        return "gemm(" + ta + "," + tb + ") m=" + m + " n=" + n + " k=" + k + " ld+(" + padA + "," + padB + ","
                + padC + ") off(" + offA + "," + offB + "," + offC + ") tail=" + tail + " " + scaling
                + (sharedAB ? " B=A" : "");
    }
}
