package dev.latent.model.rbm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.data.Dataset;
import dev.latent.eval.FewLabel;
import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The RBM on the embedded digits (the few-label split: 8,000 pool images, 2,000 held out), on small
 * budgets: training lowers the held-out reconstruction error; its features beat raw pixels at 10 labels
 * per class in the few-label protocol; a 12-hidden-unit model's exact log-likelihood (log Z by
 * enumerating its 4,096 hidden states: the stated proxy for AIS, exact for so small a model) beats the
 * independent-pixel model it starts from, on held-out digits, and its annealed importance sampling
 * estimate of log Z agrees with the exact value.
 */
class RbmDigitsTest {

    static Dataset all;
    static Tensor pool;
    static Tensor test;
    static int[] poolLabels;
    static int[] testLabels;
    static Workspace ws;

    @BeforeAll
    static void split() {
        all = Dataset.embeddedMnist();
        ws = new Workspace("rbm-digits");
        FewLabel.Split s = FewLabel.split(all.labels(), 0.2, 1);
        pool = FewLabel.gather(all.images(), s.pool(), ws);
        test = FewLabel.gather(all.images(), s.test(), ws);
        poolLabels = FewLabel.labelsOf(all, s.pool());
        testLabels = FewLabel.labelsOf(all, s.test());
    }

    @AfterAll
    static void close() {
        ws.close();
        all.close();
    }

    /**
     * 100 hidden units, CD-1 (eta 0.1), 3 epochs on the pool. Reconstruction error: the untrained model (W ~ 0,
     * visible bias the pixel log-odds) reconstructs every digit as the mean image; training must cut that
     * error on held-out digits by 40% (measured: 52.8 -> 22.9) and still lower it after the first epoch. Few-label: mean accuracy over 3 draws at 10 labels/class,
     * features against raw pixels, margin 2 points (measured: 77.4% vs 73.9%; after 2 epochs only 75.7%, so
     * the margin fails a model that has learned too little; a draw's std is about 1.5-2 points).
     */
    @Test
    void trainingLowersReconstructionErrorAndFeaturesBeatPixels() {
        Kernels k = Kernels.current();
        Rbm.Config c = Rbm.Config.defaults(Rbm.Units.BERNOULLI, 100).withTraining(0.1, 0.5, 2e-4);
        try (Rbm m = new Rbm(c, new int[] {784}, 3, k); Workspace w = new Workspace("t")) {
            double[] err = new double[4];
            double[] fe = new double[4];
            m.fit(pool, 0, 100, 3, null);
            err[0] = m.reconstructionError(test);
            fe[0] = m.freeEnergy(test);
            long t0 = System.nanoTime();
            m.fit(pool, 3, 100, 3, (epoch, r) -> {
                err[epoch] = r.reconstructionError(test);
                fe[epoch] = r.freeEnergy(test);
            });
            System.out.printf("rbm 784-100 CD-1 on 8000 digits: held-out reconstruction error per image %.2f (untrained) %.2f %.2f %.2f;"
                    + " free energy %.2f %.2f %.2f %.2f; %.1f s%n", err[0], err[1], err[2], err[3], fe[0], fe[1], fe[2], fe[3],
                    (System.nanoTime() - t0) * 1e-9);
            assertTrue(err[3] < 0.6 * err[0], "reconstruction error " + err[0] + " -> " + err[3]);
            assertTrue(err[3] < err[1], "still falling after the first epoch: " + err[1] + " -> " + err[3]);

            List<FewLabel.Row> rows = List.of(
                    new FewLabel.Row("logistic regression on raw pixels", "pixels",
                            FewLabel.pixels(pool, test, testLabels, 10, k, w)),
                    new FewLabel.Row("logistic regression on RBM features", "rbm", FewLabel.frozen(m, pool, test, testLabels, 10, k, w)));
            List<FewLabel.Result> res = FewLabel.run(poolLabels, new int[] {10}, 3, rows, System.out::println);
            double pixels = res.get(0).mean();
            double features = res.get(1).mean();
            System.out.printf("rbm few-label at 10 labels/class (3 draws): RBM features %.4f vs raw pixels %.4f%n", features, pixels);
            assertTrue(features > pixels + 0.02, () -> String.format("RBM features %.3f vs pixels %.3f", features, pixels));
        }
    }

    /**
     * The exact held-out log-likelihood (nats per image) of a 784-12 RBM after 3 epochs of CD-1 against
     * its own starting point (5 epochs of CD-1, eta 0.1; W ~ N(0, 0.01^2), visible bias the pixel log-odds: almost the
     * independent-pixel model). Margin 15 nats per image (measured: -206.6 -> -179.2).
     */
    @Test
    void exactLogLikelihoodOfASmallModelRises() {
        Kernels k = Kernels.current();
        Rbm.Config c = Rbm.Config.defaults(Rbm.Units.BERNOULLI, 12).withTraining(0.1, 0.5, 2e-4);
        try (Rbm m = new Rbm(c, new int[] {784}, 4, k)) {
            m.fit(pool, 0, 100, 4, null);
            double before = m.logLikelihood(test);
            m.fit(pool, 5, 100, 4, null);
            double after = m.logLikelihood(test);
            double train = m.logLikelihood(pool);
            double logZ = m.logPartition();
            Rbm.AisEstimate ais = m.aisLogPartition(pool, 100, 1000, 6);
            System.out.printf("rbm 784-12: exact held-out log-likelihood %.2f nats/image at the start, %.2f after 5 epochs (train %.2f);"
                    + " log Z %.3f exact, %.3f +- %.3f by AIS (100 chains, 1000 temperatures)%n", before, after, train, logZ, ais.logZ(),
                    ais.standardError());
            assertTrue(after > before + 15, "log-likelihood " + before + " -> " + after);
            // AIS against the exact value: within 4 of its standard errors plus 0.2 nats for its downward bias
            assertTrue(Math.abs(ais.logZ() - logZ) < 4 * ais.standardError() + 0.2, "AIS log Z " + ais + " vs exact " + logZ);
        }
    }

    /** Gaussian visible units (sigma 0.3) on the digits: one epoch lowers the held-out reconstruction error by a fifth. */
    @Test
    void gaussianVisibleUnitsLearnTheDigits() {
        Rbm.Config c = Rbm.Config.defaults(Rbm.Units.GAUSSIAN, 50).withTraining(0.01, 0.5, 2e-4);
        try (Rbm m = new Rbm(c, new int[] {784}, 5, Kernels.current())) {
            Tensor x = pool;
            m.fit(x, 0, 100, 5, null);
            double before = m.reconstructionError(test);
            m.fit(x, 1, 100, 5, null);
            double after = m.reconstructionError(test);
            System.out.printf("gaussian rbm 784-50, sigma 0.3: held-out reconstruction error %.2f -> %.2f after 1 epoch on 8000 digits%n", before, after);
            assertTrue(after < 0.8 * before, "reconstruction error " + before + " -> " + after);
        }
    }
}
