package dev.latent.kernel.scalar;

import dev.latent.kernel.KernelPool;
import dev.latent.kernel.KernelProvider;
import dev.latent.kernel.Kernels;
import java.util.Map;
import java.util.Optional;

/**
 * The reference kernels: plain loops that read like the formulas in each family's javadoc, always
 * available, single-threaded, and the specification every faster provider is tested against.
 */
public final class ScalarProvider implements KernelProvider {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Optional<String> unavailableReason() {
        return Optional.empty();
    }

    /** The reference runs everything on the calling thread. */
    private static final KernelPool SERIAL = new KernelPool(1);

    @Override
    public Kernels create(Kernels fallback) {
        return new Kernels("scalar", new ScalarGemm(), new ScalarElementwise(), new ScalarReductions(),
                new ScalarActivations(), new ScalarSoftmax(), new ScalarIm2col(),
                Map.of("threads", "1", "accumulation", "double"), SERIAL);
    }
}
