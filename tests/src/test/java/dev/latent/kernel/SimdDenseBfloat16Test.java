package dev.latent.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.latent.kernel.simd.SimdDense;
import dev.latent.prop.Compare;
import dev.latent.prop.Gen;
import dev.latent.prop.Prop;
import dev.latent.tensor.Workspace;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bfloat16 storage of {@link SimdDense} (at every vector size the surefire executions set): on the
 * shapes of the float contract (edges and random), every output has exactly the bits of the float32
 * layer packed from the same weights rounded to bfloat16, both through the widening batch-1 kernels (n &lt;
 * 8) and the widened-panel batch kernel; so {@link PackedDenseContract}'s bound holds for the rounded
 * weights. And the rounding itself: to nearest, ties to even, within 2^-8 relative of the float.
 */
class SimdDenseBfloat16Test {

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#dense")
    void bfloat16EqualsFloatOnRoundedWeights(KernelCase<DenseShape> c) {
        c.check(s -> check(c.seed(), s));
    }

    private static void check(long seed, DenseShape s) {
        SplittableRandom r = Prop.data(seed);
        int ldx = s.in() + s.padX();
        int ldy = s.out() + s.padY();
        float[] w = Gen.values(r, s.out() * s.in());
        float[] rounded = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            rounded[i] = PackedDense.roundToBfloat16(w[i]);
        }
        float[] b = Gen.values(r, s.out());
        float[] x = Gen.values(r, s.n() * ldx);
        try (Arena arena = Arena.ofShared(); Workspace ws = new Workspace("bf16 " + s)) {
            PackedDense half = SimdDense.pack(s.out(), s.in(), Gen.segment(ws, w), 0, s.in(), Gen.segment(ws, b), 0, s.f(),
                    PackedDense.Storage.BFLOAT16, arena);
            PackedDense full = SimdDense.pack(s.out(), s.in(), Gen.segment(ws, rounded), 0, s.in(), Gen.segment(ws, b), 0, s.f(), arena);
            assertEquals(PackedDense.Storage.BFLOAT16, half.storage());
            MemorySegment xs = arena.allocate((long) x.length * Float.BYTES, 64);
            MemorySegment.copy(x, 0, xs, ValueLayout.JAVA_FLOAT, 0, x.length);
            MemorySegment yh = Gen.segment(ws, Gen.nan(s.n() * ldy));
            MemorySegment yf = Gen.segment(ws, Gen.nan(s.n() * ldy));
            half.forward(s.n(), xs, 0, ldx, yh, 0, ldy);
            full.forward(s.n(), xs, 0, ldx, yf, 0, ldy);
            Compare.sameBits(s + ": bfloat16 layer vs float32 layer of the rounded weights", Gen.read(yh), Gen.read(yf),
                    k -> "y[" + k / ldy + ", " + k % ldy + "]");
            // one row alone (the batch-1 kernels) against the same row in the batch
            MemorySegment one = Gen.segment(ws, Gen.nan(s.out()));
            int last = s.n() - 1;
            half.forward(1, xs, (long) last * ldx, ldx, one, 0, s.out());
            float[] alone = Gen.read(one);
            float[] row = java.util.Arrays.copyOfRange(Gen.read(yf), last * ldy, last * ldy + s.out());
            Compare.sameBits(s + ": bfloat16 row " + last + " alone", alone, row, k -> "y[" + last + ", " + k + "]");
        }
    }

    @Test
    void roundingIsToNearestEven() {
        // 1 + 2^-8 is halfway between bfloat16 1 and 1 + 2^-7: ties go to the even mantissa (1).
        assertEquals(1f, PackedDense.roundToBfloat16(1f + 0x1p-8f));
        // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): up.
        assertEquals(1f + 0x1p-6f, PackedDense.roundToBfloat16(1f + 3 * 0x1p-8f));
        assertEquals(1f + 0x1p-7f, PackedDense.roundToBfloat16(1f + 0x1p-7f + 0x1p-10f));
        assertEquals(-2f, PackedDense.roundToBfloat16(-2f));
        assertEquals(0f, PackedDense.roundToBfloat16(0f));
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < 100_000; i++) {
            float v = (float) ((r.nextDouble() - 0.5) * Math.pow(10, r.nextInt(-20, 20)));
            float q = PackedDense.roundToBfloat16(v);
            double rel = Math.abs((double) q - v) / Math.abs(v);
            if (v != 0 && rel > 0x1p-8) {
                throw new AssertionError(v + " rounded to " + q + ": relative error " + rel + " > 2^-8");
            }
            assertEquals(0, Float.floatToRawIntBits(q) & 0xFFFF, "low 16 bits of a bfloat16 are zero");
        }
    }
}
