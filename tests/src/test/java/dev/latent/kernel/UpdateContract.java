package dev.latent.kernel;

import dev.latent.prop.Compare;
import dev.latent.prop.Gen;
import dev.latent.prop.Prop;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The optimizer updates of {@link Elementwise} ({@link Elementwise#adam}, {@link Elementwise#sgd}) as
 * properties against the scalar reference. Their contract fixes every rounding (no FMA, correctly
 * rounded sqrt), so every buffer must equal the reference bit for bit (tolerance 0), including the
 * floats before and after each run (untouched) and g (read only); a second identical call gives the
 * same bits.
 */
public interface UpdateContract {

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.UpdateContract#cases")
    default void updateMatchesReferenceExactly(KernelCase<UpdateShape> c) {
        c.check(s -> check(c.subject(), c.seed(), s));
    }

    /** Negative n and runs outside their segment: IllegalArgumentException. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#providers")
    default void updateRejectsBadArguments(String provider) {
        Elementwise e = KernelRegistry.load(provider).elementwise();
        try (Workspace ws = new Workspace("update bad arguments")) {
            MemorySegment a = ws.allocateFloats(16);
            MemorySegment b = ws.allocateFloats(16);
            MemorySegment c = ws.allocateFloats(16);
            MemorySegment d = ws.allocateFloats(16);
            String p = provider + " ";
            Compare.rejects(() -> p + "adam n = -1", () -> e.adam(-1, .9f, .1f, .999f, .001f, 1e-3f, 1e-8f, a, 0, b, 0, c, 0, d, 0));
            Compare.rejects(() -> p + "adam v offset 1 + 16 > 16", () -> e.adam(16, .9f, .1f, .999f, .001f, 1e-3f, 1e-8f, a, 0, b, 0, c, 0, d, 1));
            Compare.rejects(() -> p + "adam w offset -1", () -> e.adam(4, .9f, .1f, .999f, .001f, 1e-3f, 1e-8f, a, -1, b, 0, c, 0, d, 0));
            Compare.rejects(() -> p + "sgd n = -1", () -> e.sgd(-1, .1f, .9f, false, a, 0, b, 0, c, 0));
            Compare.rejects(() -> p + "sgd g offset 9 + 8 > 16", () -> e.sgd(8, .1f, 0f, false, a, 0, b, 9, c, 0));
            Compare.rejects(() -> p + "sgd vel offset 9 + 8 > 16", () -> e.sgd(8, .1f, .9f, true, a, 0, b, 0, c, 9));
        }
    }

    static java.util.stream.Stream<KernelCase<UpdateShape>> cases() {
        return KernelCases.cases("update", UpdateShape.edges(), UpdateShape::random, 60);
    }

    private static void check(Kernels subject, long seed, UpdateShape s) {
        SplittableRandom r = Prop.data(seed);
        float[][] buffers = {
            Gen.values(r, s.offW() + s.n() + s.tail()),
            Gen.values(r, s.offG() + s.n() + s.tail()),
            Gen.values(r, s.offS() + s.n() + s.tail()),
            Gen.abs(Gen.values(r, s.offS() + s.n() + s.tail())),
        };
        // Adam's hyper-parameters as Adam passes them (lr, betas, bias-corrected step and eps at a random t).
        double beta1 = r.nextDouble(0, 0.99);
        double beta2 = r.nextDouble(0.9, 0.9999);
        int t = 1 + r.nextInt(1000);
        double lr = Math.exp(r.nextDouble(-12, 0));
        float[] hyper = {(float) beta1, (float) (1 - beta1), (float) beta2, (float) (1 - beta2),
            (float) (lr * Math.sqrt(1 - Math.pow(beta2, t)) / (1 - Math.pow(beta1, t))),
            (float) (1e-8 * Math.sqrt(1 - Math.pow(beta2, t))), (float) lr, (float) r.nextDouble(0.01, 0.99)};
        float[][] expected = run(KernelCase.reference().elementwise(), s, hyper, buffers);
        float[][] actual = run(subject.elementwise(), s, hyper, buffers);
        float[][] again = run(subject.elementwise(), s, hyper, buffers);
        for (int b = 0; b < buffers.length; b++) {
            int buffer = b;
            Compare.sameBits(s + " buffer " + b + " twice", actual[b], again[b], i -> "buffer " + buffer + "[" + i + "]");
            // Tolerance 0: the contract fixes every rounding.
            Compare.close(s + " buffer " + b + " vs scalar", actual[b], expected[b], new double[expected[b].length],
                    i -> "buffer " + buffer + "[" + i + "]");
        }
    }

    private static float[][] run(Elementwise e, UpdateShape s, float[] h, float[][] input) {
        try (Workspace ws = new Workspace("update " + s)) {
            MemorySegment[] seg = Arrays.stream(input).map(a -> Gen.segment(ws, a)).toArray(MemorySegment[]::new);
            switch (s.rule()) {
                case ADAM -> e.adam(s.n(), h[0], h[1], h[2], h[3], h[4], h[5], seg[0], s.offW(), seg[1], s.offG(),
                        seg[2], s.offS(), seg[3], s.offS());
                case SGD -> e.sgd(s.n(), h[6], 0f, false, seg[0], s.offW(), seg[1], s.offG(), seg[2], s.offS());
                case MOMENTUM -> e.sgd(s.n(), h[6], h[7], false, seg[0], s.offW(), seg[1], s.offG(), seg[2], s.offS());
                case NESTEROV -> e.sgd(s.n(), h[6], h[7], true, seg[0], s.offW(), seg[1], s.offG(), seg[2], s.offS());
            }
            return Arrays.stream(seg).map(Gen::read).toArray(float[][]::new);
        }
    }
}
