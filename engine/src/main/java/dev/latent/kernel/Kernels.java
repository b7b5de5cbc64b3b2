package dev.latent.kernel;

import java.util.Map;
import java.util.Objects;

/**
 * One complete set of kernels, one implementation per family, as built by a {@link KernelProvider}.
 * {@code details} is what {@code latent info} prints about it (vector size, FMA, BLAS core, threads).
 * {@code pool} is the threads the kernels run on (one, the caller's, for the scalar reference): layers
 * whose own loops split into independent tasks (batch norm's channels) run them there too.
 */
public record Kernels(String name, Gemm gemm, Elementwise elementwise, Reductions reductions,
                     Activations activations, Softmax softmax, Im2col im2col,
                     Map<String, String> details, KernelPool pool) {

    public Kernels {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(gemm, "gemm");
        Objects.requireNonNull(elementwise, "elementwise");
        Objects.requireNonNull(reductions, "reductions");
        Objects.requireNonNull(activations, "activations");
        Objects.requireNonNull(softmax, "softmax");
        Objects.requireNonNull(im2col, "im2col");
        Objects.requireNonNull(pool, "pool");
        details = Map.copyOf(details);
    }

    /** The kernels selected for this JVM ({@code -Dlatent.kernels} or {@code LATENT_KERNELS}, default auto). */
    public static Kernels current() {
        return KernelRegistry.current();
    }

    /** These kernels with another name, GEMM and details: how a provider overrides only GEMM. */
    public Kernels withGemm(String newName, Gemm newGemm, Map<String, String> newDetails) {
        return new Kernels(newName, newGemm, elementwise, reductions, activations, softmax, im2col, newDetails, pool);
    }
}
