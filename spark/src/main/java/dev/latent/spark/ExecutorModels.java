package dev.latent.spark;

import dev.latent.serve.Encoder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The models of one JVM (driver or executor), loaded once per JVM and shared by all its tasks: keyed by
 * the SHA-256 of the model file's bytes, so two stages with the same payload share one {@link Encoder}
 * and a changed payload never meets a stale one. The bytes arrive by broadcast; they are written once to
 * {@code java.io.tmpdir/latent-spark-<sha256>.safetensors} (atomically, so concurrent JVMs on one host
 * may race harmlessly) and loaded with {@link Encoder#load(Path)}, the path every model kind's loader
 * takes (no engine change needed); the file stays while the JVM runs. The Encoder is thread-safe, so concurrent tasks of an executor share
 * it. Entries live as long as the JVM (an executor's lifetime), like a broadcast variable's value.
 */
public final class ExecutorModels {

    private static final ConcurrentHashMap<String, Encoder> LOADED = new ConcurrentHashMap<>();

    private ExecutorModels() {
    }

    /** Lower-case hex SHA-256 of {@code bytes}. */
    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from this JVM", e);
        }
    }

    /**
     * Fails with a message saying what to add when this JVM cannot read the incubating Vector API:
     * latent's kernels would otherwise run the scalar fallback silently (or fail on a missing class).
     */
    public static void requireVectorApi(String where) {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            throw new IllegalStateException(where + ": this JVM (" + System.getProperty("java.version") + ", pid "
                    + ProcessHandle.current().pid() + ") was started without --add-modules jdk.incubator.vector; latent needs it"
                    + " on every executor: add '--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED' to"
                    + " spark.executor.extraJavaOptions (and spark.driver.extraJavaOptions)");
        }
        if (Runtime.version().feature() < 25) {
            throw new IllegalStateException(where + ": this JVM is Java " + Runtime.version() + "; latent needs Java 25 or newer"
                    + " on every executor (set spark.executorEnv.JAVA_HOME to a JDK 25)");
        }
    }

    /**
     * Checks this JVM as an executor would before encoding, for a cluster's JVM options: prints the kernel
     * provider in use, or the one-line fault and exits with status 2.
     * {@code java <options> -cp latent-spark.jar:latent-engine.jar:... dev.latent.spark.ExecutorModels}
     */
    public static void main(String[] args) {
        try {
            requireVectorApi("latent-spark");
        } catch (IllegalStateException e) {
            System.err.println(e.getMessage());
            System.exit(2);
        }
        System.out.println("latent-spark: this JVM can run latent (kernels: " + dev.latent.kernel.Kernels.current().name() + ")");
    }

    /** The shared Encoder of the model whose file bytes are {@code bytes} (hash {@code sha256}). */
    public static Encoder encoder(String sha256, byte[] bytes) {
        Encoder e = LOADED.get(sha256);
        if (e != null) {
            return e;
        }
        return LOADED.computeIfAbsent(sha256, h -> load(h, bytes));
    }

    /** How many distinct models this JVM holds (for tests of the once-per-JVM rule). */
    public static int loadedCount() {
        return LOADED.size();
    }

    private static Encoder load(String sha256, byte[] bytes) {
        requireVectorApi("latent-spark");
        String actual = sha256(bytes);
        if (!actual.equals(sha256)) {
            throw new IllegalStateException("latent-spark: model bytes hash to " + actual + ", expected " + sha256);
        }
        try {
            Path dir = Path.of(System.getProperty("java.io.tmpdir"));
            Path file = dir.resolve("latent-spark-" + sha256 + ".safetensors");
            if (!Files.isRegularFile(file) || Files.size(file) != bytes.length) {
                Path tmp = Files.createTempFile(dir, "latent-spark-", ".tmp");
                try {
                    Files.write(tmp, bytes);
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
            // Kept for the JVM's life: a dense model is read into memory at load, but the other kinds load
            // one copy per calling thread from this path (Encoder's per-thread models).
            return Encoder.load(file);
        } catch (IOException e) {
            throw new UncheckedIOException("latent-spark: cannot load model " + sha256, e);
        }
    }
}
