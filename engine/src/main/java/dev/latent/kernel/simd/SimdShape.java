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
 * <p>Also decides once whether fused multiply-add is a hardware instruction here ({@code UseFMA}). The
 * vector loops call {@code FloatVector.fma} directly, never through a helper: a helper that returns a
 * vector is inlined only while C2 has not compiled it on its own, and once it has (seen at 256-bit
 * vectors, and in a JVM that ran thousands of other tests) every call boxes its vectors, about 30 KB of
 * garbage per encoder call. Without hardware FMA the Vector API would emulate each one (exact but
 * orders of magnitude slower), so the provider is then unavailable ({@link SimdProvider#unavailableReason}).
 * Scalar tails use {@link #fma(float, float, float)}, which has no vectors to box.
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

    /** a * b + c for scalar tails: fused when the CPU has FMA (as the vector loops are), else a multiply then an add. */
    static float fma(float a, float b, float c) {
        return FMA ? Math.fma(a, b, c) : a * b + c;
    }

    /** Whether this JVM runs fused multiply-add as one instruction (its {@code UseFMA}). */
    static boolean hardwareFma() {
        return FMA;
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
