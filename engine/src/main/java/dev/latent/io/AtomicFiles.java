package dev.latent.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
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
 * job must be readable by the service that runs as another user. {@link #write} is the whole protocol:
 * an I/O failure on the way (a full disk, a missing permission) deletes the sibling, leaves the file as
 * it was, and is an {@link IOException} that names the file being written and the cause
 * ({@code cannot write out/model.safetensors: No space left on device}), which the operating system's
 * message alone does not.
 */
public final class AtomicFiles {

    private static final SecureRandom RANDOM = new SecureRandom();

    private AtomicFiles() {
    }

    /** Writes a file's content into {@code tmp}, an empty file that {@link #write} renames into place. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Path tmp) throws IOException;
    }

    /**
     * Writes {@code file} in one rename: {@code content} into a fresh hidden sibling (its directory
     * created first), flushed to the disk, renamed over {@code file}, the directory flushed. On any failure
     * the sibling is deleted and {@code file} is untouched; an I/O failure names {@code file} (see
     * {@link #cannotWrite}).
     */
    public static void write(Path file, Content content) throws IOException {
        Path tmp;
        try {
            tmp = sibling(file);
        } catch (IOException e) {
            throw cannotWrite(file, e);
        }
        boolean done = false;
        try {
            content.writeTo(tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            replace(tmp, file);
            done = true;
        } catch (IOException e) {
            throw cannotWrite(file, e);
        } finally {
            if (!done) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the failure being thrown matters more than a sibling that could not be removed
                }
            }
        }
        forceDirectory(tmp.getParent());
    }

    /** {@link #write} of {@code text} in UTF-8. */
    public static void writeString(Path file, CharSequence text) throws IOException {
        write(file, tmp -> Files.writeString(tmp, text, StandardCharsets.UTF_8));
    }

    /**
     * {@code e}, a failure to write {@code file}, as an exception whose message names {@code file} and the
     * cause ({@code cannot write FILE: No space left on device}; a failure on a hidden sibling is named as
     * the file's): an exception that already names the file is returned as it is. For writers that append
     * (metrics logs) as well as for {@link #write}.
     */
    public static IOException cannotWrite(Path file, IOException e) {
        String m = e.getMessage();
        if (m != null && m.contains(file.toString()) && !(e instanceof FileSystemException)) {
            return e;
        }
        String why;
        if (e instanceof AccessDeniedException a) {
            why = "permission denied" + (a.getFile() == null || a.getFile().equals(file.toString()) ? "" : " on " + a.getFile());
        } else if (e instanceof java.nio.file.NoSuchFileException n) {
            why = "no such file or directory" + (n.getFile() == null || n.getFile().equals(file.toString()) ? "" : ": " + n.getFile());
        } else if (e instanceof FileSystemException f && f.getReason() != null) {
            why = f.getReason() + (f.getFile() == null || f.getFile().equals(file.toString()) ? "" : " (" + f.getFile() + ")");
        } else {
            why = m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
        }
        return new IOException("cannot write " + file + ": " + why, e);
    }

    /** Flushes a directory's entries (a rename in it) to the disk where the file system can. */
    static void forceDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Some file systems cannot fsync a directory; the rename itself is still atomic.
        }
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
