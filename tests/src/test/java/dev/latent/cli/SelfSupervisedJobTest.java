package dev.latent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code latent train --model contrastive|exemplar|patch-position}: bad input is exit code 2, before any training. */
class SelfSupervisedJobTest {

    @Test
    void badSettingsExitWithTwo(@TempDir Path out) {
        assertEquals(2, Main.run("train", "--model", "exemplar", "--out", out.toString(), "--set", "colour=1"));
        assertEquals(2, Main.run("train", "--model", "contrastive", "--out", out.toString(), "--set", "channels=4,4,4,4,4,4"));
        assertEquals(2, Main.run("train", "--model", "patch-position", "--out", out.toString(), "--set", "patch=20"));
        assertEquals(2, Main.run("train", "--model", "contrastive", "--out", out.toString(), "--set", "temperature=0"));
    }
}
