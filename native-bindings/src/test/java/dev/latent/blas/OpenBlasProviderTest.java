package dev.latent.blas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.KernelProvider;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.KernelThreads;
import dev.latent.kernel.Kernels;
import org.junit.jupiter.api.Test;

class OpenBlasProviderTest {

    @Test
    void loadsAndReportsCoreConfigAndThreads() {
        assertEquals("", OpenBlas.unavailableReason().orElse(""));
        assertFalse(OpenBlas.coreName().isBlank());
        assertFalse(OpenBlas.coreName().equals("unavailable"));
        assertTrue(OpenBlas.config().contains("OpenBLAS"), OpenBlas.config());
        assertTrue(OpenBlas.threads() >= 1 && OpenBlas.threads() <= KernelThreads.count(),
                "threads " + OpenBlas.threads() + " vs KernelThreads " + KernelThreads.count());
        assertTrue(OpenBlas.libraryPath().isPresent());
        System.out.println("OpenBLAS: " + OpenBlas.details());
    }

    /**
     * The idle-spin exponent is in the process environment once the library is loaded: latent's
     * short one when the JVM was started without the variable, the user's own otherwise. (Java's
     * System.getenv snapshots the environment at its first use, which here comes after the load.)
     */
    @Test
    void openblasIdleSpinIsShortUnlessTheUserChoseOne() {
        OpenBlas.coreName();
        String reported = OpenBlas.details().get("OPENBLAS_THREAD_TIMEOUT");
        String value = reported.split(" ")[0];
        assertEquals(value, System.getenv("OPENBLAS_THREAD_TIMEOUT"), reported);
        assertTrue(reported.equals(OpenBlas.THREAD_TIMEOUT + " (set by latent)") || reported.endsWith(" (from the environment)"),
                reported);
    }

    @Test
    void providerIdentity() {
        KernelProvider p = new OpenBlasProvider();
        assertEquals("openblas", p.name());
        assertEquals(200, p.priority());
        assertTrue(p.unavailableReason().isEmpty());
    }

    @Test
    void registryLoadsOpenblasByNameWithFallbackFamilies() {
        Kernels k = KernelRegistry.load("openblas");
        // The families OpenBLAS lacks come from the next-lower-priority available provider (simd when it
        // is registered, scalar otherwise).
        String next = KernelRegistry.providers().stream()
                .filter(p -> p.priority() < 200 && p.unavailableReason().isEmpty()).findFirst().orElseThrow().name();
        Kernels fallback = KernelRegistry.load(next);
        assertEquals("openblas", k.name());
        assertInstanceOf(OpenBlasGemm.class, k.gemm());
        assertSame(fallback.elementwise(), k.elementwise());
        assertSame(fallback.softmax(), k.softmax());
        assertEquals(OpenBlas.coreName(), k.details().get("blas core"));
        assertEquals(Integer.toString(OpenBlas.threads()), k.details().get("threads"));
    }

    /** auto ranks openblas below simd (OpenBlasProvider.autoRank) and above scalar. */
    @Test
    void autoPicksOpenblasOnlyWhereSimdCannotRun() {
        assertTrue(KernelRegistry.providers().stream().anyMatch(p -> p instanceof OpenBlasProvider));
        boolean simd = KernelRegistry.availableNames().contains("simd");
        assertEquals(simd ? "simd" : "openblas", KernelRegistry.select("auto").name(), "available: " + KernelRegistry.availableNames());
    }
}
