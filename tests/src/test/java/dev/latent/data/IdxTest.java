package dev.latent.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.io.BadInputException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The IDX reader on good files (raw and gzip) and on each kind of defect, which must name the file and field. */
class IdxTest {

    static byte[] idx(int magic, int... dims) {
        int body = 1;
        for (int d : dims) {
            body *= Math.max(d, 0);
        }
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + body);
        b.putInt(magic);
        for (int d : dims) {
            b.putInt(d);
        }
        for (int i = 0; i < body; i++) {
            b.put((byte) i);
        }
        return b.array();
    }

    static byte[] gzip(byte[] raw) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(out)) {
            g.write(raw);
        }
        return out.toByteArray();
    }

    @Test
    void readsRawAndGzip(@TempDir Path dir) throws Exception {
        byte[] raw = idx(0x0803, 3, 2, 2);
        Path a = dir.resolve("a.idx");
        Path b = dir.resolve("b.idx.gz");
        Files.write(a, raw);
        Files.write(b, gzip(raw));
        Idx.Array x = Idx.read(a);
        Idx.Array y = Idx.read(b);
        assertArrayEquals(new int[] {3, 2, 2}, x.dims());
        assertArrayEquals(x.data(), y.data());
        assertEquals(4, x.itemSize());
    }

    @Test
    void embeddedDigitsAreWhatTheReadmeSays() {
        try (Dataset d = Dataset.embeddedMnist()) {
            assertEquals(10_000, d.size());
            assertEquals(784, d.features());
            assertEquals(10, d.classes());
            int[] counts = new int[10];
            for (int l : d.labels()) {
                counts[l]++;
            }
            assertArrayEquals(new int[] {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978}, counts);
        }
    }

    static void rejects(Path dir, String name, byte[] content, String... expected) throws Exception {
        Path f = dir.resolve(name);
        Files.write(f, content);
        BadInputException e = assertThrows(BadInputException.class, () -> Idx.read(f));
        assertTrue(e.getMessage().contains(f.toString()), "message should name the file: " + e.getMessage());
        for (String s : expected) {
            assertTrue(e.getMessage().contains(s), "message should mention '" + s + "': " + e.getMessage());
        }
    }

    @Test
    void rejectsEachDefect(@TempDir Path dir) throws Exception {
        rejects(dir, "short", new byte[] {0, 0}, "too short");
        rejects(dir, "magic", idx(0x12340803, 1, 1, 1), "magic");
        rejects(dir, "type", idx(0x0D03, 1, 1, 1), "element type");
        rejects(dir, "rank", idx(0x0800, 1), "rank");
        rejects(dir, "header", java.util.Arrays.copyOf(idx(0x0803, 2, 2, 2), 9), "truncated header");
        rejects(dir, "negative", idx(0x0803, 1, -3, 2), "dimension 1");
        byte[] whole = idx(0x0803, 4, 3, 3);
        rejects(dir, "truncated", java.util.Arrays.copyOf(whole, whole.length - 5), "truncated file");
        rejects(dir, "trailing", java.util.Arrays.copyOf(whole, whole.length + 3), "trailing bytes");
        byte[] gz = gzip(whole);
        rejects(dir, "gz-truncated", java.util.Arrays.copyOf(gz, gz.length / 2), "gzip");
    }

    @Test
    void datasetChecksImagesAgainstLabels(@TempDir Path dir) throws Exception {
        Path im = dir.resolve("im");
        Path lb = dir.resolve("lb");
        Files.write(im, idx(0x0803, 5, 2, 2));
        Files.write(lb, idx(0x0801, 4));
        BadInputException e = assertThrows(BadInputException.class, () -> Dataset.readIdx(im, lb));
        assertTrue(e.getMessage().contains("5 images but 4 labels"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> Dataset.readIdx(dir.resolve("missing"), lb));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void unreadableImage(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("not-an-image.png");
        Files.writeString(f, "hello");
        BadInputException e = assertThrows(BadInputException.class, () -> NaturalPatches.readGrey(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }
}
