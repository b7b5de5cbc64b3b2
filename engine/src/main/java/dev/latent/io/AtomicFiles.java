package dev.latent.io;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Write-then-rename for every file latent writes (models, checkpoints, pictures, tables): the content
 * goes to a hidden sibling, which replaces the file in one rename, so a reader sees the old file or the
 * new one, never half of one. The sibling is created with the permissions any new file gets here (0666
 * less the umask, usually 0644), not {@code Files.createTempFile}'s 0600: a model written by a training
 * job must be readable by the service that runs as another user.
 */
public final class AtomicFiles {

    private static final SecureRandom RANDOM = new SecureRandom();

    private AtomicFiles() {
    }

    /** Creates an empty hidden sibling of {@code file} (its directory created first) to write into. */
    public static Path sibling(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        byte[] tag = new byte[6];
        for (int attempt = 0; ; attempt++) {
            RANDOM.nextBytes(tag);
            Path tmp = dir.resolve("." + file.getFileName() + "." + HexFormat.of().formatHex(tag) + ".tmp");
            try {
                Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return tmp;
            } catch (FileAlreadyExistsException taken) {
                if (attempt == 16) {
                    throw taken;
                }
            }
        }
    }

    /** Renames the written sibling {@code tmp} over {@code file} (atomically where the file system can). */
    public static void replace(Path tmp, Path file) throws IOException {
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
