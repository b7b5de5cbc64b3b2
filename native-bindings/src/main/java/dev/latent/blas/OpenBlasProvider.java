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

    /**
     * 50: below simd (100), above scalar (0), so {@code auto} takes simd wherever the Vector API runs and
     * OpenBLAS's GEMM only where it does not (or on request, {@code -Dlatent.kernels=openblas}). The rule
     * is measured, not assumed. On a quiet 2-core host the two are within a few percent on every
     * workload (W1 75.9k / 73.4k samples/s, W2 8.0k / 8.1k, W3 3.9k / 4.1k, W4 495 / 462 steps/s). With
     * the cores shared, OpenBLAS's statically partitioned threads wait for whichever of them the host
     * has not scheduled, while simd's pool lets the caller take a missing worker's share: W1 23.6 ms a
     * step against 7.0, k-means Lloyd at k=1600 2,044 ms against 545, both at a load of 6 on 2 cores.
     */
    @Override
    public int autoRank() {
        return 50;
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
