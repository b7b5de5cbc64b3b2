package dev.latent.kernel;

import dev.latent.prop.Compare;
import dev.latent.prop.Gen;
import dev.latent.prop.Prop;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@link Activations} contract as properties against the scalar reference (which evaluates each
 * formula in double and rounds once).
 *
 * <p>Tolerances per kind. relu, leaky relu and identity are one float operation per element (a
 * comparison and at most one multiply), so forward and backward must match exactly. sigmoid, tanh
 * and softplus may use approximations: vector providers call the Vector API's EXP/TANH/LOG1P lanewise
 * operations, which HotSpot implements with Intel SVML (documented at most 1 ulp for float) and then
 * round the rest of the formula a couple of times; {@value #TRANSCENDENTAL_ULPS} eps of the value, plus
 * {@link Float#MIN_NORMAL} absolute for results that underflow. Backward of sigmoid and tanh computes
 * a(1 - a) or 1 - a^2 from the output in float: the error is a few roundings of the magnitude of those
 * terms, not of their (possibly cancelled) difference.
 */
public interface ActivationContract {

    /** Allowed error of sigmoid/tanh/softplus forward (and softplus backward), in eps of the value. */
    int TRANSCENDENTAL_ULPS = 4;

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#activations")
    default void activationsMatchReference(KernelCase<ActivationShape> c) {
        c.check(s -> checkActivation(c.subject(), c.seed(), s));
    }

    /** Negative n and runs outside their segment: IllegalArgumentException. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#providers")
    default void activationsRejectBadArguments(String provider) {
        Activations act = KernelRegistry.load(provider).activations();
        try (Workspace ws = new Workspace("activation bad arguments")) {
            MemorySegment z = ws.allocateFloats(16);
            MemorySegment a = ws.allocateFloats(16);
            MemorySegment d = ws.allocateFloats(16);
            String p = provider + " activations ";
            for (Activation f : ActivationShape.kinds()) {
                Compare.rejects(() -> p + f + " forward n = -1", () -> act.forward(f, -1, z, 0, a, 0));
                Compare.rejects(() -> p + f + " forward a offset 1 + 16 > 16", () -> act.forward(f, 16, z, 0, a, 1));
                Compare.rejects(() -> p + f + " forward z offset -1", () -> act.forward(f, 4, z, -1, a, 0));
                Compare.rejects(() -> p + f + " backward n = -1", () -> act.backward(f, -1, z, 0, a, 0, d, 0, d, 0));
                Compare.rejects(() -> p + f + " backward dz offset 9 + 8 > 16", () -> act.backward(f, 8, z, 0, a, 0, d, 0, d, 9));
                Compare.rejects(() -> p + f + " backward da offset 17", () -> act.backward(f, 1, z, 0, a, 0, d, 17, d, 0));
            }
        }
    }

    /** Inputs that reach every branch: ordinary values, saturation, overflow of exp, signed zeros, tiny values. */
    private static float[] inputs(SplittableRandom r, int n) {
        float[] z = new float[n];
        for (int i = 0; i < n; i++) {
            z[i] = switch (r.nextInt(24)) {
                case 0 -> 0f;
                case 1 -> -0f;
                case 2 -> (float) r.nextDouble(-120, 120);
                case 3 -> (float) (r.nextGaussian() * 1e4);
                case 4 -> (float) (r.nextGaussian() * 1e-30);
                case 5 -> r.nextBoolean() ? Float.MIN_VALUE : -Float.MIN_VALUE;
                case 6, 7, 8 -> (float) r.nextDouble(-20, 20);
                default -> (float) (r.nextGaussian() * 3);
            };
        }
        return z;
    }

    private static void checkActivation(Kernels subject, long seed, ActivationShape s) {
        SplittableRandom r = Prop.data(seed);
        int lenIn = s.offIn() + s.n() + s.tail();
        int lenOut = s.offOut() + s.n() + s.tail();
        Activation f = s.f();
        float[] zRun = inputs(r, s.n());
        // z and a are whole buffers (offset, run, tail); a = f(z) from the reference so backward reads consistent pairs.
        float[] z = Gen.values(r, Math.max(lenIn, lenOut));
        System.arraycopy(zRun, 0, z, s.offIn(), s.n());
        float[] out0 = s.inPlace() ? null : Gen.nan(lenOut);
        float[] da = Gen.values(r, lenIn);
        Activations ref = KernelCase.reference().activations();
        float[] aForward;
        try (Workspace ws = new Workspace("activation " + s)) {
            MemorySegment zs = Gen.segment(ws, z);
            MemorySegment as = ws.allocateFloats(z.length);
            ref.forward(f, z.length, zs, 0, as, 0);
            aForward = Gen.read(as);
        }
        float[][] input = s.backward() ? new float[][] {z, aForward, da, out0} : new float[][] {z, out0};
        float[] expected = run(ref, s, input);
        float[] actual = run(subject.activations(), s, input);
        float[] again = run(subject.activations(), s, input);
        int outStart = s.inPlace() ? s.offIn() : s.offOut();
        java.util.function.IntFunction<String> where = i -> i >= outStart && i < outStart + s.n()
                ? "out[" + (i - outStart) + "] (input " + (s.backward() ? "z " + z[s.offIn() + i - outStart]
                        + ", a " + aForward[s.offIn() + i - outStart] + ", da " + da[s.offIn() + i - outStart]
                        : "z " + z[s.offIn() + i - outStart]) + ")"
                : "out segment float " + i + " (outside the run, must be untouched)";
        Compare.sameBits(s.toString(), actual, again, where);
        double[] tol = new double[actual.length];
        for (int j = 0; j < s.n(); j++) {
            int i = outStart + j;
            double ref1 = Math.abs(expected[i]);
            double scale;
            if (!s.backward()) {
                scale = switch (f.kind()) {
                    case RELU, LEAKY_RELU, IDENTITY -> 0; // one comparison and at most one multiply: exact
                    case SIGMOID, TANH, SOFTPLUS -> TRANSCENDENTAL_ULPS * Gen.EPS * ref1 + Float.MIN_NORMAL;
                };
            } else {
                double av = aForward[s.offIn() + j];
                double g = Math.abs(da[s.offIn() + j]);
                scale = switch (f.kind()) {
                    case RELU, LEAKY_RELU, IDENTITY -> 0; // 0, 1 or slope times da: one rounding, exact
                    // a (1 - a) da or (a - a^2) da in float: a few roundings of |a| + a^2, times |da|
                    case SIGMOID -> 2 * Gen.EPS * (Math.abs(av) + av * av) * g + Float.MIN_NORMAL;
                    // (1 - a^2) da in float: a^2 rounds relative to itself, then cancels against 1
                    case TANH -> 2 * Gen.EPS * (1 + av * av) * g + Float.MIN_NORMAL;
                    // sigmoid(z) da with an approximate exp, as forward, plus the multiply by da; sigmoid(z) may
                    // underflow in float (z < -87) before it is scaled by da, hence MIN_NORMAL |da|
                    case SOFTPLUS -> (TRANSCENDENTAL_ULPS + 2) * Gen.EPS * ref1 + Float.MIN_NORMAL * Math.max(1, g);
                };
            }
            tol[i] = scale;
        }
        Compare.close(s.toString(), actual, expected, tol, where);
    }

    /** Copies the buffers, runs forward or backward, returns the output buffer after the call. */
    private static float[] run(Activations act, ActivationShape s, float[][] input) {
        try (Workspace ws = new Workspace("activation " + s)) {
            if (!s.backward()) {
                MemorySegment z = Gen.segment(ws, input[0]);
                MemorySegment a = s.inPlace() ? z : Gen.segment(ws, input[1]);
                act.forward(s.f(), s.n(), z, s.offIn(), a, s.offOut());
                return Gen.read(a);
            }
            MemorySegment z = Gen.segment(ws, input[0]);
            MemorySegment a = Gen.segment(ws, input[1]);
            MemorySegment da = Gen.segment(ws, input[2]);
            MemorySegment dz = s.inPlace() ? da : Gen.segment(ws, input[3]);
            // z, a and da use offIn; the output dz uses offOut (== offIn in place)
            act.backward(s.f(), s.n(), z, s.offIn(), a, s.offIn(), da, s.offIn(), dz, s.offOut());
            return Gen.read(dz);
        }
    }
}
