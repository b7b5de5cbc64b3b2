package dev.latent.kernel;

import java.util.Optional;

/**
 * Service-provider interface for a set of kernels, found with {@link java.util.ServiceLoader}
 * (list the class in {@code META-INF/services/dev.latent.kernel.KernelProvider}). A provider registered
 * this way is selectable by name, taken by {@code auto} when it is the highest-priority available one,
 * and exercised by every property test and benchmark with no other change.
 */
public interface KernelProvider {

    /** Short lower-case name used by {@code -Dlatent.kernels=NAME}. */
    String name();

    /** {@code auto} picks the available provider with the highest priority (scalar 0, simd 100, openblas 200). */
    int priority();

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
