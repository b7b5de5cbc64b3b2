package dev.latent.data;

import dev.latent.io.BadInputException;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reader of the IDX format of MNIST and Fashion-MNIST, raw or gzip (detected by its magic bytes):
 * a big-endian header {@code 0x00 0x00 type rank}, then rank big-endian int32 dimensions, then the
 * values. Only unsigned bytes (type 0x08) are used by these data sets, and only they are accepted.
 * Every defect (wrong magic, bad rank or dimension, truncated or overlong body) is a
 * {@link BadInputException} naming the source and the field.
 */
public final class Idx {

    /** A decoded IDX array: its dimensions and its bytes (row-major). */
    public record Array(int[] dims, byte[] data) {
        public int count() {
            return dims[0];
        }

        /** Product of the dimensions after the first. */
        public int itemSize() {
            int s = 1;
            for (int i = 1; i < dims.length; i++) {
                s *= dims[i];
            }
            return s;
        }
    }

    private static final long MAX_BYTES = Integer.MAX_VALUE - 16;

    private Idx() {
    }

    /** Reads an IDX file (raw or gzip). */
    public static Array read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        }
    }

    /** Reads an IDX stream (raw or gzip); {@code source} names it in error messages. */
    public static Array read(InputStream raw, String source) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        InputStream body = in;
        if (b0 == 0x1f && b1 == 0x8b) {
            try {
                body = new BufferedInputStream(new GZIPInputStream(in));
            } catch (IOException e) {
                throw new BadInputException(source + ": gzip header is corrupt: " + e.getMessage(), e);
            }
        }
        byte[] bytes;
        try {
            bytes = readAll(body, source);
        } catch (java.util.zip.ZipException | java.io.EOFException e) {
            throw new BadInputException(source + ": gzip stream is corrupt or truncated: " + e.getMessage(), e);
        }
        return parse(bytes, source);
    }

    private static byte[] readAll(InputStream in, String source) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 16);
        byte[] buf = new byte[1 << 16];
        long total = 0;
        int n;
        while ((n = in.read(buf)) > 0) {
            total += n;
            if (total > MAX_BYTES) {
                throw new BadInputException(source + ": larger than 2 GiB, which latent's IDX reader does not support");
            }
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    /** Parses the bytes of an uncompressed IDX file. */
    public static Array parse(byte[] bytes, String source) {
        if (bytes.length < 4) {
            throw new BadInputException(source + ": " + bytes.length + " bytes is too short for an IDX header (4-byte magic)");
        }
        ByteBuffer bb = ByteBuffer.wrap(bytes);
        int magic = bb.getInt();
        if ((magic & 0xffff0000) != 0) {
            throw new BadInputException(String.format("%s: magic 0x%08x is not IDX (expected 0x00000801 or 0x00000803...)", source, magic));
        }
        int type = (magic >> 8) & 0xff;
        int rank = magic & 0xff;
        if (type != 0x08) {
            throw new BadInputException(String.format("%s: magic 0x%08x: element type 0x%02x is not unsigned byte (0x08)", source, magic, type));
        }
        if (rank < 1 || rank > 4) {
            throw new BadInputException(String.format("%s: magic 0x%08x: rank %d outside 1..4", source, magic, rank));
        }
        if (bytes.length < 4 + 4L * rank) {
            throw new BadInputException(source + ": truncated header: " + rank + " dimensions need " + (4 + 4 * rank)
                    + " bytes, the file has " + bytes.length);
        }
        int[] dims = new int[rank];
        long size = 1;
        for (int i = 0; i < rank; i++) {
            dims[i] = bb.getInt();
            if (dims[i] < 0 || (i > 0 && dims[i] == 0)) {
                throw new BadInputException(source + ": dimension " + i + " is " + dims[i]);
            }
            size *= dims[i];
            if (size > MAX_BYTES) {
                throw new BadInputException(source + ": dimensions " + java.util.Arrays.toString(java.util.Arrays.copyOf(dims, i + 1))
                        + " describe more than 2 GiB");
            }
        }
        long body = bytes.length - (4 + 4L * rank);
        if (body != size) {
            throw new BadInputException(source + ": body has " + body + " bytes but dimensions "
                    + java.util.Arrays.toString(dims) + " need " + size + (body < size ? " (truncated file)" : " (trailing bytes)"));
        }
        byte[] data = new byte[(int) size];
        bb.get(data);
        return new Array(dims, data);
    }
}
