package dev.latent.kernel;

import java.util.Optional;

/**
 * Service-provider interface for a set of kernels, found with {@link java.util.ServiceLoader}
 * (list the class in {@code META-INF/services/dev.latent.kernel.KernelProvider}). A provider registered
 * this way is selectable by name, taken by {@code auto} when it is the highest-ranked available one,
 * and exercised by every property test and benchmark with no other change.
 */
public interface KernelProvider {

    /** Short lower-case name used by {@code -Dlatent.kernels=NAME}. */
    String name();

    /**
     * The order of fallbacks: a provider that implements only some families takes the rest from the
     * available provider of the next lower priority (scalar 0, simd 100, openblas 200).
     */
    int priority();

    /**
     * {@code auto} picks the available provider with the highest rank; by default its priority. A
     * provider that is not the fastest choice on every machine and load it can run on ranks itself below
     * the one it would replace (openblas: see OpenBlasProvider).
     */
    default int autoRank() {
        return priority();
    }

    /**
     * Empty when this provider can run in this JVM; otherwise one actionable line saying why not
     * (e.g. "module jdk.incubator.vector not readable: add --add-modules jdk.incubator.vector").
     */
    Optional<String> unavailableReason();

    /**
     * Builds the kernels. {@code fallback} holds the kernels of the available provider with the next
     * lower priority (null for the lowest): a provider that implements only some families takes the
     * rest from it.
     */
    Kernels create(Kernels fallback);
}
