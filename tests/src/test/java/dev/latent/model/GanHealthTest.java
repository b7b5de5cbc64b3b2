package dev.latent.model;

import dev.latent.model.gan.GanHealth;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The failure detector on synthetic epoch numbers. */
class GanHealthTest {

    @Test
    void nonFiniteLossIsFatalAtOnce() {
        List<GanHealth.Finding> f = GanHealth.standard().check(1, Double.NaN, 1.0, 1.0);
        assertEquals(1, f.size());
        assertEquals("non_finite", f.getFirst().kind());
        assertTrue(f.getFirst().fatal());
    }

    @Test
    void discriminatorCollapseWarnsThenStopsWhenItPersists() {
        GanHealth h = GanHealth.standard();
        assertTrue(h.check(1, 1.2, 1.0, 1.0).isEmpty(), "a healthy epoch");
        double g = 6;
        for (int e = 2; e <= 4; e++) {
            List<GanHealth.Finding> f = h.check(e, 0.01, g, 1.0);
            assertEquals(1, f.size(), "epoch " + e);
            assertEquals("discriminator_collapse", f.getFirst().kind());
            assertEquals(e == 4, f.getFirst().fatal(), "fatal only after 3 epochs in a row, epoch " + e);
            g += 1;
        }
        assertTrue(h.check(5, 0.01, 5.5, 1.0).isEmpty(), "G's loss falling again is not a collapse");
    }

    @Test
    void samplesAlikeAreReported() {
        GanHealth h = GanHealth.standard();
        List<GanHealth.Finding> f = h.check(1, 1.0, 1.0, 0.05);
        assertEquals("samples_alike", f.getFirst().kind());
        assertFalse(f.getFirst().fatal());
        assertTrue(h.check(2, 1.0, 1.0, 0.9).isEmpty());
    }
}
