package dev.latent.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files latent writes get the permissions of any new file (what the umask leaves of 0666), not
 * {@code createTempFile}'s 0600, so a service running as another user can read a model a training job
 * wrote; and nothing but the file itself is left in its directory. The umask is read off a file this
 * test creates the ordinary way, so the check holds under any umask.
 */
class AtomicFilesTest {

    @Test
    void aModelFileGetsTheUmasksPermissionsAndNoSiblingIsLeft(@TempDir Path dir) throws Exception {
        Path plain = Files.createFile(dir.resolve("plain"));
        Set<PosixFilePermission> expected = Files.getPosixFilePermissions(plain);
        Files.delete(plain);
        Path model = dir.resolve("model.safetensors");
        try (Workspace ws = new Workspace("atomic")) {
            Tensor t = ws.of(new float[] {1, 2, 3}, 3);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("w", t);
            SafeTensors.write(model, tensors, Map.of("kind", "test"));
        }
        assertEquals(expected, Files.getPosixFilePermissions(model), "model file permissions");
        try (var files = Files.list(dir)) {
            assertArrayEquals(new Object[] {model}, files.toArray(), "only the model is left in the directory");
        }
    }

    @Test
    void replaceSwapsTheContentInOneRename(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("table.json");
        Files.writeString(file, "old");
        Path tmp = AtomicFiles.sibling(file);
        assertTrue(tmp.getFileName().toString().startsWith(".table.json."), tmp.toString());
        assertEquals("old", Files.readString(file), "the file is untouched until replace");
        Files.writeString(tmp, "new");
        AtomicFiles.replace(tmp, file);
        assertEquals("new", Files.readString(file));
        assertTrue(Files.notExists(tmp));
    }
}
