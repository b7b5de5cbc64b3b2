package dev.latent.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (Hugging Face's, readable by its Python library and by PyTorch): an 8-byte
 * little-endian header length N, N bytes of UTF-8 JSON mapping each tensor name to
 * {@code {"dtype":"F32","shape":[...],"data_offsets":[begin,end]}} (byte offsets into the data that
 * follows the header) plus an optional {@code "__metadata__"} object of string values, then the raw
 * little-endian data. latent writes only F32, pads the header with spaces so the data starts 8-byte
 * aligned, writes atomically (temporary file, fsync, rename) and loads by reading the whole file once
 * into native memory of the caller's arena. It is read, not mapped: a mapped file that is truncated or
 * rewritten in place while it is in use (what {@code cp new.safetensors model.safetensors} does under a
 * running service) takes its pages away, and the next access kills the JVM with SIGBUS inside native
 * code. A loaded file is therefore independent of the file on disk: replacing or truncating the file
 * changes nothing for what was loaded from it. Every defect is a {@link BadInputException} naming the
 * file and the field, and so is a tensor holding NaN or infinity (a diverged model would otherwise give
 * meaningless results that look like success); no read ever leaves the loaded segment.
 */
public final class SafeTensors {

    /** Refuse headers above 100 MB, as the reference implementation does. */
    static final long MAX_HEADER = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafeTensors() {
    }

    /**
     * Writes {@code tensors} (in iteration order) and {@code metadata} to {@code file} atomically: the
     * bytes go to a temporary file in the same directory, which is forced to disk and then renamed
     * over {@code file}; a crash leaves either the old file or the new one, never a half-written one.
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("safetensors writing needs a little-endian platform");
        }
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (e.getKey().equals("__metadata__") || e.getKey().isEmpty()) {
                throw new IllegalArgumentException("invalid tensor name '" + e.getKey() + "'");
            }
            Tensor t = e.getValue();
            ObjectNode info = header.putObject(e.getKey());
            info.put("dtype", "F32");
            var shape = info.putArray("shape");
            for (int d : t.shape()) {
                shape.add(d);
            }
            long bytes = t.size() * Float.BYTES;
            info.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        AtomicFiles.write(file, tmp -> {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                while (head.hasRemaining()) {
                    ch.write(head);
                }
                for (Tensor t : tensors.values()) {
                    ByteBuffer data = t.segment().asSlice(t.offset() * Float.BYTES, t.size() * Float.BYTES).asByteBuffer();
                    while (data.hasRemaining()) {
                        ch.write(data);
                    }
                }
            }
        });
    }

    /** A loaded file: tensors backed by the file's bytes in native memory (or an aligned copy where the file is unaligned). */
    public record Loaded(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {

        /** The tensor {@code name}, or a BadInputException naming the file when it is missing. */
        public Tensor tensor(String name) {
            Tensor t = tensors.get(name);
            if (t == null) {
                throw new BadInputException(file + ": tensor '" + name + "' is missing (the file has " + tensors.keySet() + ")");
            }
            return t;
        }

        /** The tensor {@code name} checked to have {@code shape}. */
        public Tensor tensor(String name, int... shape) {
            Tensor t = tensor(name);
            if (!java.util.Arrays.equals(t.shape(), shape)) {
                throw new BadInputException(file + ": tensor '" + name + "' has shape " + Tensor.format(t.shape())
                        + " but the model needs " + Tensor.format(shape));
            }
            return t;
        }

        /** The metadata value {@code key}, or a BadInputException naming the file when it is missing. */
        public String meta(String key) {
            String v = metadata.get(key);
            if (v == null) {
                throw new BadInputException(file + ": __metadata__." + key + " is missing");
            }
            return v;
        }
    }

    /**
     * Reads {@code file} into native memory of {@code arena} and validates it completely before
     * returning: header length within the file, UTF-8 JSON, every entry F32 with non-negative dimensions
     * whose product times 4 equals its byte range, ranges in bounds, ordered, without overlap or gaps,
     * covering the data, and every value finite.
     */
    public static Loaded read(Path file, Arena arena) throws IOException {
        return read(file, arena, false);
    }

    /**
     * {@link #read(Path, Arena)}, accepting NaN and infinite values when {@code allowNonFinite} (for data
     * files such as codes written with {@code --allow-non-finite}; never for model weights).
     */
    public static Loaded read(Path file, Arena arena, boolean allowNonFinite) throws IOException {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("safetensors reading needs a little-endian platform");
        }
        if (Files.isDirectory(file)) {
            throw new BadInputException(file + ": is a directory, not a safetensors file");
        }
        if (!Files.isRegularFile(file)) {
            throw new BadInputException(file + ": no such file");
        }
        MemorySegment seg;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new BadInputException(file + ": " + size + " bytes is too short for the 8-byte header length");
            }
            long max = Runtime.getRuntime().maxMemory();
            if (size > max) {
                throw new BadInputException(file + ": " + (size >> 20) + " MiB is more than this JVM may hold ("
                        + (max >> 20) + " MiB); give it more with -Xmx (LATENT_JAVA_OPTS=-Xmx...)");
            }
            seg = arena.allocate(size, 64);
            long at = 0;
            while (at < size) {
                int chunk = (int) Math.min(size - at, 1 << 26);
                ByteBuffer buf = seg.asSlice(at, chunk).asByteBuffer();
                while (buf.hasRemaining()) {
                    if (ch.read(buf, at + buf.position()) < 0) {
                        throw new BadInputException(file + ": the file shrank from " + size + " to " + (at + buf.position())
                                + " bytes while it was being read (replaced in place? write the new file beside it and rename it over)");
                    }
                }
                at += chunk;
            }
            if (ch.size() != size) {
                throw new BadInputException(file + ": the file changed size from " + size + " to " + ch.size()
                        + " bytes while it was being read (replaced in place? write the new file beside it and rename it over)");
            }
        }
        return parse(file, seg, arena, allowNonFinite);
    }

    static Loaded parse(Path file, MemorySegment seg, Arena arena) {
        return parse(file, seg, arena, false);
    }

    /** Where the first NaN or infinity of {@code floats} floats at byte {@code at} of {@code seg} is, or -1. */
    private static long firstNonFinite(MemorySegment seg, long at, long floats) {
        ValueLayout.OfInt bits = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < floats; i++) {
            // exponent bits all ones: infinity or NaN
            if ((seg.get(bits, at + i * Float.BYTES) & 0x7f80_0000) == 0x7f80_0000) {
                return i;
            }
        }
        return -1;
    }

    static Loaded parse(Path file, MemorySegment seg, Arena arena, boolean allowNonFinite) {
        long size = seg.byteSize();
        long n = seg.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (n < 2 || n > MAX_HEADER || n > size - 8) {
            throw new BadInputException(file + ": header length " + Long.toUnsignedString(n) + " is impossible for a file of "
                    + size + " bytes");
        }
        byte[] headerBytes = seg.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(headerBytes)).toString();
        } catch (CharacterCodingException e) {
            throw new BadInputException(file + ": header is not valid UTF-8", e);
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new BadInputException(file + ": header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new BadInputException(file + ": header must be a JSON object");
        }
        long dataStart = 8 + n;
        long dataSize = size - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        record Entry(String name, int[] shape, long begin, long end) {
        }
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) {
                    throw new BadInputException(file + ": __metadata__ must be an object of strings");
                }
                for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    if (!kv.getValue().isTextual()) {
                        throw new BadInputException(file + ": __metadata__." + kv.getKey() + " must be a string");
                    }
                    metadata.put(kv.getKey(), kv.getValue().asText());
                }
                continue;
            }
            String where = file + ": tensor '" + name + "'";
            if (!v.isObject()) {
                throw new BadInputException(where + " must be an object with dtype, shape and data_offsets");
            }
            JsonNode dtype = v.get("dtype");
            if (dtype == null || !dtype.isTextual()) {
                throw new BadInputException(where + ": dtype is missing");
            }
            if (!dtype.asText().equals("F32")) {
                throw new BadInputException(where + ": dtype " + dtype.asText() + " is not supported (latent reads F32 only)");
            }
            JsonNode shapeNode = v.get("shape");
            if (shapeNode == null || !shapeNode.isArray()) {
                throw new BadInputException(where + ": shape is missing or not an array");
            }
            int[] shape = new int[shapeNode.size()];
            long elements = 1;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = shapeNode.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0 || d.asLong() > Integer.MAX_VALUE) {
                    throw new BadInputException(where + ": shape[" + i + "] = " + d + " is not a dimension in 0..2^31-1");
                }
                shape[i] = (int) d.asLong();
                elements = Math.multiplyHigh(elements, shape[i]) != 0 ? Long.MAX_VALUE : elements * shape[i];
                if (elements > Integer.MAX_VALUE) {
                    throw new BadInputException(where + ": shape " + shapeNode + " has more than 2^31-1 elements");
                }
            }
            JsonNode off = v.get("data_offsets");
            if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber()
                    || !off.get(0).canConvertToLong() || !off.get(1).canConvertToLong()) {
                throw new BadInputException(where + ": data_offsets must be two integers [begin, end]");
            }
            long begin = off.get(0).asLong();
            long end = off.get(1).asLong();
            if (begin < 0 || end < begin || end > dataSize) {
                throw new BadInputException(where + ": data_offsets [" + begin + ", " + end + "] outside the " + dataSize
                        + " data bytes");
            }
            if (end - begin != elements * Float.BYTES) {
                throw new BadInputException(where + ": shape " + shapeNode + " needs " + elements * Float.BYTES
                        + " bytes but data_offsets span " + (end - begin));
            }
            entries.add(new Entry(name, shape, begin, end));
        }
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort((a, b) -> Long.compare(a.begin(), b.begin()));
        long expect = 0;
        for (Entry e : sorted) {
            if (e.begin() != expect) {
                throw new BadInputException(file + ": tensor '" + e.name() + "' data_offsets begin at " + e.begin()
                        + (e.begin() < expect ? ", overlapping the previous tensor" : ", leaving a gap") + " (expected " + expect + ")");
            }
            expect = e.end();
        }
        if (expect != dataSize) {
            throw new BadInputException(file + ": the tensors cover " + expect + " data bytes but the file has " + dataSize
                    + (expect < dataSize ? " (trailing bytes)" : ""));
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Entry e : entries) {
            long at = dataStart + e.begin();
            long bad = allowNonFinite ? -1 : firstNonFinite(seg, at, (e.end() - e.begin()) / Float.BYTES);
            if (bad >= 0) {
                float v = seg.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at + bad * Float.BYTES);
                throw new BadInputException(file + ": tensor '" + e.name() + "' holds " + v + " at element " + bad + " of "
                        + (e.end() - e.begin()) / Float.BYTES + " (values must be finite; was the model trained to divergence?)");
            }
            MemorySegment backing;
            long offset;
            if (at % Float.BYTES == 0) {
                backing = seg;
                offset = at / Float.BYTES;
            } else {
                // An unaligned tensor (a writer without padding): copy it once into aligned memory.
                backing = arena.allocate(Math.max(4, e.end() - e.begin()), 64);
                MemorySegment.copy(seg, at, backing, 0, e.end() - e.begin());
                offset = 0;
            }
            tensors.put(e.name(), Tensor.wrap(backing, offset, e.shape()));
        }
        return new Loaded(file, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }
}
