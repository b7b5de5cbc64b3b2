package dev.latent.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.prop.Gen;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Tensors and workspaces: shape checks name both shapes, views share memory, closed memory is a clear error. */
class TensorTest {

    private static void assertMessageNames(Class<? extends RuntimeException> type, Executable call, String... parts) {
        RuntimeException e = assertThrows(type, call);
        for (String part : parts) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(part),
                    () -> "message should name " + part + ": " + e.getMessage());
        }
    }

    /** A shape past 2^31-1 elements is refused before any allocation, naming the workspace (the model) and the shape. */
    @Test
    void tooLargeAShapeNamesTheWorkspace() {
        long before = Workspace.offHeapInUse();
        try (Workspace ws = new Workspace("autoencoder")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ws.allocate(2, 1 << 30));
            assertTrue(e.getMessage().startsWith("workspace 'autoencoder' cannot hold it: shape [2, 1073741824] has more than"),
                    e.getMessage());
            assertEquals(before, Workspace.offHeapInUse(), "nothing allocated");
        }
    }

    @Test
    void shapeMismatchNamesBothShapes() {
        try (Workspace ws = new Workspace("shapes")) {
            Tensor a = ws.allocate(2, 3);
            Tensor b = ws.allocate(3, 2);
            assertMessageNames(IllegalArgumentException.class, () -> a.requireSameShape(b), "[2, 3]", "[3, 2]");
            assertMessageNames(IllegalArgumentException.class, () -> a.copyFrom(b), "[2, 3]", "[3, 2]");
            assertMessageNames(IllegalArgumentException.class, () -> a.requireShape("weights", 4, 5), "weights", "[4, 5]", "[2, 3]");
            assertMessageNames(IllegalArgumentException.class, () -> a.copyFrom(new float[5]), "5", "[2, 3]");
            assertMessageNames(IllegalArgumentException.class, () -> ws.of(new float[5], 2, 3), "5", "[2, 3]");
        }
    }

    @Test
    void badReshapeNamesBothShapes() {
        try (Workspace ws = new Workspace("reshape")) {
            Tensor t = ws.allocate(4, 6);
            assertMessageNames(IllegalArgumentException.class, () -> t.reshape(5, 5), "[4, 6]", "[5, 5]");
            assertMessageNames(IllegalArgumentException.class, () -> t.reshape(-1, 7), "[4, 6]", "[-1, 7]");
            assertMessageNames(IllegalArgumentException.class, () -> t.reshape(-1, -1), "[4, 6]", "[-1, -1]");
            assertMessageNames(IllegalArgumentException.class, () -> t.reshape(-2, -12), "[4, 6]", "[-2, -12]");
            assertArrayEquals(new int[] {3, 8}, t.reshape(-1, 8).shape());
        }
    }

    @Test
    void useAfterCloseNamesTheWorkspace() {
        Workspace ws = new Workspace("encoder-buffers");
        Tensor t = ws.allocate(2, 2);
        Tensor view = t.reshape(4);
        ws.close();
        assertFalse(t.isOpen());
        for (Executable use : new Executable[] {() -> t.get(0), () -> t.set(1, 2f), () -> t.toArray(), () -> t.fill(1f),
                () -> view.get(3), () -> t.segment(), () -> t.reshape(4), () -> t.rows(0, 1), () -> t.copyFrom(new float[4]),
                () -> ws.allocate(3)}) {
            assertMessageNames(IllegalStateException.class, use, "encoder-buffers", "closed");
        }
        ws.close(); // closing twice is harmless
        assertTrue(t.toString().contains("closed"), t.toString());
    }

    @Test
    void reshapeAndRowsShareMemory() {
        try (Workspace ws = new Workspace("views")) {
            Tensor t = ws.allocate(4, 3);
            Tensor flat = t.reshape(12);
            Tensor middle = t.rows(1, 3);
            assertArrayEquals(new int[] {2, 3}, middle.shape());
            assertEquals(3, middle.offset());
            flat.set(4, 7f);                   // row 1, column 1
            assertEquals(7f, t.get(1, 1));
            assertEquals(7f, middle.get(0, 1));
            middle.set(1, 2, -5f);             // row 2, column 2 of t
            assertEquals(-5f, t.get(2, 2));
            assertEquals(-5f, flat.get(8));
            Tensor row = t.row(3);
            row.set(0, 9f);
            assertEquals(9f, t.get(3, 0));
            assertEquals(t.segment(), middle.segment());
        }
    }

    @Test
    void rowsOutsideTheShapeAreRejected() {
        try (Workspace ws = new Workspace("rows")) {
            Tensor t = ws.allocate(4, 3);
            assertMessageNames(IllegalArgumentException.class, () -> t.rows(2, 5), "[2, 5)", "[4, 3]");
            assertMessageNames(IllegalArgumentException.class, () -> t.rows(-1, 2), "[4, 3]");
            assertMessageNames(IllegalArgumentException.class, () -> t.rows(3, 2), "[4, 3]");
        }
    }

    @Test
    void copyFromToArrayRoundTrips() {
        SplittableRandom r = new SplittableRandom(42);
        try (Workspace ws = new Workspace("round trip")) {
            for (int n : Gen.edgeSizes()) {
                float[] values = Gen.values(r, n * 3);
                values[0] = Float.NaN;
                values[values.length - 1] = -0f;
                Tensor t = ws.allocate(3, n);
                t.copyFrom(values);
                float[] back = t.toArray();
                for (int i = 0; i < values.length; i++) {
                    assertEquals(Float.floatToRawIntBits(values[i]), Float.floatToRawIntBits(back[i]), "n=" + n + " element " + i);
                }
                Tensor copy = ws.allocate(3, n);
                copy.copyFrom(t);
                assertArrayEquals(back, copy.toArray());
                assertArrayEquals(java.util.Arrays.copyOfRange(values, n, 2 * n), t.rows(1, 2).toArray());
            }
        }
    }

    @Test
    void allocationIsZeroFilledAndAligned() {
        try (Workspace ws = new Workspace("alloc")) {
            Tensor t = ws.allocate(5, 7);
            assertEquals(35, t.size());
            for (float v : t.toArray()) {
                assertEquals(0f, v);
            }
            assertEquals(0, t.segment().address() % Workspace.ALIGNMENT);
            assertMessageNames(IllegalArgumentException.class, () -> ws.allocate(2, -1), "[2, -1]");
            assertMessageNames(IllegalArgumentException.class, () -> ws.allocateFloats(-1), "-1");
        }
    }
}
