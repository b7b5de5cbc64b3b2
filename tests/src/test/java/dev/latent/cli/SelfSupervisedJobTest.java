package dev.latent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code latent train --kind contrastive|exemplar|patch-position}: bad input is exit code 2, before any training. */
class SelfSupervisedJobTest {

    @Test
    void badSettingsExitWithTwo(@TempDir Path out) {
        assertEquals(2, Main.run("train", "--kind", "exemplar", "--out", out.toString(), "--set", "colour=1"));
        assertEquals(2, Main.run("train", "--kind", "contrastive", "--out", out.toString(), "--set", "channels=4,4,4,4,4,4"));
        assertEquals(2, Main.run("train", "--kind", "patch-position", "--out", out.toString(), "--set", "patch=20"));
        assertEquals(2, Main.run("train", "--kind", "contrastive", "--out", out.toString(), "--set", "temperature=0"));
    }
}
