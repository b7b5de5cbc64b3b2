package dev.latent.bench.harness;

import dev.latent.kernel.Transpose;
import java.util.Locale;

/**
 * A GEMM problem as the benchmarks name it: {@code "MxKxN"} (C is M x N, the inner dimension is K),
 * optionally followed by {@code ":XY"} giving op(A) and op(B) ({@code N} or {@code T}, default
 * {@code NN}), e.g. {@code "784x256x1024:TN"} for a weight gradient X^T * dY. A bare {@code "N"} means
 * the square problem {@code NxNxN}. Leading dimensions are tight (the stored row length).
 */
public record GemmShape(int m, int k, int n, Transpose ta, Transpose tb) {

    public GemmShape {
        if (m < 1 || k < 1 || n < 1) {
            throw new IllegalArgumentException("GEMM dimensions must be >= 1, got m=" + m + " k=" + k + " n=" + n);
        }
    }

    /** Parses {@code "MxKxN"}, {@code "MxKxN:XY"} or {@code "N"}; the message names the accepted forms. */
    public static GemmShape parse(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        Transpose ta = Transpose.N;
        Transpose tb = Transpose.N;
        int colon = s.indexOf(':');
        if (colon >= 0) {
            String ops = s.substring(colon + 1);
            if (ops.length() != 2 || "NT".indexOf(ops.charAt(0)) < 0 || "NT".indexOf(ops.charAt(1)) < 0) {
                throw badShape(text);
            }
            ta = Transpose.of(ops.charAt(0) == 'T');
            tb = Transpose.of(ops.charAt(1) == 'T');
            s = s.substring(0, colon);
        }
        String[] dims = s.split("X", -1);
        try {
            if (dims.length == 1) {
                int d = Integer.parseInt(dims[0]);
                return new GemmShape(d, d, d, ta, tb);
            }
            if (dims.length == 3) {
                return new GemmShape(Integer.parseInt(dims[0]), Integer.parseInt(dims[1]), Integer.parseInt(dims[2]), ta, tb);
            }
        } catch (NumberFormatException e) {
            throw badShape(text);
        }
        throw badShape(text);
    }

    private static IllegalArgumentException badShape(String text) {
        return new IllegalArgumentException("bad GEMM shape '" + text + "': expected MxKxN, MxKxN:XY with X, Y in {N, T},"
                + " or N for a square problem (e.g. 256x784x1024, 784x256x1024:TN, 512)");
    }

    /** Floating-point operations of one call: one multiply and one add per (i, j, p). */
    public double flop() {
        return 2.0 * m * n * k;
    }

    /** m * n * k, the size of the triple loop. */
    public long volume() {
        return (long) m * n * k;
    }

    /** Rows and leading dimension of A as stored: m x k, or k x m when transposed. */
    public int aRows() {
        return ta == Transpose.N ? m : k;
    }

    public int lda() {
        return ta == Transpose.N ? k : m;
    }

    /** Rows and leading dimension of B as stored: k x n, or n x k when transposed. */
    public int bRows() {
        return tb == Transpose.N ? k : n;
    }

    public int ldb() {
        return tb == Transpose.N ? n : k;
    }

    /** Index of op(A)[i, p] in A's storage. */
    public long aIndex(int i, int p) {
        return ta == Transpose.N ? (long) i * k + p : (long) p * m + i;
    }

    /** Index of op(B)[p, j] in B's storage. */
    public long bIndex(int p, int j) {
        return tb == Transpose.N ? (long) p * n + j : (long) j * k + p;
    }
}
