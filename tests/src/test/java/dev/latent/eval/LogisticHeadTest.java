package dev.latent.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The few-label logistic head: its objective and gradient against a naive double-precision twin (whose
 * own gradient is checked by central finite differences), convergence to known solutions, the
 * cross-validation folds, that only the draw is ever read, and determinism.
 */
class LogisticHeadTest {

    /** The twin: J = (1/n) sum CE(W x / sqrt(d) + b) + lambda/2 ||W||^2 in double, gradient into g. */
    static double twin(double[][] x, int[] y, int classes, double lambda, double[] theta, double[] g) {
        int n = x.length;
        int d = x[0].length;
        double s = 1 / Math.sqrt(d);
        Arrays.fill(g, 0);
        double loss = 0;
        for (int i = 0; i < n; i++) {
            double[] z = new double[classes];
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                z[c] = theta[classes * d + c];
                for (int j = 0; j < d; j++) {
                    z[c] += theta[c * d + j] * x[i][j] * s;
                }
                max = Math.max(max, z[c]);
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                sum += Math.exp(z[c] - max);
            }
            double lse = max + Math.log(sum);
            loss += lse - z[y[i]];
            for (int c = 0; c < classes; c++) {
                double dz = (Math.exp(z[c] - lse) - (c == y[i] ? 1 : 0)) / n;
                g[classes * d + c] += dz;
                for (int j = 0; j < d; j++) {
                    g[c * d + j] += dz * x[i][j] * s;
                }
            }
        }
        double pen = 0;
        for (int j = 0; j < classes * d; j++) {
            pen += theta[j] * theta[j];
            g[j] += lambda * theta[j];
        }
        return loss / n + 0.5 * lambda * pen;
    }

    static double[][] randomX(SplittableRandom r, int n, int d) {
        double[][] x = new double[n][d];
        for (double[] row : x) {
            for (int j = 0; j < d; j++) {
                row[j] = (float) r.nextGaussian();
            }
        }
        return x;
    }

    static Tensor tensor(double[][] x, Workspace ws) {
        Tensor t = ws.allocate(x.length, x[0].length);
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < x[0].length; j++) {
                t.set(i, j, (float) x[i][j]);
            }
        }
        return t;
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void twinGradientMatchesFiniteDifferences(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = 9;
        int d = 5;
        int classes = 3;
        double[][] x = randomX(r, n, d);
        int[] y = IntStream.range(0, n).map(i -> r.nextInt(classes)).toArray();
        double[] theta = r.doubles(classes * d + classes, -1, 1).toArray();
        double[] g = new double[theta.length];
        twin(x, y, classes, 0.3, theta, g);
        double[] scratch = new double[theta.length];
        double eps = 1e-6;
        for (int j = 0; j < theta.length; j++) {
            double keep = theta[j];
            theta[j] = keep + eps;
            double fp = twin(x, y, classes, 0.3, theta, scratch);
            theta[j] = keep - eps;
            double fm = twin(x, y, classes, 0.3, theta, scratch);
            theta[j] = keep;
            double fd = (fp - fm) / (2 * eps);
            // gradcheck's tolerances: atol 1e-5, rtol 1e-3.
            assertEquals(fd, g[j], 1e-5 + 1e-3 * Math.abs(fd), "seed " + seed + ", parameter " + j);
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {4, 5, 6})
    void objectiveAndGradientMatchTheTwin(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = 37;
        int d = 23;
        int classes = 4;
        double[][] x = randomX(r, n, d);
        int[] y = IntStream.range(0, n).map(i -> r.nextInt(classes)).toArray();
        float[] theta = new float[classes * d + classes];
        double[] thetaD = new double[theta.length];
        for (int j = 0; j < theta.length; j++) {
            theta[j] = (float) (r.nextDouble() - 0.5);
            thetaD[j] = theta[j];
        }
        double[] g = new double[theta.length];
        double f = twin(x, y, classes, 0.05, thetaD, g);
        float[] gf = new float[theta.length];
        try (Workspace ws = new Workspace("t")) {
            double ff = LogisticHead.objective(tensor(x, ws), y, classes, 0.05, theta, gf, Kernels.current());
            // Float GEMMs of length <= 37 on O(1) values: relative error ~1e-6; 1e-5 leaves a margin.
            assertEquals(f, ff, 1e-5 * Math.abs(f), "seed " + seed + ": objective");
            for (int j = 0; j < theta.length; j++) {
                assertEquals(g[j], gf[j], 1e-5, "seed " + seed + ": gradient " + j);
            }
        }
    }

    /**
     * Non-separable, known optimum: d = 1, x = +1 with labels 0,0,0,1 and x = -1 with labels 0,1,1,1.
     * Unregularized, the maximum-likelihood model has P(1 | +1) = 1/4, P(1 | -1) = 3/4, so
     * (w1 - w0) = -ln 3 and b1 - b0 = 0 (x / sqrt(1) = x).
     */
    @Test
    void convergesToTheKnownNonSeparableOptimum() {
        double[][] x = {{1}, {1}, {1}, {1}, {-1}, {-1}, {-1}, {-1}};
        int[] y = {0, 0, 0, 1, 0, 1, 1, 1};
        try (Workspace ws = new Workspace("t")) {
            // Tolerance 1e-6 on |grad|: the curvature is p (1 - p) = 3/16, so parameters within ~1e-5.
            LogisticHead.Settings tight = new LogisticHead.Settings(new double[] {0}, 0, 500, 1e-6);
            LogisticHead.Fit f = LogisticHead.train(tensor(x, ws), y, 2, 0, tight, Kernels.current());
            assertEquals(-Math.log(3), f.weights()[1] - f.weights()[0], 1e-4);
            assertEquals(0, f.bias()[1] - f.bias()[0], 1e-4);
        }
    }

    /**
     * Separable (three Gaussian blobs far apart) with lambda 1e-3: the fit is stationary (the twin's
     * gradient norm at the fitted parameters below 1.01e-3, the default tolerance 1e-3 plus float rounding) and
     * classifies every training row right.
     */
    @Test
    void convergesOnASeparableProblem() {
        SplittableRandom r = new SplittableRandom(7);
        int n = 60;
        int d = 8;
        int classes = 3;
        double[][] x = randomX(r, n, d);
        int[] y = IntStream.range(0, n).map(i -> i % classes).toArray();
        for (int i = 0; i < n; i++) {
            x[i][y[i]] += 6;
        }
        try (Workspace ws = new Workspace("t")) {
            Tensor xt = tensor(x, ws);
            LogisticHead.Fit f = LogisticHead.train(xt, y, classes, 1e-3, LogisticHead.Settings.defaults(), Kernels.current());
            double[] theta = new double[classes * d + classes];
            for (int j = 0; j < classes * d; j++) {
                theta[j] = f.weights()[j];
            }
            for (int c = 0; c < classes; c++) {
                theta[classes * d + c] = f.bias()[c];
            }
            double[] g = new double[theta.length];
            twin(x, y, classes, 1e-3, theta, g);
            double norm = Math.sqrt(Arrays.stream(g).map(v -> v * v).sum());
            assertTrue(norm < 1.01e-3, "gradient norm at the fit " + norm);
            assertEquals(1.0, f.accuracy(xt, y, Kernels.current()));
        }
    }

    @Test
    void foldsAreStratifiedAndCoverEveryRow() {
        int[] labels = IntStream.range(0, 53).map(i -> i % 4).toArray();
        int[] fold = CrossValidation.folds(labels, 5, 3);
        for (int c = 0; c < 4; c++) {
            int[] count = new int[5];
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] == c) {
                    count[fold[i]]++;
                }
            }
            int min = Arrays.stream(count).min().orElseThrow();
            int max = Arrays.stream(count).max().orElseThrow();
            assertTrue(max - min <= 1, "class " + c + " fold counts " + Arrays.toString(count));
        }
        assertArrayEquals(fold, CrossValidation.folds(labels, 5, 3));
    }

    /** A small pool of two-class blobs in 12 dimensions, standardized, with 3 labels per class drawn. */
    record Setup(Tensor pool, int[] poolLabels, FewLabel.Draw draw) {
    }

    static Setup setup(Workspace ws) {
        SplittableRandom r = new SplittableRandom(11);
        int n = 200;
        int d = 12;
        double[][] x = randomX(r, n, d);
        int[] labels = IntStream.range(0, n).map(i -> i % 2).toArray();
        for (int i = 0; i < n; i++) {
            x[i][0] += labels[i] == 0 ? 1 : -1;
        }
        Tensor pool = tensor(x, ws);
        int[] rows = FewLabel.draw(labels, IntStream.range(0, n).toArray(), 3, 5);
        return new Setup(pool, labels, new FewLabel.Draw(3, 0, rows, LogisticHead.pick(labels, rows), 99));
    }

    /**
     * Only the draw is read: poisoning every pool row outside the draw (NaN features) leaves the chosen
     * lambda, the cross-validated accuracies and the weights bit-identical; the test split is not an
     * argument of the fit at all, and poisoning its labels changes only the score, never the fit.
     */
    @Test
    void crossValidationReadsTheDrawAlone() {
        Kernels k = Kernels.current();
        try (Workspace ws = new Workspace("t")) {
            Setup s = setup(ws);
            LogisticHead.Fit clean = FewLabel.fit(s.pool(), s.draw(), 2, LogisticHead.Settings.defaults(), k);
            Tensor poisoned = ws.allocate(s.pool().dim(0), s.pool().rowSize());
            poisoned.fill(Float.NaN);
            for (int row : s.draw().rows()) {
                poisoned.row(row).copyFrom(s.pool().row(row));
            }
            LogisticHead.Fit p = FewLabel.fit(poisoned, s.draw(), 2, LogisticHead.Settings.defaults(), k);
            assertEquals(clean.lambda(), p.lambda());
            assertArrayEquals(clean.cvAccuracy(), p.cvAccuracy());
            assertArrayEquals(clean.weights(), p.weights());
            assertArrayEquals(clean.bias(), p.bias());
            assertEquals(LogisticHead.Settings.defaults().lambdas().length, clean.cvAccuracy().length);

            int[] testLabels = s.poolLabels().clone();
            double right = FewLabel.head(s.pool(), s.pool(), testLabels, 2, k).accuracy(s.draw());
            for (int i = 0; i < testLabels.length; i++) {
                testLabels[i] = 1 - testLabels[i];
            }
            double flipped = FewLabel.head(s.pool(), s.pool(), testLabels, 2, k).accuracy(s.draw());
            // Two classes: the same predictions scored against flipped labels.
            assertEquals(1.0, right + flipped, 1e-12);
        }
    }

    @Test
    void sameDrawSameBits() {
        Kernels k = Kernels.current();
        try (Workspace ws = new Workspace("t")) {
            Setup s = setup(ws);
            LogisticHead.Fit a = FewLabel.fit(s.pool(), s.draw(), 2, LogisticHead.Settings.defaults(), k);
            LogisticHead.Fit b = FewLabel.fit(s.pool(), s.draw(), 2, LogisticHead.Settings.defaults(), k);
            assertEquals(a.lambda(), b.lambda());
            assertArrayEquals(a.weights(), b.weights());
            assertArrayEquals(a.bias(), b.bias());
        }
    }

    @Test
    void oneLabelPerClassUsesTheDocumentedDefault() {
        Kernels k = Kernels.current();
        try (Workspace ws = new Workspace("t")) {
            Setup s = setup(ws);
            int[] rows = FewLabel.draw(s.poolLabels(), IntStream.range(0, s.poolLabels().length).toArray(), 1, 3);
            FewLabel.Draw one = new FewLabel.Draw(1, 0, rows, LogisticHead.pick(s.poolLabels(), rows), 1);
            LogisticHead.Fit f = FewLabel.fit(s.pool(), one, 2, LogisticHead.Settings.defaults(), k);
            assertEquals(LogisticHead.Settings.defaults().singleLabelLambda(), f.lambda());
            assertEquals(0, f.cvAccuracy().length);
        }
    }
}
