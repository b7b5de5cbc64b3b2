package dev.latent.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.Kernels;
import dev.latent.model.TestData;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The Jacobi eigensolver, patch extraction and normalization, and ZCA whitening on natural images. */
class WhiteningTest {

    @Test
    void jacobiDecomposesRandomSymmetricMatrices() {
        for (long seed = 1; seed <= 5; seed++) {
            SplittableRandom r = new SplittableRandom(seed);
            int n = 1 + r.nextInt(40);
            double[] a = new double[n * n];
            for (int i = 0; i < n; i++) {
                for (int j = i; j < n; j++) {
                    a[i * n + j] = a[j * n + i] = r.nextGaussian();
                }
            }
            SymmetricEigen e = SymmetricEigen.of(a, n);
            double[] v = e.vectors();
            for (int c = 0; c < n; c++) {
                if (c > 0) {
                    assertTrue(e.value(c - 1) >= e.value(c), "sorted, seed " + seed);
                }
                for (int i = 0; i < n; i++) {
                    double av = 0;
                    for (int j = 0; j < n; j++) {
                        av += a[i * n + j] * v[j * n + c];
                    }
                    assertEquals(e.value(c) * v[i * n + c], av, 1e-10, "A v = lambda v, seed " + seed + " n " + n);
                }
                for (int c2 = 0; c2 < n; c2++) {
                    double dot = 0;
                    for (int i = 0; i < n; i++) {
                        dot += v[i * n + c] * v[i * n + c2];
                    }
                    assertEquals(c == c2 ? 1 : 0, dot, 1e-12, "V orthogonal, seed " + seed);
                }
            }
        }
    }

    @Test
    void jacobiAgreesWithPowerIterationOnACovariance() {
        double[] a = {4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 1};
        SymmetricEigen e = SymmetricEigen.of(a, 3);
        double[][] p = TestData.powerIteration(a, 3, 2, 7);
        assertTrue(Math.abs(TestData.cos(e.vector(0), p[0])) > 1 - 1e-10);
        assertTrue(Math.abs(TestData.cos(e.vector(1), p[1])) > 1 - 1e-10);
    }

    @Test
    void patchesAreNormalizedAndZcaWhitenedToIdentityCovariance() throws Exception {
        List<Patches.Image> images = Patches.readDirectory(TestData.naturalImages(), false);
        Kernels k = Kernels.current();
        try (Workspace ws = new Workspace("test")) {
            Tensor raw = Patches.random(images, 20_000, 5, 3, ws);
            Tensor again = Patches.random(images, 20_000, 5, 3, ws);
            assertEquals(ModelFileSha.of(raw), ModelFileSha.of(again), "seeded extraction is deterministic");
            Patches.normalize(raw, Patches.DEFAULT_EPS);
            float[] row = raw.row(0).toArray();
            double m = 0;
            for (float v : row) {
                m += v;
            }
            assertEquals(0, m / row.length, 1e-5, "per-patch mean removed");
            Whitening w = Whitening.fit(raw, 1e-5, ws);
            Tensor x = w.apply(raw, ws, k);
            double[] cov = Whitening.covariance(x, Whitening.mean(x));
            int d = 25;
            // The per-patch mean removal leaves one direction (the constant patch) with ~0 variance.
            int identity = 0;
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    if (i != j) {
                        assertEquals(0, cov[i * d + j], 0.06, "off-diagonal covariance (" + i + ", " + j + ")");
                    }
                }
                identity += Math.abs(cov[i * d + i] - (1 - 1.0 / d)) < 0.06 ? 1 : 0;
            }
            assertEquals(d, identity, "diagonal of the whitened covariance is 1 - 1/d (the DC direction is gone)");
            float[] wm = w.matrix().toArray();
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    assertEquals(wm[i * d + j], wm[j * d + i], 1e-6, "ZCA matrix symmetric");
                }
            }
        }
    }

    /** SHA-256 of a tensor through io.ModelFile. */
    static final class ModelFileSha {
        static String of(Tensor t) {
            return dev.latent.io.ModelFile.sha256(t);
        }
    }
}
