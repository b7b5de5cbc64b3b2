package dev.latent.blas;

import dev.latent.kernel.KernelProvider;
import dev.latent.kernel.Kernels;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Kernels whose GEMM is OpenBLAS {@code cblas_sgemm} (see {@link OpenBlasGemm}); every other family
 * comes from the next-lower-priority available provider. Available when the OpenBLAS native library
 * loads ({@link OpenBlas#unavailableReason()} says why not).
 */
public final class OpenBlasProvider implements KernelProvider {

    @Override
    public String name() {
        return "openblas";
    }

    @Override
    public int priority() {
        return 200;
    }

    @Override
    public Optional<String> unavailableReason() {
        return OpenBlas.unavailableReason();
    }

    @Override
    public Kernels create(Kernels fallback) {
        if (fallback == null) {
            throw new IllegalStateException("the openblas provider implements only GEMM and needs a lower-priority"
                    + " provider (scalar, in latent-engine) for the other kernel families");
        }
        OpenBlasGemm gemm = new OpenBlasGemm();
        Map<String, String> details = new LinkedHashMap<>(OpenBlas.details());
        details.put("gemm", "openblas cblas_sgemm (FFM, zero-copy)");
        details.put("other kernels", fallback.name());
        fallback.details().forEach((key, value) -> details.putIfAbsent(fallback.name() + " " + key, value));
        return fallback.withGemm("openblas", gemm, details);
    }
}
