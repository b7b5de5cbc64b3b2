package dev.latent.kernel.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import org.junit.jupiter.api.Test;

/** The provider's registration, its details, and the vector-size property. */
class SimdProviderTest {

    @Test
    void registeredAvailableAndDescribed() {
        SimdProvider p = new SimdProvider();
        assertEquals("simd", p.name());
        assertEquals(100, p.priority());
        assertTrue(p.unavailableReason().isEmpty(), "the test JVM adds jdk.incubator.vector");
        Kernels k = KernelRegistry.load("simd");
        assertEquals("simd", k.name());
        assertEquals(Integer.toString(SimdShape.BITS), k.details().get("vector.bits"));
        assertEquals(Integer.toString(SimdShape.LANES), k.details().get("lanes"));
        assertTrue(k.details().containsKey("fma") && k.details().containsKey("threads"), k.details().toString());
    }

    @Test
    void vectorSizeFollowsTheProperty() {
        // The build runs this suite at 128, 256 and 512 bits: a silent fallback must not pass.
        String requested = System.getProperty(SimdShape.PROPERTY);
        if (requested != null && !requested.isBlank()) {
            assertEquals(Integer.parseInt(requested.trim()), SimdShape.BITS);
        }
        assertEquals(SimdShape.BITS / Float.SIZE, SimdShape.LANES);
    }

    @Test
    void badSizesNameTheProperty() {
        for (String bad : new String[] {"64", "100", "1024", "wide", "-256"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SimdShape.bits(bad));
            assertTrue(e.getMessage().contains(SimdShape.PROPERTY), e.getMessage());
        }
        assertEquals(128, SimdShape.bits(" 128 "));
    }
}
