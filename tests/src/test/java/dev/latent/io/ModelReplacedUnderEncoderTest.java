package dev.latent.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.serve.Encoder;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, class 1: a model file truncated or rewritten in place while an {@link Encoder} serves it
 * (what {@code cp new.safetensors model.safetensors} does) must not kill the JVM. The Encoder holds
 * the file's bytes in its own memory, so it keeps serving the model it loaded, bit for bit; the next
 * load of the damaged file fails with one clean {@link BadInputException} naming it.
 */
class ModelReplacedUnderEncoderTest {

    @Test
    void truncatedOrRewrittenFileUnderALiveEncoderKeepsServing(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("ae.safetensors");
        try (Autoencoder ae = EncoderTest.trainedish(5)) {
            ae.save(f, null);
        }
        float[] row = new float[20];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < row.length; i++) {
            row[i] = (float) r.nextDouble();
        }
        try (Encoder enc = Encoder.load(f)) {
            float[] before = enc.encode(row);
            long size = Files.size(f);
            // truncated in place (the first step of cp over an existing file)
            try (var ch = java.nio.channels.FileChannel.open(f, StandardOpenOption.WRITE)) {
                ch.truncate(size / 3);
            }
            assertArrayEquals(before, enc.encode(row), "the encoder serves what it loaded after truncation");
            // rewritten in place with other bytes of the original length
            byte[] junk = new byte[(int) size];
            new SplittableRandom(7).nextBytes(junk);
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.seek(0);
                raf.write(junk);
            }
            assertArrayEquals(before, enc.encode(row), "the encoder serves what it loaded after a rewrite");
            // truncated to nothing
            try (var ch = java.nio.channels.FileChannel.open(f, StandardOpenOption.WRITE)) {
                ch.truncate(0);
            }
            assertArrayEquals(before, enc.encode(row));
            BadInputException e = assertThrows(BadInputException.class, () -> Encoder.load(f));
            assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        }
    }

    @Test
    void nonFiniteValuesAreRefusedNamingTheTensorUnlessAllowed(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("ae.safetensors");
        try (Autoencoder ae = EncoderTest.trainedish(6)) {
            ae.save(f, null);
        }
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            poisonFirstTensor(f, bad);
            BadInputException e = assertThrows(BadInputException.class, () -> Encoder.load(f));
            assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("tensor '")
                    && e.getMessage().contains(Float.toString(bad)), e.getMessage());
            try (Arena a = Arena.ofConfined()) {
                SafeTensors.read(f, a, true); // data files may hold NaN when asked
            }
        }
    }

    /** Overwrites the first float of the first tensor of a safetensors file with {@code v}. */
    static void poisonFirstTensor(Path f, float v) throws java.io.IOException {
        byte[] b = Files.readAllBytes(f);
        long n = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
        java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat((int) (8 + n), v);
        Files.write(f, b);
    }
}
