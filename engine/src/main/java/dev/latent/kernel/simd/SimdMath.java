package dev.latent.kernel.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The transcendental functions and the lane sum of the simd kernels, built only from operations whose
 * result IEEE 754 fixes exactly (add, multiply, divide, FMA, min/max, comparisons, blends, integer and
 * bit operations, fixed lane permutations). HotSpot gives those the same bits interpreted, C1- or
 * C2-compiled, so a kernel's result never depends on whether its call site has been compiled yet. The
 * Vector API's {@code lanewise(EXP / TANH / LOG1P)} does not have that property (SVML when C2 intrinsifies
 * it, a per-lane StrictMath fallback otherwise, with different roundings), and neither does
 * {@code reduceLanes(ADD)} (its order is unspecified: sequential in the fallback, a tree when compiled).
 *
 * <p>Every vector function has a scalar twin performing the same operations in the same order (with
 * {@link SimdShape#fma}, fused exactly when the vector form is), so kernels use the twin for tails and a
 * value's result never depends on its position in a run.
 *
 * <p>Accuracy against the double-precision formula (measured over 10^7 random and 10^6 dense-grid
 * floats, see {@code SimdMathTest}): exp at most 1 ulp in the normal range; sigmoid, tanh and softplus as
 * documented in {@link SimdActivations}.
 */
final class SimdMath {

    private static final VectorSpecies<Float> F = SimdShape.FLOAT;
    private static final int L = SimdShape.LANES;

    /** 1.5 * 2^23: adding it rounds a float of magnitude below 2^22 to an integer in the low mantissa bits. */
    private static final float MAGIC = 12582912f;
    private static final int MAGIC_BITS = 0x4B400000;
    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split: LN2_HI has 9 significant bits, so n * LN2_HI is exact for |n| <= 2^15. */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** Arguments are clamped to [EXP_MIN, EXP_MAX]: below, e^x rounds to 0; above, it overflows to +inf. */
    private static final float EXP_MAX = 89f;
    private static final float EXP_MIN = -104f;
    // Cody-Waite reduced exp polynomial, e^r = 1 + r + r^2 P(r) on |r| <= ln2 / 2 (Cephes expf).
    private static final float E5 = 1.9875691500e-4f;
    private static final float E4 = 1.3981999507e-3f;
    private static final float E3 = 8.3334519073e-3f;
    private static final float E2 = 4.1665795894e-2f;
    private static final float E1 = 1.6666665459e-1f;
    private static final float E0 = 5.0000001201e-1f;
    // tanh x = x + x^3 P(x^2) on |x| < TANH_SMALL (Cephes tanhf).
    private static final float TANH_SMALL = 0.625f;
    private static final float T4 = -5.70498872745e-3f;
    private static final float T3 = 2.06390887954e-2f;
    private static final float T2 = -5.37397155531e-2f;
    private static final float T1 = 1.33314422036e-1f;
    private static final float T0 = -3.33332819422e-1f;
    // log1p u = 2 atanh s, s = u / (2 + u) in [0, 1/3] for u in [0, 1]: 2s + s^3 Q(s^2), Q the series 2/(2k+1).
    private static final float Q0 = 2f / 3f;
    private static final float Q1 = 2f / 5f;
    private static final float Q2 = 2f / 7f;
    private static final float Q3 = 2f / 9f;
    private static final float Q4 = 2f / 11f;
    private static final float Q5 = 2f / 13f;
    private static final float Q6 = 2f / 15f;
    private static final float Q7 = 2f / 17f;

    /** Lane rotations for the fixed pairwise lane sum (null where the vector is too short to need one). */
    private static final VectorShuffle<Float> ROT8 = L >= 16 ? F.iotaShuffle(8, 1, true) : null;
    private static final VectorShuffle<Float> ROT4 = L >= 8 ? F.iotaShuffle(4, 1, true) : null;
    private static final VectorShuffle<Float> ROT2 = F.iotaShuffle(2, 1, true);
    private static final VectorShuffle<Float> ROT1 = F.iotaShuffle(1, 1, true);

    private SimdMath() {
    }

    /**
     * The sum of the lanes in a fixed pairwise order (lane i + lane i + L/2, and so on down to lane 0):
     * the same bits whether this runs interpreted or compiled, unlike {@code reduceLanes(ADD)}.
     */
    static float sum(FloatVector v) {
        if (L >= 16) {
            v = v.add(v.rearrange(ROT8));
        }
        if (L >= 8) {
            v = v.add(v.rearrange(ROT4));
        }
        v = v.add(v.rearrange(ROT2));
        v = v.add(v.rearrange(ROT1));
        return v.lane(0);
    }

    /** The largest lane (Math.max semantics: NaN wins, +0 over -0), in a fixed lane order. */
    static float max(FloatVector v) {
        if (L >= 16) {
            v = v.max(v.rearrange(ROT8));
        }
        if (L >= 8) {
            v = v.max(v.rearrange(ROT4));
        }
        v = v.max(v.rearrange(ROT2));
        v = v.max(v.rearrange(ROT1));
        return v.lane(0);
    }

    /** e^x lane by lane: NaN stays NaN, x &gt; 88.73 gives +inf, x &lt; -103.98 gives +0. */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(EXP_MIN).min(EXP_MAX);
        FloatVector t = xc.fma(FloatVector.broadcast(F, LOG2E), FloatVector.broadcast(F, MAGIC));
        IntVector n = (IntVector) t.reinterpretAsInts();
        n = n.sub(MAGIC_BITS);
        FloatVector nf = t.sub(MAGIC);
        FloatVector r = nf.fma(FloatVector.broadcast(F, -LN2_HI), xc);
        r = nf.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(F, E5).fma(r, FloatVector.broadcast(F, E4));
        p = p.fma(r, FloatVector.broadcast(F, E3));
        p = p.fma(r, FloatVector.broadcast(F, E2));
        p = p.fma(r, FloatVector.broadcast(F, E1));
        p = p.fma(r, FloatVector.broadcast(F, E0));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        // 2^n as two normal factors 2^n1 * 2^n2 (n in [-150, 128]): the first product is exact, the
        // second rounds once, also into the subnormal range.
        IntVector n1 = n.lanewise(VectorOperators.ASHR, 1);
        IntVector n2 = n.sub(n1);
        FloatVector s1 = (FloatVector) n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = (FloatVector) n2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(s1).mul(s2);
    }

    /** Scalar twin of {@link #exp(FloatVector)}: the same bits for the same x. */
    static float exp(float x) {
        float xc = Math.min(Math.max(x, EXP_MIN), EXP_MAX);
        float t = SimdShape.fma(xc, LOG2E, MAGIC);
        int n = Float.floatToRawIntBits(t) - MAGIC_BITS;
        float nf = t - MAGIC;
        float r = SimdShape.fma(nf, -LN2_HI, xc);
        r = SimdShape.fma(nf, -LN2_LO, r);
        float p = SimdShape.fma(E5, r, E4);
        p = SimdShape.fma(p, r, E3);
        p = SimdShape.fma(p, r, E2);
        p = SimdShape.fma(p, r, E1);
        p = SimdShape.fma(p, r, E0);
        float y = SimdShape.fma(p, r * r, r) + 1f;
        int n1 = n >> 1;
        int n2 = n - n1;
        return y * Float.intBitsToFloat((n1 + 127) << 23) * Float.intBitsToFloat((n2 + 127) << 23);
    }

    /** 1 / (1 + e^-z). */
    static FloatVector sigmoid(FloatVector z) {
        return FloatVector.broadcast(F, 1f).div(exp(z.neg()).add(1f));
    }

    /** Scalar twin of {@link #sigmoid(FloatVector)}. */
    static float sigmoid(float z) {
        return 1f / (exp(-z) + 1f);
    }

    /** tanh z: an odd polynomial for |z| &lt; 0.625, else 1 - 2 / (e^2|z| + 1); the sign of z is copied. */
    static FloatVector tanh(FloatVector z) {
        FloatVector ax = z.abs();
        FloatVector x2 = ax.mul(ax);
        FloatVector p = FloatVector.broadcast(F, T4).fma(x2, FloatVector.broadcast(F, T3));
        p = p.fma(x2, FloatVector.broadcast(F, T2));
        p = p.fma(x2, FloatVector.broadcast(F, T1));
        p = p.fma(x2, FloatVector.broadcast(F, T0));
        FloatVector small = p.fma(x2.mul(ax), ax);
        FloatVector e = exp(ax.add(ax));
        FloatVector large = FloatVector.broadcast(F, 1f).sub(FloatVector.broadcast(F, 2f).div(e.add(1f)));
        VectorMask<Float> isSmall = ax.compare(VectorOperators.LT, TANH_SMALL);
        FloatVector mag = large.blend(small, isSmall);
        IntVector sign = ((IntVector) z.reinterpretAsInts()).and(0x80000000);
        return (FloatVector) ((IntVector) mag.reinterpretAsInts()).or(sign).reinterpretAsFloats();
    }

    /** Scalar twin of {@link #tanh(FloatVector)}. */
    static float tanh(float z) {
        float ax = Math.abs(z);
        float x2 = ax * ax;
        float p = SimdShape.fma(T4, x2, T3);
        p = SimdShape.fma(p, x2, T2);
        p = SimdShape.fma(p, x2, T1);
        p = SimdShape.fma(p, x2, T0);
        float small = SimdShape.fma(p, x2 * ax, ax);
        float e = exp(ax + ax);
        float large = 1f - 2f / (e + 1f);
        float mag = ax < TANH_SMALL ? small : large;
        return Float.intBitsToFloat(Float.floatToRawIntBits(mag) | (Float.floatToRawIntBits(z) & 0x80000000));
    }

    /** log(1 + u) for u in [0, 1] (NaN stays NaN), as 2 atanh(u / (2 + u)). */
    static FloatVector log1p01(FloatVector u) {
        FloatVector s = u.div(u.add(2f));
        FloatVector s2 = s.mul(s);
        FloatVector q = FloatVector.broadcast(F, Q7).fma(s2, FloatVector.broadcast(F, Q6));
        q = q.fma(s2, FloatVector.broadcast(F, Q5));
        q = q.fma(s2, FloatVector.broadcast(F, Q4));
        q = q.fma(s2, FloatVector.broadcast(F, Q3));
        q = q.fma(s2, FloatVector.broadcast(F, Q2));
        q = q.fma(s2, FloatVector.broadcast(F, Q1));
        q = q.fma(s2, FloatVector.broadcast(F, Q0));
        return s.mul(s2).fma(q, s.add(s));
    }

    /** Scalar twin of {@link #log1p01(FloatVector)}. */
    static float log1p01(float u) {
        float s = u / (u + 2f);
        float s2 = s * s;
        float q = SimdShape.fma(Q7, s2, Q6);
        q = SimdShape.fma(q, s2, Q5);
        q = SimdShape.fma(q, s2, Q4);
        q = SimdShape.fma(q, s2, Q3);
        q = SimdShape.fma(q, s2, Q2);
        q = SimdShape.fma(q, s2, Q1);
        q = SimdShape.fma(q, s2, Q0);
        return SimdShape.fma(s * s2, q, s + s);
    }

    /** max(z, 0) + log1p(e^-|z|): e^-|z| is in [0, 1], so nothing overflows. */
    static FloatVector softplus(FloatVector z) {
        return z.max(0f).add(log1p01(exp(z.abs().neg())));
    }

    /** Scalar twin of {@link #softplus(FloatVector)}. */
    static float softplus(float z) {
        return Math.max(z, 0f) + log1p01(exp(-Math.abs(z)));
    }
}
