package dev.latent.io;

import dev.latent.serve.Encoder;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model files and the service Encoder: save-then-load is bit-exact; the Encoder (mapped file, its own
 * code path: packed dense layers, {@code Encoder.packs}) gives the model's own encoder's codes, bit for bit
 * on the scalar reference and within float GEMM rounding otherwise; every row gives the same bits in a
 * batch as alone; many threads give the results of one;
 * bad rows and NaN are rejected with messages naming what is wrong.
 */
class EncoderTest {

    static Autoencoder trainedish(int seed) {
        // A deep, untied autoencoder with a linear code; init only: the file format does not care
        // whether weights were trained.
        return Autoencoder.builder(20).hidden(16, 7).activation(Activation.SIGMOID).codeActivation(Activation.IDENTITY)
                .klSparsity(0.1, 3).weightDecay(1e-4).maxBatch(64).build().init(seed);
    }

    static Tensor rows(Workspace ws, int n, int d, long seed) {
        Tensor x = ws.allocate(n, d);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < x.size(); i++) {
            x.set(i, (float) r.nextDouble());
        }
        return x;
    }

    @Test
    void saveLoadIsBitExact(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("ae.safetensors");
        try (Autoencoder ae = trainedish(3)) {
            ae.save(f, ModelFile.provenance("test", 3, "none"));
            try (Autoencoder back = Autoencoder.load(f, Kernels.current())) {
                assertArrayEquals(ae.network().slab().values().toArray(), back.network().slab().values().toArray());
                assertEquals(ae.configJson(), back.configJson());
            }
        }
        // No temporary files are left beside the model.
        try (var s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList());
        }
    }

    @Test
    void encoderMatchesModelAndIsAllocationFreeShape(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("ae.safetensors");
        try (Autoencoder ae = trainedish(4); Workspace ws = new Workspace("t")) {
            ae.save(f, null);
            Tensor x = rows(ws, 300, 20, 9);
            Tensor expected = ae.encode(x, ws);
            try (Encoder enc = Encoder.load(f)) {
                assertEquals(20, enc.inputSize());
                assertEquals(7, enc.codeSize());
                Tensor got = ws.allocate(300, 7);
                enc.encode(x, got);
                float[] e = expected.toArray();
                float[] g = got.toArray();
                if (Kernels.current().name().equals("scalar")) {
                    assertArrayEquals(e, g, "batch encode differs from the model's encoder");
                } else {
                    // Another summation order than the model's GEMM (the packed kernel's): 1e-5 relative.
                    for (int i = 0; i < e.length; i++) {
                        assertEquals(e[i], g[i], 1e-5 * Math.max(1, Math.abs(e[i])), "code float " + i);
                    }
                }
                // A row alone (the float[] API, batch 1) gives the same bits as in the batch (rows 0, 5, the
                // last row of the 8-row tiles and the last row of all).
                for (int row : new int[] {0, 5, 295, 299}) {
                    float[] one = enc.encode(x.row(row).toArray());
                    assertArrayEquals(got.row(row).toArray(), one, "row " + row + " alone vs in the batch");
                }
            }
        }
    }

    @Test
    void threadsAgreeWithOneThread(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("ae.safetensors");
        try (Autoencoder ae = trainedish(5); Workspace ws = new Workspace("t")) {
            ae.save(f, null);
            Tensor x = rows(ws, 64, 20, 1);
            try (Encoder enc = Encoder.load(f); ExecutorService pool = Executors.newFixedThreadPool(8)) {
                float[][] single = new float[64][];
                for (int i = 0; i < 64; i++) {
                    single[i] = enc.encode(x.row(i).toArray());
                }
                List<Future<Boolean>> jobs = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    int start = t;
                    jobs.add(pool.submit(() -> {
                        for (int m = 0; m < 200; m++) {
                            int i = (start * 31 + m * 7) % 64;
                            if (!java.util.Arrays.equals(single[i], enc.encode(x.row(i).toArray()))) {
                                return false;
                            }
                        }
                        return true;
                    }));
                }
                for (Future<Boolean> j : jobs) {
                    assertTrue(j.get(), "a thread's result differed from the single-threaded one");
                }
            }
        }
    }

    @Test
    void badRowsAndNonFiniteInputs(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("ae.safetensors");
        try (Autoencoder ae = trainedish(6)) {
            ae.save(f, null);
        }
        try (Encoder enc = Encoder.load(f)) {
            BadInputException e = assertThrows(BadInputException.class, () -> enc.encode(new float[19]));
            assertTrue(e.getMessage().contains("19") && e.getMessage().contains("20"), e.getMessage());
            float[] row = new float[20];
            row[4] = Float.NaN;
            e = assertThrows(BadInputException.class, () -> enc.encode(row));
            assertTrue(e.getMessage().contains("column 4"), e.getMessage());
            float[] passed = enc.allowNonFinite().encode(row);
            assertTrue(Float.isNaN(passed[0]), "NaN should propagate when allowed");
            try (Arena a = Arena.ofConfined()) {
                MemorySegment in = a.allocate(ValueLayout.JAVA_FLOAT, 20 * 3);
                MemorySegment out = a.allocate(ValueLayout.JAVA_FLOAT, 7 * 2);
                e = assertThrows(BadInputException.class, () -> enc.encode(in, out, 3));
                assertTrue(e.getMessage().contains("output"), e.getMessage());
            }
        }
    }
}
