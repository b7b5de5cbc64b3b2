package dev.latent.train;

import dev.latent.io.BadInputException;
import dev.latent.io.SafeTensors;
import dev.latent.optim.Optimizer;
import dev.latent.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A training checkpoint: a safetensors file (the model files' format) holding named tensors (parameters,
 * batch-norm statistics: whatever the caller names), each optimizer's state as {@code NAME.state} with
 * its step counter in {@code __metadata__.NAME_steps}, the last finished {@code epoch}, and caller
 * metadata; {@code __metadata__.format} is {@value #FORMAT}. Written atomically (temp file, fsync,
 * rename), so a kill leaves the previous checkpoint or the new one. The shuffle and noise of epoch e
 * are drawn from generators seeded by (seed, e), so (seed, epoch) is the whole random state.
 */
public final class Checkpoint {

    public static final String FORMAT = "latent-checkpoint-1";

    /** What {@link #restore} read: the file and its metadata, with checked number parsing. */
    public record Restored(Path file, Map<String, String> metadata) {

        /** The last finished epoch. */
        public int epoch() {
            return intMeta("epoch");
        }

        public String meta(String key) {
            String v = metadata.get(key);
            if (v == null) {
                throw new BadInputException(file + ": __metadata__." + key + " is missing (not a checkpoint of this kind)");
            }
            return v;
        }

        public int intMeta(String key) {
            try {
                return Integer.parseInt(meta(key));
            } catch (NumberFormatException e) {
                throw new BadInputException(file + ": __metadata__." + key + " is not an integer: " + meta(key), e);
            }
        }

        public double doubleMeta(String key) {
            try {
                return Double.parseDouble(meta(key));
            } catch (NumberFormatException e) {
                throw new BadInputException(file + ": __metadata__." + key + " is not a number: " + meta(key), e);
            }
        }
    }

    private Checkpoint() {
    }

    /** Writes {@code tensors}, the optimizers' states and counters, {@code epoch} and {@code meta} to {@code file}. */
    public static void write(Path file, int epoch, Map<String, Tensor> tensors, Map<String, Optimizer> optimizers,
                             Map<String, String> meta) throws IOException {
        Map<String, Tensor> all = new LinkedHashMap<>(tensors);
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("epoch", Integer.toString(epoch));
        for (Map.Entry<String, Optimizer> o : optimizers.entrySet()) {
            all.put(o.getKey() + ".state", o.getValue().state());
            m.put(o.getKey() + "_steps", Long.toString(o.getValue().steps()));
        }
        m.putAll(meta);
        SafeTensors.write(file, all, m);
    }

    /**
     * Copies the checkpoint's tensors into {@code tensors} (same names and shapes, else a
     * BadInputException naming the file and tensor) and restores the optimizers' states and counters.
     */
    public static Restored restore(Path file, Map<String, Tensor> tensors, Map<String, Optimizer> optimizers) throws IOException {
        return restore(file, tensors, optimizers, r -> { });
    }

    /** As {@link #restore(Path, Map, Map)}, after {@code check} has accepted the metadata (it throws to refuse). */
    public static Restored restore(Path file, Map<String, Tensor> tensors, Map<String, Optimizer> optimizers,
                                   Consumer<Restored> check) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.Loaded l = SafeTensors.read(file, arena);
            if (!FORMAT.equals(l.metadata().get("format"))) {
                throw new BadInputException(file + ": __metadata__.format is " + l.metadata().get("format") + ", not " + FORMAT);
            }
            Restored r = new Restored(file, Map.copyOf(l.metadata()));
            r.epoch();
            check.accept(r);
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                e.getValue().copyFrom(l.tensor(e.getKey(), e.getValue().shape()));
            }
            for (Map.Entry<String, Optimizer> o : optimizers.entrySet()) {
                Tensor state = o.getValue().state();
                state.copyFrom(l.tensor(o.getKey() + ".state", state.shape()));
                try {
                    o.getValue().setSteps(Long.parseLong(r.meta(o.getKey() + "_steps")));
                } catch (NumberFormatException e) {
                    throw new BadInputException(file + ": __metadata__." + o.getKey() + "_steps is not an integer", e);
                }
            }
            return r;
        }
    }
}
