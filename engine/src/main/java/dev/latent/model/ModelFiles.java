package dev.latent.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.latent.io.BadInputException;
import dev.latent.io.ModelFile;
import dev.latent.io.SafeTensors;
import dev.latent.nn.Param;
import dev.latent.nn.Sequential;
import dev.latent.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Saving and loading the network of a model in latent's model-file format ({@link ModelFile}), and
 * reading config fields with errors that name the file and the field: what the network-backed model
 * kinds (autoencoder, conv-autoencoder, residual-autoencoder) do the same way.
 */
public final class ModelFiles {

    private ModelFiles() {
    }

    /**
     * Writes every parameter of {@code net} under its name, and in {@code __metadata__} the format,
     * {@code kind}, {@code config}, {@code encoder} spec, {@code input_shape} and the provenance; atomically.
     */
    public static void save(Path file, String kind, JsonNode config, JsonNode encoder, int[] inputShape, Sequential net,
                     Map<String, String> provenance) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Param p : net.params()) {
            tensors.put(p.name(), p.value());
        }
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("encoder", encoder.toString());
        extra.put("input_shape", ModelFile.shape(inputShape));
        SafeTensors.write(file, tensors, ModelFile.metadata(kind, config.toString(), extra, provenance));
    }

    /**
     * Copies the file's tensors into the parameters of {@code net}, bit-exactly; a missing tensor, a
     * wrong shape or a tensor the config does not explain is a {@link BadInputException} naming the file.
     */
    public static void loadInto(Sequential net, SafeTensors.Loaded l, String kind) {
        Set<String> expected = new HashSet<>();
        for (Param p : net.params()) {
            p.value().copyFrom(l.tensor(p.name(), p.value().shape()));
            expected.add(p.name());
        }
        ModelFile.requireOnly(l, expected, kind);
    }

    /** The config field {@code field}, or a {@link BadInputException} naming the source and the field. */
    public static JsonNode required(JsonNode c, String field, String source) {
        JsonNode v = c.get(field);
        if (v == null || v.isNull()) {
            throw new BadInputException(source + ": config field '" + field + "' is missing");
        }
        return v;
    }

    /** The int array of config field {@code field}. */
    public static int[] ints(JsonNode c, String field, String source) {
        JsonNode a = required(c, field, source);
        if (!a.isArray()) {
            throw new BadInputException(source + ": config field '" + field + "' must be an array of integers, got " + a);
        }
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.get(i).asInt();
        }
        return v;
    }
}
