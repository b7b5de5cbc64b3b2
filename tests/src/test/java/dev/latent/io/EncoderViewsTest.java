package dev.latent.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.serve.Encoder;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, class 8 (surprises in the Encoder API): an {@code allowNonFinite()} view is a handle of its
 * own (closing it leaves the Encoder working, and the other way round; the memory goes with the last
 * handle; a closed handle refuses calls naming the file), and a batch larger than the internal chunk is
 * checked whole before any row is written (NaN in row 290 of 300 leaves the output untouched).
 */
class EncoderViewsTest {

    static Path model(Path dir) throws Exception {
        Path f = dir.resolve("ae.safetensors");
        try (Autoencoder ae = EncoderTest.trainedish(5)) {
            ae.save(f, null);
        }
        return f;
    }

    @Test
    void closingAViewLeavesTheEncoderOpenAndTheOtherWayRound(@TempDir Path dir) throws Exception {
        Path f = model(dir);
        float[] row = new float[20];
        for (int i = 0; i < row.length; i++) {
            row[i] = i / 20f;
        }
        Encoder enc = Encoder.load(f);
        float[] expected = enc.encode(row);
        Encoder view = enc.allowNonFinite();
        assertArrayEquals(expected, view.encode(row), "a view encodes as its encoder (finite input)");
        view.close();
        view.close(); // closing twice is harmless and releases nothing more
        assertArrayEquals(expected, enc.encode(row), "the encoder still works after its view closed");
        Encoder second = enc.allowNonFinite();
        enc.close();
        assertArrayEquals(expected, second.encode(row), "a view still works after its encoder closed");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> enc.encode(row));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, enc::allowNonFinite);
        second.close();
        e = assertThrows(IllegalStateException.class, () -> second.encode(row));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void aBatchIsCheckedWholeBeforeAnyRowIsWritten(@TempDir Path dir) throws Exception {
        Path f = model(dir);
        int rows = 300;
        assertTrue(rows > Encoder.CHUNK && 290 >= Encoder.CHUNK, "row 290 must be in the second chunk");
        try (Encoder enc = Encoder.load(f); Arena a = Arena.ofConfined(); Workspace ws = new Workspace("views")) {
            Tensor x = EncoderTest.rows(ws, rows, 20, 9);
            x.set(290L * 20 + 3, Float.NaN);
            MemorySegment in = x.segment().asSlice(x.offset() * Float.BYTES, x.size() * Float.BYTES);
            MemorySegment out = a.allocate(ValueLayout.JAVA_FLOAT, (long) rows * enc.codeSize());
            out.fill((byte) 0x7f);
            byte[] before = out.toArray(ValueLayout.JAVA_BYTE);
            BadInputException e = assertThrows(BadInputException.class, () -> enc.encode(in, out, rows));
            assertTrue(e.getMessage().contains("row 290") && e.getMessage().contains("column 3"), e.getMessage());
            assertArrayEquals(before, out.toArray(ValueLayout.JAVA_BYTE), "no row of the output was written");
            // the Tensor API goes the same way
            Tensor codes = ws.allocate(rows, enc.codeSize());
            codes.fill(5f);
            assertThrows(BadInputException.class, () -> enc.encode(x, codes));
            for (long i = 0; i < codes.size(); i++) {
                assertEquals(5f, codes.get(i), "code value " + i + " was written");
            }
            // once the bad value is gone, the same batch encodes every row, the same as one by one
            x.set(290L * 20 + 3, 0.5f);
            enc.encode(x, codes);
            float[] one = new float[20];
            for (int c = 0; c < 20; c++) {
                one[c] = x.get(290L * 20 + c);
            }
            float[] alone = enc.encode(one);
            for (int c = 0; c < alone.length; c++) {
                assertEquals(alone[c], codes.get(290L * enc.codeSize() + c), "row 290 in the batch as alone");
            }
        }
    }
}
