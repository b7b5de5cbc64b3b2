package dev.latent.kernel.simd;

import dev.latent.kernel.KernelPool;
import dev.latent.kernel.KernelProvider;
import dev.latent.kernel.Kernels;
import java.util.Map;
import java.util.Optional;

/**
 * The Vector API kernels: packed multi-threaded GEMM and vectorised level-1, reduction, activation,
 * softmax and im2col loops, all on one vector shape ({@link SimdShape}) and one thread pool
 * ({@link KernelPool}).
 */
public final class SimdProvider implements KernelProvider {

    @Override
    public String name() {
        return "simd";
    }

    @Override
    public int priority() {
        return 100;
    }

    /** Checks the incubator module without loading any of its classes (that would fail if it is absent). */
    @Override
    public Optional<String> unavailableReason() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return Optional.of("module jdk.incubator.vector not readable: add --add-modules jdk.incubator.vector");
        }
        if (!SimdShape.hardwareFma()) {
            return Optional.of("no hardware fused multiply-add (the JVM's UseFMA is off): the Vector API would emulate"
                    + " every FMA, slower than the scalar provider");
        }
        return Optional.empty();
    }

    @Override
    public Kernels create(Kernels fallback) {
        // Validate the requested size first, so a bad value is a plain IllegalArgumentException naming
        // the property rather than an ExceptionInInitializerError.
        SimdShape.bits(System.getProperty(SimdShape.PROPERTY));
        KernelPool pool = KernelPool.SHARED;
        return new Kernels("simd", new SimdGemm(pool), new SimdElementwise(pool), new SimdReductions(),
                new SimdActivations(pool), new SimdSoftmax(), new SimdIm2col(pool),
                Map.of("vector.bits", Integer.toString(SimdShape.BITS),
                        "lanes", Integer.toString(SimdShape.LANES),
                        "fma", "hardware",
                        "threads", Integer.toString(pool.threads()),
                        "gemm.tile", SimdGemm.MR + "x" + SimdGemm.NR + " kc" + SimdGemm.KC,
                        "gemm.dots", "A B^T with n <= " + SimdShape.LANES + " and k >= " + 8 * SimdShape.LANES
                                + ": 4x3 dot products along k (no packing)",
                        "accumulation", "float"), pool);
    }
}
