package dev.latent.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.prop.Compare;
import dev.latent.prop.Gen;
import dev.latent.prop.Prop;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@link Reductions} contract as properties against the scalar reference: row and column sums
 * within a length-scaled rounding bound, beta = 0 never reading (NaN-filled) output, nothing written
 * outside the output run, X untouched, same bits on a second call.
 */
public interface ReductionsContract {

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#reductions")
    default void reductionsMatchReference(KernelCase<ReductionShape> c) {
        c.check(s -> checkSums(c.subject(), c.seed(), s));
    }

    /** Short leading dimension, negative sizes, runs outside their segment: IllegalArgumentException. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#providers")
    default void reductionsRejectBadArguments(String provider) {
        Reductions red = KernelRegistry.load(provider).reductions();
        try (Workspace ws = new Workspace("reductions bad arguments")) {
            MemorySegment x = ws.allocateFloats(16);
            MemorySegment o = ws.allocateFloats(4);
            String p = provider + " reductions ";
            Compare.rejects(() -> p + "rowSums ldx 3 < cols 4", () -> red.rowSums(4, 4, x, 0, 3, 0f, o, 0));
            Compare.rejects(() -> p + "colSums ldx 3 < cols 4", () -> red.colSums(4, 4, x, 0, 3, 0f, o, 0));
            Compare.rejects(() -> p + "rowSums rows = -1", () -> red.rowSums(-1, 4, x, 0, 4, 0f, o, 0));
            Compare.rejects(() -> p + "colSums cols = -1", () -> red.colSums(4, -1, x, 0, 4, 0f, o, 0));
            Compare.rejects(() -> p + "rowSums X offset 1", () -> red.rowSums(4, 4, x, 1, 4, 0f, o, 0));
            Compare.rejects(() -> p + "colSums out offset 1 + 4 > 4", () -> red.colSums(4, 4, x, 0, 4, 0f, o, 1));
            Compare.rejects(() -> p + "rowSums out of 4 for 5 rows", () -> red.rowSums(5, 3, x, 0, 3, 0f, o, 0));
            Compare.rejects(() -> p + "colSums X offset -1", () -> red.colSums(2, 2, x, -1, 2, 0f, o, 0));
        }
    }

    private static void checkSums(Kernels subject, long seed, ReductionShape s) {
        SplittableRandom r = Prop.data(seed);
        int lenX = Gen.extent(s.offX(), s.rows(), s.cols(), s.ldx(), s.tail());
        int lenOut = s.offOut() + s.outLength() + s.tail();
        float beta = switch (s.beta()) {
            case ZERO_OVER_NAN -> 0f;
            case ONE -> 1f;
            case DRAWN -> (float) r.nextDouble(-2, 2);
        };
        float[] x = Gen.values(r, lenX);
        float[] out0 = s.beta() == ReductionShape.Beta.ZERO_OVER_NAN ? Gen.nan(lenOut) : Gen.values(r, lenOut);
        Reductions ref = KernelCase.reference().reductions();
        try (Workspace ws = new Workspace("reductions " + s)) {
            MemorySegment sx = Gen.segment(ws, x);
            MemorySegment expected = Gen.segment(ws, out0);
            MemorySegment actual = Gen.segment(ws, out0);
            MemorySegment again = Gen.segment(ws, out0);
            MemorySegment absSum = ws.allocateFloats(lenOut);
            call(ref, s, sx, beta, expected);
            call(subject.reductions(), s, sx, beta, actual);
            call(subject.reductions(), s, sx, beta, again);
            call(ref, s, Gen.segment(ws, Gen.abs(x)), 0f, absSum);
            Compare.close("reductions left X untouched", Gen.read(sx), x, new double[lenX], i -> "X segment float " + i);
            float[] got = Gen.read(actual);
            float[] abs = Gen.read(absSum);
            Compare.sameBits(s.toString(), got, Gen.read(again), i -> "out segment float " + i);
            int len = s.rowWise() ? s.cols() : s.rows();
            double[] tol = new double[lenOut];
            for (int i = s.offOut(); i < s.offOut() + s.outLength(); i++) {
                // The reference sums in double; a float sum of len terms in any order errs by at most ~len eps of
                // sum |x| (x2 slack, +1 for the final rounding); beta * out_old adds one rounding of its magnitude.
                double betaTerm = beta == 0f ? 0 : Math.abs((double) beta * out0[i]);
                tol[i] = 2 * (len + 1) * Gen.EPS * abs[i] + 2 * Gen.EPS * betaTerm;
                int at = i;
                assertTrue(Float.isFinite(got[i]), () -> s + ": non-finite sum at out[" + (at - s.offOut()) + "] = " + got[at]);
            }
            Compare.close(s + " (beta " + beta + ")", got, Gen.read(expected), tol,
                    i -> i >= s.offOut() && i < s.offOut() + s.outLength() ? "out[" + (i - s.offOut()) + "]"
                            : "out segment float " + i + " (outside the run, must be untouched)");
        }
    }

    private static void call(Reductions red, ReductionShape s, MemorySegment x, float beta, MemorySegment out) {
        if (s.rowWise()) {
            red.rowSums(s.rows(), s.cols(), x, s.offX(), s.ldx(), beta, out, s.offOut());
        } else {
            red.colSums(s.rows(), s.cols(), x, s.offX(), s.ldx(), beta, out, s.offOut());
        }
    }
}
