package dev.latent.kernel.simd;

import dev.latent.kernel.KernelConfigException;
import java.lang.management.ManagementFactory;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one place the simd kernels take their vector shape from: every kernel uses {@link #FLOAT}, a
 * {@code static final} species the JIT folds into constants. Its size comes from one number,
 * {@code -Dlatent.vector.bits=128|256|512} (default: the CPU's preferred species), so the test suite can
 * run every kernel at every size on one AVX-512 machine.
 *
 * <p>Also decides once whether fused multiply-add is a hardware instruction here ({@code UseFMA}); the
 * kernels call {@link #fma} only, which falls back to multiply + add where FMA would be emulated
 * (the Vector API's emulated FMA is exact but orders of magnitude slower).
 */
final class SimdShape {

    /** The system property that sets the vector size in bits. */
    static final String PROPERTY = "latent.vector.bits";

    /** Vector size in bits (an invalid setting leaves the preferred size here; {@link SimdProvider#create} reports it). */
    static final int BITS = validOrPreferred(System.getProperty(PROPERTY));
    /** The float species of every simd kernel. */
    static final VectorSpecies<Float> FLOAT = VectorSpecies.of(float.class, VectorShape.forBitSize(BITS));
    /** Floats per vector. */
    static final int LANES = FLOAT.length();
    /** Whether FMA is intrinsified (a single instruction) in this JVM. */
    static final boolean FMA = detectFma();
    /** Byte order of every segment access (the layout JAVA_FLOAT uses). */
    static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private SimdShape() {
    }

    /**
     * Parses the bit size: null or blank gives the preferred size, otherwise 128, 256 or 512 no larger
     * than this CPU's widest vector.
     *
     * @throws IllegalArgumentException naming the property for any other value
     */
    static int bits(String value) {
        int max = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        if (value == null || value.isBlank()) {
            return max;
        }
        int bits;
        try {
            bits = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new KernelConfigException("-D" + PROPERTY + " must be 128, 256 or 512, got '" + value + "'");
        }
        if (bits != 128 && bits != 256 && bits != 512) {
            throw new KernelConfigException("-D" + PROPERTY + " must be 128, 256 or 512, got " + bits);
        }
        if (bits > max) {
            throw new KernelConfigException("-D" + PROPERTY + "=" + bits + " exceeds this CPU's widest float vector ("
                    + max + " bits); use " + max + " or less");
        }
        return bits;
    }

    private static int validOrPreferred(String value) {
        try {
            return bits(value);
        } catch (IllegalArgumentException e) {
            return FloatVector.SPECIES_PREFERRED.vectorBitSize();
        }
    }

    /** a * b + c, fused when the CPU has FMA, else a multiply then an add. */
    static FloatVector fma(FloatVector a, FloatVector b, FloatVector c) {
        return FMA ? a.fma(b, c) : a.mul(b).add(c);
    }

    /** Scalar twin of {@link #fma(FloatVector, FloatVector, FloatVector)}, for tails. */
    static float fma(float a, float b, float c) {
        return FMA ? Math.fma(a, b, c) : a * b + c;
    }

    private static boolean detectFma() {
        try {
            var bean = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            return bean != null && Boolean.parseBoolean(bean.getVMOption("UseFMA").getValue());
        } catch (RuntimeException | LinkageError e) {
            // Not HotSpot, or java.management absent: multiply + add is always fast, an emulated FMA is not.
            return false;
        }
    }
}
