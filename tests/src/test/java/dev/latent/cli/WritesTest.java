package dev.latent.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.latent.io.AtomicFiles;
import dev.latent.viz.ImageGrid;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, classes 5 and 6 (lost files, unclear failures) for what latent writes: a full disk is one
 * line naming the file being written and "No space left on device" (a real ENOSPC: /dev/full, and a
 * 64 KiB tmpfs where this machine lets the test mount one), the file that was there before is intact
 * and no hidden sibling is left; pictures, plots and the report are replaced in one rename (a hard link
 * to the old file still shows the old bytes, which an in-place rewrite would change).
 */
class WritesTest {

    static String[] train(Path images, Path out, String hidden) {
        return new String[] {"train", "--model", "autoencoder", "--images", images.toString(), "--set", "hidden=" + hidden,
                "--epochs", "1", "--batch", "32", "--out", out.toString()};
    }

    /** The run's one failure line ("latent COMMAND: ..."); progress lines printed before the failure are not counted. */
    static String failure(HardeningTest.Run r) {
        List<String> ours = r.lines().stream().filter(l -> l.startsWith("latent ")).toList();
        assertEquals(1, ours.size(), "exactly one failure line, got:\n" + r.err());
        return ours.get(0);
    }

    /** A metrics log on a full device (out/metrics.jsonl a link to /dev/full): one line naming it, exit 2, no model. */
    @Test
    void aFullDeviceNamesTheFileBeingWritten(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isWritable(Path.of("/dev/full")), "/dev/full is needed");
        Path images = dir.resolve("images.idx");
        HardeningTest.writeIdx(images, dir.resolve("labels.idx"), 64, 28);
        Path out = dir.resolve("out");
        Files.createDirectories(out);
        Files.createSymbolicLink(out.resolve("metrics.jsonl"), Path.of("/dev/full"));
        HardeningTest.Run r = HardeningTest.run(train(images, out, "4"));
        assertEquals(2, r.code(), r.err());
        assertTrue(failure(r).contains(out.resolve("metrics.jsonl").toString()) && failure(r).contains("No space left on device"), failure(r));
        assertFalse(r.err().contains("\tat "), r.err());
        assertFalse(Files.exists(out.resolve("model.safetensors")), "no model after a failed run");
    }

    /**
     * On a 64 KiB file system: a model, codes and a picture too large for it fail naming their file, the
     * file that was there keeps its bytes, and no sibling is left behind.
     */
    @Test
    void aFullFileSystemLeavesTheOldFileAndNoSibling(@TempDir Path dir) throws Exception {
        Path small = dir.resolve("small");
        Files.createDirectories(small);
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", small.toString())
                .redirectErrorStream(true).start();
        assumeTrue(mount.waitFor(20, TimeUnit.SECONDS) && mount.exitValue() == 0, "cannot mount a tmpfs here (not root?)");
        try {
            Path images = dir.resolve("images.idx");
            HardeningTest.writeIdx(images, dir.resolve("labels.idx"), 64, 28);
            Path out = small.resolve("out");
            // a 784-32 autoencoder's model and checkpoint (200 KB each) cannot fit
            HardeningTest.Run r = HardeningTest.run(train(images, out, "32"));
            assertEquals(2, r.code(), r.err());
            assertTrue(failure(r).contains(out.toString()) && failure(r).contains("No space left on device")
                    && failure(r).contains("cannot write"), failure(r));
            assertEquals(List.of(), siblings(out), "hidden siblings left behind");

            Path model = HardeningTest.model(dir);
            Path codes = small.resolve("codes.safetensors");
            Files.writeString(codes, "the codes of yesterday");
            // 10,000 embedded digits x 4 floats = 160 KB of codes
            r = HardeningTest.run("encode", "--model", model.toString(), "--output", codes.toString());
            assertEquals(2, r.code(), r.err());
            assertTrue(failure(r).contains(codes.toString()) && failure(r).contains("No space left on device"), failure(r));
            assertEquals("the codes of yesterday", Files.readString(codes), "the old file is intact");
            assertEquals(List.of(), siblings(small));

            Path png = small.resolve("noise.png");
            Files.writeString(png, "old picture");
            float[][] tiles = new float[64][];
            SplittableRandom rnd = new SplittableRandom(3);
            for (int i = 0; i < tiles.length; i++) {
                tiles[i] = new float[28 * 28];
                for (int k = 0; k < tiles[i].length; k++) {
                    tiles[i][k] = (float) rnd.nextDouble();
                }
            }
            // random pixels do not compress: 64 tiles x 784 x scale 2^2 is about 200 KB of PNG
            IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                    () -> ImageGrid.write(png, tiles, 28, 28, 8, 2, ImageGrid.Scaling.UNIT));
            assertTrue(e.getMessage().contains(png.toString()), e.getMessage());
            assertEquals("old picture", Files.readString(png));
            assertEquals(List.of(), siblings(small));
        } finally {
            new ProcessBuilder("umount", small.toString()).redirectErrorStream(true).start().waitFor(20, TimeUnit.SECONDS);
        }
    }

    static List<Path> siblings(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
        }
    }

    /** The cause of an I/O failure is named with the file being written, however the JDK phrased it. */
    @Test
    void cannotWriteNamesTheFileAndTheCause() {
        Path f = Path.of("out", "model.safetensors");
        assertEquals("cannot write out/model.safetensors: No space left on device",
                AtomicFiles.cannotWrite(f, new IOException("No space left on device")).getMessage());
        assertEquals("cannot write out/model.safetensors: permission denied on out/.model.safetensors.ab.tmp",
                AtomicFiles.cannotWrite(f, new java.nio.file.AccessDeniedException("out/.model.safetensors.ab.tmp")).getMessage());
        IOException named = new IOException("out/model.safetensors: disk quota exceeded");
        assertEquals(named, AtomicFiles.cannotWrite(f, named), "a message that names the file is kept");
    }

    /** Pictures, plots, JSON and the report are replaced in one rename: a hard link to the old file keeps the old bytes. */
    @Test
    void picturesPlotsAndTablesAreReplacedNotRewritten(@TempDir Path dir) throws Exception {
        float[][] tiles = {new float[16], new float[16]};
        tiles[0][3] = 1;
        Path png = dir.resolve("filters.png");
        ImageGrid.write(png, tiles, 4, 4, 2, 1, ImageGrid.Scaling.UNIT);
        assertReplaced(png, () -> {
            tiles[1][5] = 1;
            ImageGrid.write(png, tiles, 4, 4, 2, 1, ImageGrid.Scaling.UNIT);
        });
        Path plot = dir.resolve("loss.png");
        Plots.lines(plot, "loss", "epoch", "loss", Map.of("train", new double[] {3, 2, 1}));
        assertReplaced(plot, () -> Plots.lines(plot, "loss", "epoch", "loss", Map.of("train", new double[] {3, 2, 1, 0.5})));
        Path table = dir.resolve("arithmetic.json");
        AtomicFiles.writeString(table, "{}");
        assertReplaced(table, () -> AtomicFiles.writeString(table, "{\"rows\":[]}"));
        assertEquals(List.of(), siblings(dir));
    }

    interface Write {
        void run() throws IOException;
    }

    static void assertReplaced(Path file, Write rewrite) throws IOException {
        byte[] old = Files.readAllBytes(file);
        Path link = file.resolveSibling(file.getFileName() + ".link");
        Files.createLink(link, file);
        rewrite.run();
        assertArrayEquals(old, Files.readAllBytes(link), file + " was rewritten in place, not replaced");
        assertFalse(java.util.Arrays.equals(old, Files.readAllBytes(file)), file + " has new content");
        Files.delete(link);
    }
}
