package dev.latent.kernel;

import dev.latent.prop.Compare;
import dev.latent.prop.Gen;
import dev.latent.prop.Prop;
import dev.latent.tensor.Workspace;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@link PackedDense} contract as properties against a double-precision twin of the scalar
 * reference's y = f(x W^T + b): the GEMM bound 2 (in + 1) eps sum |x w| (+ eps |b|; f's slope is at most
 * 1 for every kind), plus {@link ActivationContract#TRANSCENDENTAL_ULPS} eps of the value and
 * MIN_NORMAL for f; the leading-dimension padding of y stays untouched (it starts as NaN); a repeat
 * call gives the same bits; and every row gives the same bits as that row encoded alone (the
 * row-wise promise that makes a service's batch-1 and batch-256 answers agree).
 */
public interface PackedDenseContract {

    /** The implementation under test, packing W (out, in) and b from {@code arena}. */
    PackedDense pack(int out, int in, MemorySegment w, MemorySegment b, Activation f, Arena arena);

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#dense")
    default void denseMatchesReference(KernelCase<DenseShape> c) {
        c.check(s -> checkDense(c.seed(), s));
    }

    /** Rows outside x or y, a negative n: IllegalArgumentException. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#providers")
    default void denseRejectsBadArguments(String provider) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = arena.allocate(6L * 4 * Float.BYTES);
            MemorySegment b = arena.allocate(6L * Float.BYTES);
            PackedDense d = pack(6, 4, w, b, Activation.SIGMOID, arena);
            MemorySegment x = arena.allocate(3L * 4 * Float.BYTES);
            MemorySegment y = arena.allocate(3L * 6 * Float.BYTES);
            Compare.rejects(() -> "dense n = -1", () -> d.forward(-1, x, 0, 4, y, 0, 6));
            Compare.rejects(() -> "dense 4 rows of x in 3", () -> d.forward(4, x, 0, 4, y, 0, 6));
            Compare.rejects(() -> "dense y offset 1", () -> d.forward(3, x, 0, 4, y, 1, 6));
            Compare.rejects(() -> "dense ldx 3 < in 4", () -> d.forward(1, x, 0, 3, y, 0, 6));
        }
    }

    private void checkDense(long seed, DenseShape s) {
        SplittableRandom r = Prop.data(seed);
        int ldx = s.in() + s.padX();
        int ldy = s.out() + s.padY();
        float[] w = Gen.values(r, s.out() * s.in());
        float[] b = Gen.values(r, s.out());
        float[] x = Gen.values(r, s.n() * ldx);
        double[] expected = new double[s.n() * ldy];
        double[] tol = new double[s.n() * ldy];
        for (int i = 0; i < s.n(); i++) {
            for (int j = 0; j < ldy; j++) {
                int at = i * ldy + j;
                if (j >= s.out()) {
                    expected[at] = Double.NaN; // padding: untouched
                    continue;
                }
                double z = b[j];
                double mag = 0;
                for (int p = 0; p < s.in(); p++) {
                    double t = (double) x[i * ldx + p] * w[j * s.in() + p];
                    z += t;
                    mag += Math.abs(t);
                }
                double f = f(s.f(), z);
                expected[at] = f;
                tol[at] = 2 * (s.in() + 1) * Gen.EPS * mag + Gen.EPS * Math.abs(b[j])
                        + ActivationContract.TRANSCENDENTAL_ULPS * Gen.EPS * Math.abs(f) + Float.MIN_NORMAL;
            }
        }
        try (Arena arena = Arena.ofShared(); Workspace ws = new Workspace("dense " + s)) {
            PackedDense d = pack(s.out(), s.in(), Gen.segment(ws, w), Gen.segment(ws, b), s.f(), arena);
            MemorySegment xs = arena.allocate((long) x.length * Float.BYTES, 64);
            MemorySegment.copy(x, 0, xs, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, x.length);
            MemorySegment ys = Gen.segment(ws, Gen.nan(s.n() * ldy));
            d.forward(s.n(), xs, 0, ldx, ys, 0, ldy);
            float[] got = Gen.read(ys);
            java.util.function.IntFunction<String> where = k -> "y[" + k / ldy + ", " + k % ldy + "]"
                    + (k % ldy >= s.out() ? " (padding, must stay NaN)" : "");
            Compare.close(s.toString(), got, expected, tol, where);
            d.forward(s.n(), xs, 0, ldx, ys, 0, ldy);
            Compare.sameBits(s.toString() + " repeated", Gen.read(ys), got, where);
            MemorySegment one = Gen.segment(ws, Gen.nan(s.out()));
            for (int i : new int[] {0, s.n() / 2, s.n() - 1}) {
                d.forward(1, xs, (long) i * ldx, ldx, one, 0, s.out());
                float[] alone = Gen.read(one);
                float[] row = java.util.Arrays.copyOfRange(got, i * ldy, i * ldy + s.out());
                int ri = i;
                Compare.sameBits(s + " row " + i + " alone vs in the batch", alone, row, k -> "y[" + ri + ", " + k + "]");
            }
        }
    }

    /** f in double, the scalar reference's formulas. */
    private static double f(Activation a, double z) {
        return switch (a.kind()) {
            case SIGMOID -> 1 / (1 + Math.exp(-z));
            case TANH -> Math.tanh(z);
            case RELU -> z > 0 ? z : 0;
            case LEAKY_RELU -> z > 0 ? z : a.slope() * z;
            case SOFTPLUS -> Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
            case IDENTITY -> z;
        };
    }
}
