package dev.latent.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Gemm#singleThreaded()}: where a provider offers one, it gives the same bits as the provider's
 * own GEMM (no tolerance: the contract says so, and k-means' results rely on it), on shapes large
 * enough that the simd GEMM runs multi-threaded (m*n*k >= 2^21), with both transposes of B.
 */
class SingleThreadedGemmTest {

    @Test
    void singleThreadedGemmGivesTheSameBits() {
        for (String name : KernelRegistry.availableNames()) {
            Gemm g = KernelRegistry.load(name).gemm();
            Optional<Gemm> serial = g.singleThreaded();
            if (name.equals("simd") || name.equals("scalar")) {
                assertTrue(serial.isPresent(), name + " should offer a single-threaded GEMM");
            }
            if (serial.isEmpty()) {
                continue;
            }
            SplittableRandom r = new SplittableRandom(5);
            int m = name.equals("scalar") ? 37 : 301;
            int n = name.equals("scalar") ? 29 : 203;
            int k = 67;
            try (Workspace ws = new Workspace("t")) {
                Tensor a = ws.allocate(m, k);
                Tensor b = ws.allocate(n, k);
                for (Tensor t : new Tensor[] {a, b}) {
                    for (long i = 0; i < t.size(); i++) {
                        t.set(i, (float) r.nextGaussian());
                    }
                }
                for (Transpose tb : Transpose.values()) {
                    int ldb = tb == Transpose.T ? k : n;
                    Tensor bb = tb == Transpose.T ? b : b.reshape(k, n);
                    Tensor c1 = ws.allocate(m, n);
                    Tensor c2 = ws.allocate(m, n);
                    g.gemm(Transpose.N, tb, m, n, k, -2f, a.segment(), a.offset(), k, bb.segment(), bb.offset(), ldb,
                            0f, c1.segment(), c1.offset(), n);
                    serial.get().gemm(Transpose.N, tb, m, n, k, -2f, a.segment(), a.offset(), k, bb.segment(), bb.offset(), ldb,
                            0f, c2.segment(), c2.offset(), n);
                    assertArrayEquals(c1.toArray(), c2.toArray(), name + " " + tb);
                }
            }
        }
    }
}
