package dev.latent.data;

import dev.latent.io.BadInputException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * Reader of the IDX format of MNIST and Fashion-MNIST, raw or gzip (detected by its magic bytes):
 * a big-endian header {@code 0x00 0x00 type rank}, then rank big-endian int32 dimensions, then the
 * values. Only unsigned bytes (type 0x08) are used by these data sets, and only they are accepted.
 * Every defect (wrong magic, bad rank or dimension, truncated or overlong body, corrupt gzip) is a
 * {@link BadInputException} naming the source and the field; memory is bounded by the size the
 * header declares (see {@link #read(InputStream, String)}).
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
    /** The body buffer's first size; it doubles as bytes arrive, up to the declared size. */
    private static final int FIRST_BUFFER = 1 << 20;

    private Idx() {
    }

    /** Reads an IDX file (raw or gzip). */
    public static Array read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        }
    }

    /**
     * Reads an IDX stream (raw or gzip); {@code source} names it in error messages. The header is read
     * first and the body after it is read up to the size the header declares and no further: memory grows
     * with the bytes that actually arrive (never more than the declared size, so a header that promises
     * 2 GiB over a short file allocates no more than the file holds), and a body that goes on past the
     * declared size, such as a gzip member that inflates further, is stopped there and refused.
     */
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
        try {
            return readBody(body, source);
        } catch (java.util.zip.ZipException | java.io.EOFException e) {
            throw new BadInputException(source + ": gzip stream is corrupt or truncated: " + e.getMessage(), e);
        }
    }

    private static Array readBody(InputStream in, String source) throws IOException {
        byte[] head = new byte[4];
        int got = in.readNBytes(head, 0, 4);
        if (got < 4) {
            throw new BadInputException(source + ": " + got + " bytes is too short for an IDX header (4-byte magic)");
        }
        int magic = ByteBuffer.wrap(head).getInt();
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
        byte[] dimBytes = new byte[4 * rank];
        got = in.readNBytes(dimBytes, 0, dimBytes.length);
        if (got < dimBytes.length) {
            throw new BadInputException(source + ": truncated header: " + rank + " dimensions need " + (4 + 4 * rank)
                    + " bytes, the file has " + (4 + got));
        }
        ByteBuffer bb = ByteBuffer.wrap(dimBytes);
        int[] dims = new int[rank];
        long size = 1;
        for (int i = 0; i < rank; i++) {
            dims[i] = bb.getInt();
            if (dims[i] < 0 || (i > 0 && dims[i] == 0)) {
                throw new BadInputException(source + ": dimension " + i + " is " + dims[i]);
            }
            size *= dims[i];
            if (size > MAX_BYTES) {
                throw new BadInputException(source + ": dimensions " + Arrays.toString(Arrays.copyOf(dims, i + 1))
                        + " describe more than 2 GiB");
            }
        }
        byte[] data = new byte[(int) Math.min(size, FIRST_BUFFER)];
        int filled = 0;
        while (filled < size) {
            if (filled == data.length) {
                data = Arrays.copyOf(data, (int) Math.min(size, 2L * data.length));
            }
            int n = in.read(data, filled, data.length - filled);
            if (n < 0) {
                throw new BadInputException(source + ": body has " + filled + " bytes but dimensions " + Arrays.toString(dims)
                        + " need " + size + " (truncated file)");
            }
            filled += n;
        }
        if (in.read() >= 0) {
            throw new BadInputException(source + ": body goes on past the " + size + " bytes that dimensions " + Arrays.toString(dims)
                    + " declare (trailing bytes; reading stopped there)");
        }
        return new Array(dims, data);
    }
}
