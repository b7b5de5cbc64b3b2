package dev.latent.kernel;

import dev.latent.prop.Prop;
import dev.latent.prop.Shrinkable;
import java.util.function.Consumer;

/**
 * One property case: the provider under test (by name), the seed of its data (and of its shape when
 * the shape is random), and the shape. Its {@code toString} is the display name, so a failing case
 * names its provider, seed and shape in the report.
 */
public record KernelCase<S extends Shrinkable<S>>(String provider, long seed, S shape) {

    /** The kernels under test. */
    public Kernels subject() {
        return KernelRegistry.load(provider);
    }

    /** The scalar reference: the specification every provider is compared with. */
    public static Kernels reference() {
        return KernelRegistry.load("scalar");
    }

    /** Runs {@code property(shape)}, shrinking and reporting through {@link Prop#check} on failure. */
    public void check(Consumer<S> property) {
        Prop.check(provider, seed, shape, property);
    }

    @Override
    public String toString() {
        return provider + " seed=" + seed + " " + shape;
    }
}
