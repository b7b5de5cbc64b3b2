package dev.latent.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.latent.io.BadInputException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 15: a real IDX file (the first 16 embedded MNIST digits and their labels), raw and gzip, mutated
 * thousands of times (bit flips anywhere, flips in the header, edited dimensions, truncations, appended
 * bytes, flips in the compressed stream) must either read, with a body exactly as long as its dimensions
 * say, or fail with one {@link BadInputException} whose message names the file: never another exception,
 * an OutOfMemoryError or a negative array size. Seeded; each seed runs 250 mutations of each file;
 * -Dprop.seed=N replays one seed. Then the bounds: a gzip bomb and a header promising far more than the
 * file holds allocate no more than the header's size (or the file's), and reading stops at the declared size.
 */
class IdxFuzzTest {

    static byte[] images;
    static byte[] labels;
    static byte[] imagesGz;

    @TempDir
    static Path dir;

    @BeforeAll
    static void realFiles() throws IOException {
        try (Dataset all = Dataset.embeddedMnist(); Dataset d = all.subset("first-16", IntStream.range(0, 16).toArray())) {
            ByteBuffer b = ByteBuffer.allocate(16 + 16 * 784);
            b.putInt(0x0803).putInt(16).putInt(28).putInt(28);
            float[] px = d.images().toArray();
            for (float v : px) {
                b.put((byte) Math.round(v * 255));
            }
            images = b.array();
            ByteBuffer l = ByteBuffer.allocate(8 + 16);
            l.putInt(0x0801).putInt(16);
            for (int y : d.labels()) {
                l.put((byte) y);
            }
            labels = l.array();
        }
        imagesGz = gzip(images);
        // the real file reads back as it was written
        Path f = dir.resolve("images.idx.gz");
        Files.write(f, imagesGz);
        Idx.Array a = Idx.read(f);
        assertEquals(16 * 784, a.data().length);
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(out)) {
            g.write(raw);
        }
        return out.toByteArray();
    }

    static LongStream seeds() {
        String one = System.getProperty("prop.seed");
        return one != null ? LongStream.of(Long.parseLong(one)) : LongStream.rangeClosed(1, 12);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void mutatedIdxFilesReadOrFailCleanly(long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        int read = 0;
        int rejected = 0;
        for (int i = 0; i < 250; i++) {
            byte[] src = switch (i % 3) {
                case 0 -> images;
                case 1 -> labels;
                default -> null;
            };
            byte[] m = src == null ? mutateGzip(r) : mutate(src, r);
            Path f = dir.resolve("m" + seed + "_" + i + (src == null ? ".idx.gz" : ".idx"));
            Files.write(f, m);
            if (outcome(f, seed, i)) {
                read++;
            } else {
                rejected++;
            }
            Files.delete(f);
        }
        // flips in the pixels leave a readable file; edits of the header do not: both outcomes must occur
        assertTrue(read > 0 && rejected > 0, "seed " + seed + ": " + read + " read, " + rejected + " rejected");
    }

    /** True if the file read (its body exactly its dimensions' size), false if it failed with a BadInputException naming it. */
    static boolean outcome(Path f, long seed, int i) {
        try {
            Idx.Array a = Idx.read(f);
            long size = 1;
            for (int d : a.dims()) {
                assertTrue(d >= 0, "seed " + seed + " mutation " + i + ": negative dimension read");
                size *= d;
            }
            assertEquals(size, a.data().length, "seed " + seed + " mutation " + i + ": body length is not the dimensions' product");
            return true;
        } catch (BadInputException e) {
            if (e.getMessage() == null || !e.getMessage().contains(f.toString()) || e.getMessage().contains("\n")) {
                fail("seed " + seed + " mutation " + i + ": message does not name the file on one line: " + e.getMessage());
            }
            return false;
        } catch (Throwable t) {
            fail("seed " + seed + " mutation " + i + ": " + t + " instead of a BadInputException (replay: -Dprop.seed=" + seed + ")", t);
            return false;
        }
    }

    static byte[] mutate(byte[] src, SplittableRandom r) {
        byte[] b = src.clone();
        int header = (b[3] + 1) * 4;
        switch (r.nextInt(6)) {
            case 0 -> { // flip 1-8 bits anywhere
                for (int k = 1 + r.nextInt(8); k > 0; k--) {
                    b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                }
            }
            case 1 -> { // flip bits in the header (magic and dimensions)
                for (int k = 1 + r.nextInt(3); k > 0; k--) {
                    b[r.nextInt(header)] ^= (byte) (1 << r.nextInt(8));
                }
            }
            case 2 -> { // a dimension set to an edge value
                int[] edges = {0, -1, 1, Integer.MAX_VALUE, Integer.MIN_VALUE, 1 << 16, 1 << 30, 17, 15};
                ByteBuffer.wrap(b).putInt(4 + 4 * r.nextInt(b[3]), edges[r.nextInt(edges.length)]);
            }
            case 3 -> {
                return Arrays.copyOf(b, r.nextInt(b.length));
            }
            case 4 -> {
                byte[] longer = Arrays.copyOf(b, b.length + 1 + r.nextInt(1000));
                for (int k = b.length; k < longer.length; k++) {
                    longer[k] = (byte) r.nextInt(256);
                }
                return longer;
            }
            default -> b[r.nextInt(4)] = (byte) r.nextInt(256); // the magic
        }
        return b;
    }

    /** The gzip file mutated: its compressed bytes flipped or cut, or a mutated IDX file compressed. */
    static byte[] mutateGzip(SplittableRandom r) throws IOException {
        return switch (r.nextInt(4)) {
            case 0 -> {
                byte[] b = imagesGz.clone();
                for (int k = 1 + r.nextInt(8); k > 0; k--) {
                    b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                }
                yield b;
            }
            case 1 -> Arrays.copyOf(imagesGz, r.nextInt(imagesGz.length));
            case 2 -> { // a second member or garbage after the first
                byte[] tail = r.nextBoolean() ? gzip(Arrays.copyOf(images, 1 + r.nextInt(100))) : new byte[] {(byte) r.nextInt(256), 1, 2};
                byte[] b = Arrays.copyOf(imagesGz, imagesGz.length + tail.length);
                System.arraycopy(tail, 0, b, imagesGz.length, tail.length);
                yield b;
            }
            default -> gzip(mutate(images, r));
        };
    }

    static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    /**
     * A gzip member that inflates to 256 MiB behind a header declaring 16 images is stopped at the declared
     * size: the error names the file and the trailing bytes, the reader consumed a sliver of the compressed
     * stream (under 1/20 of it) and allocated under 4 MiB (the 1 MiB first buffer, the inflater's and the
     * buffered streams' buffers), not the 256 MiB the member holds.
     */
    @Test
    void gzipBombIsStoppedAtTheDeclaredSize() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(out)) {
            g.write(images);
            byte[] zeros = new byte[1 << 20];
            for (int k = 0; k < 256; k++) {
                g.write(zeros);
            }
        }
        byte[] bomb = out.toByteArray();
        long[] consumed = {0};
        InputStream counting = new ByteArrayInputStream(bomb) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                int n = super.read(b, off, len);
                consumed[0] += Math.max(n, 0);
                return n;
            }
        };
        long before = allocatedBytes();
        BadInputException e = assertThrows(BadInputException.class, () -> Idx.read(counting, "bomb.idx.gz"));
        long allocated = allocatedBytes() - before;
        assertTrue(e.getMessage().startsWith("bomb.idx.gz: ") && e.getMessage().contains("trailing bytes"), e.getMessage());
        assertTrue(consumed[0] < bomb.length / 20, "read " + consumed[0] + " of " + bomb.length + " compressed bytes");
        assertTrue(allocated < 4L << 20, "allocated " + allocated + " bytes");
    }

    /** A header promising 1 GiB over a 12 KiB body: refused as truncated, after allocating under 4 MiB (not 1 GiB). */
    @Test
    void aHeaderPromisingMoreThanTheFileHoldsAllocatesOnlyWhatArrives() throws IOException {
        byte[] b = images.clone();
        ByteBuffer.wrap(b).putInt(4, 1 << 20).putInt(8, 32).putInt(12, 32);
        Path f = dir.resolve("promise.idx");
        Files.write(f, b);
        long before = allocatedBytes();
        BadInputException e = assertThrows(BadInputException.class, () -> Idx.read(f));
        long allocated = allocatedBytes() - before;
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("truncated"), e.getMessage());
        assertTrue(allocated < 4L << 20, "allocated " + allocated + " bytes");
    }

    /** An endless raw stream after a valid header: reading stops one byte past the declared size. */
    @Test
    void anEndlessBodyIsReadOnlyToTheDeclaredSize() {
        long[] served = {0};
        InputStream endless = new InputStream() {
            @Override
            public int read() {
                return (int) (served[0] < images.length ? images[(int) served[0]++] & 0xff : (served[0]++ & 0x7f));
            }
        };
        BadInputException e = assertThrows(BadInputException.class, () -> Idx.read(endless, "endless.idx"));
        assertTrue(e.getMessage().contains("endless.idx") && e.getMessage().contains("trailing"), e.getMessage());
        // the BufferedInputStream reads ahead by at most its 8 KiB buffer
        assertTrue(served[0] <= images.length + 1 + 8192, "served " + served[0] + " bytes for a " + images.length + "-byte file");
    }
}
