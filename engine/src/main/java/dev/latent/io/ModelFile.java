package dev.latent.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Conventions of latent's model files (safetensors): {@code __metadata__} holds {@code format}
 * ("latent-model"), {@code format_version}, {@code kind} (the model class), {@code config} (its
 * hyperparameters as JSON), then what the kind adds ({@code encoder}: the encoder's layers as JSON for
 * {@code serve.Encoder}; {@code input_shape}; ...), and provenance: {@code latent_version},
 * {@code seed}, {@code data_sha256}. Every kind writes its metadata with {@link #metadata} and checks
 * on load that the file holds no tensor its config does not explain ({@link #requireOnly}).
 */
public final class ModelFile {

    public static final String FORMAT = "latent-model";
    public static final int VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelFile() {
    }

    /** Checks format, version and kind, naming the file and the field on failure. */
    public static void requireKind(SafeTensors.Loaded l, String kind) {
        if (!FORMAT.equals(l.metadata().get("format"))) {
            throw new BadInputException(l.file() + ": __metadata__.format is " + l.metadata().get("format")
                    + ", not " + FORMAT + " (not a latent model file)");
        }
        String v = l.meta("format_version");
        if (!v.equals(Integer.toString(VERSION))) {
            throw new BadInputException(l.file() + ": __metadata__.format_version " + v + " is not supported (this latent reads "
                    + VERSION + ")");
        }
        if (kind != null && !kind.equals(l.meta("kind"))) {
            throw new BadInputException(l.file() + ": __metadata__.kind is " + l.meta("kind") + ", expected " + kind);
        }
    }

    /**
     * The {@code __metadata__} of a model file, in this order: format, format_version, kind, config,
     * the kind's {@code extra} entries (e.g. encoder, input_shape; null for none), the provenance (null
     * for none). An extra or provenance entry may not replace an earlier one: that would write a file
     * that claims another format or kind.
     */
    public static Map<String, String> metadata(String kind, String config, Map<String, String> extra,
                                               Map<String, String> provenance) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("format_version", Integer.toString(VERSION));
        meta.put("kind", kind);
        meta.put("config", config);
        for (Map<String, String> more : java.util.Arrays.asList(extra, provenance)) {
            if (more == null) {
                continue;
            }
            for (Map.Entry<String, String> e : more.entrySet()) {
                if (meta.putIfAbsent(e.getKey(), e.getValue()) != null) {
                    throw new IllegalArgumentException("model file metadata: '" + e.getKey() + "' is given twice");
                }
            }
        }
        return meta;
    }

    /** A shape as the {@code input_shape} metadata entry writes it: a JSON array with no spaces, e.g. [1,28,28]. */
    public static String shape(int... dims) {
        return java.util.Arrays.toString(dims).replace(" ", "");
    }

    /**
     * Refuses a file holding a tensor outside {@code expected} (the names its config explains), naming
     * the file, the tensor and the {@code kind}; missing tensors are the loader's to report, by name.
     */
    public static void requireOnly(SafeTensors.Loaded l, java.util.Set<String> expected, String kind) {
        for (String name : l.tensors().keySet()) {
            if (!expected.contains(name)) {
                throw new BadInputException(l.file() + ": unexpected tensor '" + name + "' for this " + kind + " config");
            }
        }
    }

    /** The metadata field {@code key} parsed as JSON. */
    public static JsonNode json(SafeTensors.Loaded l, String key) {
        try {
            return JSON.readTree(l.meta(key));
        } catch (JsonProcessingException e) {
            throw new BadInputException(l.file() + ": __metadata__." + key + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** Provenance entries: latent version, seed and a SHA-256 of the training data's float values. */
    public static Map<String, String> provenance(String latentVersion, long seed, String dataSha256) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("latent_version", latentVersion);
        m.put("seed", Long.toString(seed));
        m.put("data_sha256", dataSha256);
        return m;
    }

    /** SHA-256 of a tensor's bytes (its float values, little-endian). */
    public static String sha256(dev.latent.tensor.Tensor t) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(t.segment().asSlice(t.offset() * Float.BYTES, t.size() * Float.BYTES).asByteBuffer());
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** SHA-256 of a file's bytes. */
    public static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
