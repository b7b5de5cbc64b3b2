package dev.latent.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The version of latent that is running, as the build wrote it into {@code version.properties} beside
 * this class (a filtered resource of latent-engine), so it is the same from a jar and from classes. It
 * goes into model files' provenance, {@code latent --version}, {@code latent info} and every benchmark row.
 */
public final class LatentVersion {

    private static final String VERSION = read();

    private LatentVersion() {
    }

    /** The version, e.g. "0.1.0-SNAPSHOT". */
    public static String get() {
        return VERSION;
    }

    private static String read() {
        try (InputStream in = LatentVersion.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                throw new IllegalStateException("dev/latent/io/version.properties is missing from latent-engine's jar");
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version");
            if (v == null || v.isBlank() || v.startsWith("${")) {
                throw new IllegalStateException("dev/latent/io/version.properties holds no version: '" + v + "'");
            }
            return v.strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
