package dev.latent.model;

import dev.latent.model.hebbian.Hebbian;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.data.Dataset;
import dev.latent.data.Patches;
import dev.latent.data.Whitening;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import org.junit.jupiter.api.Test;

/**
 * Hebbian rules against principal components computed independently in double (covariance, then
 * power iteration with deflation): Oja's unit finds the first component, Sanger's k units the top k in
 * order; plain Hebb with normalization also finds the first; without it, it diverges.
 */
class HebbianTest {

    private static double[] covariance(Tensor x) {
        return Whitening.covariance(x, Whitening.mean(x));
    }

    @Test
    void ojaConvergesToTheFirstPrincipalComponentOfDigits() {
        try (Dataset mnist = Dataset.embeddedMnist()) {
            Tensor x = mnist.images();
            double[][] pc = TestData.powerIteration(covariance(x), 784, 1, 1);
            Hebbian oja = new Hebbian(Hebbian.Rule.OJA, 1, 784, false, 3).fit(x, new Hebbian.Schedule(4, 0.005, 3000, true, 4));
            double cos = Math.abs(TestData.cos(oja.weight(0), pc[0]));
            System.out.printf("Oja on MNIST: |cos| = %.5f, ||w|| = %.4f%n", cos, oja.norm(0));
            assertTrue(cos > 0.99, "|cos| " + cos);
            assertTrue(Math.abs(oja.norm(0) - 1) < 0.05, "Oja keeps ||w|| near 1: " + oja.norm(0));
        }
    }

    @Test
    void ojaAndNormalizedHebbFindTheFirstComponentOfNaturalPatches() throws Exception {
        try (Workspace ws = new Workspace("t")) {
            Tensor x = Patches.random(Patches.readDirectory(TestData.naturalImages(), false), 20_000, 8, 5, ws);
            double[][] pc = TestData.powerIteration(covariance(x), 64, 1, 2);
            Hebbian oja = new Hebbian(Hebbian.Rule.OJA, 1, 64, false, 1).fit(x, new Hebbian.Schedule(2, 0.05, 5000, true, 2));
            Hebbian hebb = new Hebbian(Hebbian.Rule.HEBB, 1, 64, true, 1).fit(x, new Hebbian.Schedule(2, 0.05, 5000, true, 2));
            double c1 = Math.abs(TestData.cos(oja.weight(0), pc[0]));
            double c2 = Math.abs(TestData.cos(hebb.weight(0), pc[0]));
            System.out.printf("natural 8x8 patches: Oja |cos| = %.5f, normalized Hebb |cos| = %.5f%n", c1, c2);
            assertTrue(c1 > 0.99, "Oja |cos| " + c1);
            assertTrue(c2 > 0.99, "normalized Hebb |cos| " + c2);
        }
    }

    @Test
    void sangerFindsTheTopComponentsInOrder() {
        try (Dataset mnist = Dataset.embeddedMnist()) {
            Tensor x = mnist.images();
            int k = 4;
            double[][] pc = TestData.powerIteration(covariance(x), 784, k, 1);
            Hebbian gha = new Hebbian(Hebbian.Rule.SANGER, k, 784, false, 5).fit(x, new Hebbian.Schedule(8, 0.002, 10_000, true, 6));
            for (int j = 0; j < k; j++) {
                double cos = Math.abs(TestData.cos(gha.weight(j), pc[j]));
                System.out.printf("Sanger unit %d: |cos| with PC %d = %.5f%n", j, j + 1, cos);
                assertTrue(cos > 0.99, "unit " + j + " |cos| " + cos);
            }
        }
    }

    @Test
    void plainHebbWithoutNormalizationDiverges() {
        try (Dataset mnist = Dataset.embeddedMnist()) {
            Hebbian hebb = new Hebbian(Hebbian.Rule.HEBB, 1, 784, false, 1);
            Tensor x = mnist.images().rows(0, 2000);
            double prev = hebb.norm(0);
            for (int epoch = 0; epoch < 3; epoch++) {
                hebb.fit(x, new Hebbian.Schedule(1, 0.01, Double.POSITIVE_INFINITY, true, epoch));
                double n = hebb.norm(0);
                assertTrue(!(n <= prev * 10), "the norm keeps growing: " + prev + " -> " + n);
                prev = n;
            }
            assertTrue(!(prev < 1e30), "||w|| = " + prev + " after 6,000 updates: unbounded growth");
        }
    }
}
