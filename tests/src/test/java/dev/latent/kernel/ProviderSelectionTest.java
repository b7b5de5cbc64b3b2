package dev.latent.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Provider selection: auto takes the highest-ranked available provider, an unknown name is an error
 * naming it, and (JVector's check) the provider in use is the one the build asked for with
 * {@code -Dlatent.kernels}, so a silent fallback cannot pass CI. {@code -Dlatent.kernels.required}
 * lists providers that must be registered and available on every machine that runs the suite.
 */
class ProviderSelectionTest {

    /** Providers the build requires; set by tests/pom.xml. */
    static final String REQUIRED = "latent.kernels.required";

    @Test
    void autoPicksTheHighestRankedAvailableProvider() {
        List<KernelProvider> available = KernelRegistry.providers().stream()
                .filter(p -> p.unavailableReason().isEmpty()).toList();
        assertFalse(available.isEmpty(), "no provider available; registered: " + KernelCases.registeredNames());
        int best = available.stream().mapToInt(KernelProvider::autoRank).max().orElseThrow();
        Kernels auto = KernelRegistry.select("auto");
        KernelProvider chosen = available.stream().filter(p -> p.name().equals(auto.name())).findFirst()
                .orElseThrow(() -> new AssertionError("auto chose '" + auto.name() + "', not an available provider "
                        + KernelRegistry.availableNames()));
        assertEquals(best, chosen.autoRank(), () -> "auto chose '" + auto.name() + "' (rank " + chosen.autoRank()
                + ") but the highest available rank is " + best + " among " + KernelRegistry.availableNames());
        assertEquals(highestRanked(), auto.name());
        assertEquals(auto.name(), KernelRegistry.select(" AUTO ").name(), "select is case- and space-insensitive");
    }

    /** The rule's one decision today: where the Vector API runs, auto takes simd over OpenBLAS. */
    @Test
    void autoTakesSimdOverOpenBlasWhereBothRun() {
        List<String> names = KernelRegistry.availableNames();
        Assumptions.assumeTrue(names.contains("simd") && names.contains("openblas"), () -> "needs simd and openblas: " + names);
        assertEquals("simd", KernelRegistry.select("auto").name());
        // openblas still takes its other kernels from simd, the next lower priority
        assertEquals("simd", KernelRegistry.load("openblas").details().get("other kernels"));
    }

    private static String highestRanked() {
        return KernelRegistry.providers().stream().filter(p -> p.unavailableReason().isEmpty())
                .max(java.util.Comparator.comparingInt(KernelProvider::autoRank)).orElseThrow().name();
    }

    @Test
    void unknownProviderIsAnErrorNamingIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> KernelRegistry.load("nonexistent"));
        assertTrue(e.getMessage().contains("'nonexistent'"), e.getMessage());
        IllegalStateException viaSelect = assertThrows(IllegalStateException.class, () -> KernelRegistry.select("nonexistent"));
        assertTrue(viaSelect.getMessage().contains("'nonexistent'"), viaSelect.getMessage());
    }

    @Test
    void everyAvailableProviderBuildsKernelsUnderItsOwnName() {
        for (String name : KernelRegistry.availableNames()) {
            assertEquals(name, KernelRegistry.load(name).name(), "kernels built by provider '" + name + "'");
        }
        assertTrue(KernelRegistry.availableNames().contains("scalar"), "the scalar reference must always be available");
    }

    @Test
    void unavailableProviderRequestedByNameIsAnErrorNamingIt() {
        for (KernelProvider p : KernelRegistry.providers()) {
            if (p.unavailableReason().isPresent()) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> KernelRegistry.load(p.name()));
                assertTrue(e.getMessage().contains("'" + p.name() + "'") && e.getMessage().contains(p.unavailableReason().get()),
                        e.getMessage());
            }
        }
    }

    /**
     * With -Dlatent.kernels=X, the kernels in use must be X's. Skipped only while X is listed in
     * -Dlatent.kernels.pending and not yet registered (a provider still being written on another branch).
     */
    @Test
    void providerInUseIsTheOneRequested() {
        String requested = KernelRegistry.requested();
        if (requested.equals("auto")) {
            assertEquals(highestRanked(), Kernels.current().name(), "with auto the highest-ranked available provider is in use");
            return;
        }
        boolean registered = KernelCases.registeredNames().contains(requested);
        Assumptions.assumeTrue(registered || !KernelCases.pending().contains(requested),
                () -> "-D" + KernelRegistry.PROPERTY + "=" + requested + " is pending and not registered yet; registered: "
                        + KernelCases.registeredNames());
        assertEquals(requested, Kernels.current().name(), "-D" + KernelRegistry.PROPERTY + "=" + requested
                + " was requested but another provider is in use");
    }

    /** Every provider the build lists in -Dlatent.kernels.required is registered and available here. */
    @Test
    void requiredProvidersAreAvailable() {
        List<String> required = Arrays.stream(System.getProperty(REQUIRED, "scalar").split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).toList();
        for (String name : required) {
            assertTrue(KernelRegistry.availableNames().contains(name), () -> "provider '" + name + "' is required (-D"
                    + REQUIRED + ") but not available; registered: " + KernelCases.registeredNames() + ", available: "
                    + KernelRegistry.availableNames() + reason(name));
        }
    }

    private static String reason(String name) {
        return KernelRegistry.providers().stream().filter(p -> p.name().equals(name)).findFirst()
                .flatMap(KernelProvider::unavailableReason).map(r -> "; '" + name + "' says: " + r).orElse("");
    }
}
