package dev.latent.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.loss.Mse;
import dev.latent.nn.Dense;
import dev.latent.nn.Param;
import dev.latent.nn.Sequential;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Optimizers against their formulas written in double (a few steps on fixed gradients), schedules at
 * known points, and L-BFGS recovering the exact least-squares solution of a noiseless linear problem.
 */
class OptimizerTest {

    /** A slab of n parameters with fixed values and gradients, inside a one-layer model. */
    private static Sequential model(int n) {
        return new Sequential("m", List.of(new Dense("d", n, 1, false))).build(new int[] {n}, 1, Kernels.current());
    }

    @ParameterizedTest(name = "momentum {0} nesterov {1}")
    @CsvSource({"0,false", "0.9,false", "0.9,true"})
    void sgdMatchesFormula(double mu, boolean nesterov) {
        int n = 7;
        try (Sequential m = model(n); Sgd sgd = new Sgd(m.slab(), LearningRate.constant(0.1), mu, nesterov)) {
            SplittableRandom r = new SplittableRandom(1);
            double[] w = new double[n];
            double[] v = new double[n];
            Tensor wt = m.slab().values();
            Tensor gt = m.slab().grads();
            for (int i = 0; i < n; i++) {
                w[i] = (float) r.nextDouble();
                wt.set(i, (float) w[i]);
            }
            for (int step = 0; step < 5; step++) {
                for (int i = 0; i < n; i++) {
                    float g = (float) (r.nextDouble() - 0.5);
                    gt.set(i, g);
                    v[i] = mu * v[i] + g;
                    w[i] -= 0.1 * (nesterov ? g + mu * v[i] : (mu == 0 ? g : v[i]));
                }
                sgd.step();
            }
            // Float arithmetic of 5 updates of O(1) values: 1e-6 absolute is ~10 float ulps.
            for (int i = 0; i < n; i++) {
                assertEquals(w[i], wt.get(i), 1e-6, "w[" + i + "]");
            }
        }
    }

    @ParameterizedTest(name = "decoupled decay {0}")
    @CsvSource({"0", "0.01"})
    void adamMatchesFormula(double wd) {
        int n = 5;
        try (Sequential m = model(n); Adam adam = new Adam(m.slab(), LearningRate.constant(0.01), 0.9, 0.999, 1e-8, wd)) {
            SplittableRandom r = new SplittableRandom(2);
            double[] w = new double[n];
            double[] mm = new double[n];
            double[] vv = new double[n];
            Tensor wt = m.slab().values();
            Tensor gt = m.slab().grads();
            for (int i = 0; i < n; i++) {
                w[i] = (float) r.nextDouble();
                wt.set(i, (float) w[i]);
            }
            for (int t = 1; t <= 6; t++) {
                for (int i = 0; i < n; i++) {
                    float g = (float) (r.nextDouble() - 0.5);
                    gt.set(i, g);
                    w[i] -= 0.01 * wd * w[i];
                    mm[i] = 0.9 * mm[i] + 0.1 * g;
                    vv[i] = 0.999 * vv[i] + 0.001 * g * g;
                    double mh = mm[i] / (1 - Math.pow(0.9, t));
                    double vh = vv[i] / (1 - Math.pow(0.999, t));
                    w[i] -= 0.01 * mh / (Math.sqrt(vh) + 1e-8);
                }
                adam.step();
            }
            // The float implementation folds the bias corrections into the step size; each step
            // moves w by ~lr = 0.01 with float relative error ~1e-6: 1e-6 absolute over 6 steps.
            for (int i = 0; i < n; i++) {
                assertEquals(w[i], wt.get(i), 1e-6, "w[" + i + "]");
            }
        }
    }

    @Test
    void schedules() {
        assertEquals(0.1, LearningRate.constant(0.1).at(1000), 0);
        LearningRate step = LearningRate.step(1.0, 10, 0.5);
        assertEquals(1.0, step.at(9), 0);
        assertEquals(0.5, step.at(10), 0);
        assertEquals(0.25, step.at(25), 0);
        LearningRate cos = LearningRate.cosine(1.0, 0.0, 100);
        assertEquals(1.0, cos.at(0), 1e-12);
        assertEquals(0.5, cos.at(50), 1e-12);
        assertEquals(0.0, cos.at(100), 1e-12);
        assertEquals(0.0, cos.at(500), 1e-12);
    }

    /**
     * Least squares y = X w* with X (64, 6) random and no noise: the minimum of the half-sum MSE is
     * w* exactly, and the objective is a convex quadratic, on which L-BFGS converges superlinearly;
     * 100 iterations reach |w - w*| < 1e-4 (float round-off in the gradient limits it to ~1e-5).
     */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.MethodSource("dev.latent.train.AllocationTest#providers")
    void lbfgsSolvesLeastSquares(String provider) {
        Kernels k = KernelRegistry.load(provider);
        int n = 64;
        int d = 6;
        try (Sequential m = new Sequential("ls", List.of(new Dense("d", d, 1, true))).build(new int[] {d}, n, k);
             Workspace ws = new Workspace("ls");
             Lbfgs lbfgs = new Lbfgs(m.slab().values(), m.slab().grads(), 8, k)) {
            SplittableRandom r = new SplittableRandom(3);
            double[] truth = new double[d + 1];
            for (int i = 0; i <= d; i++) {
                truth[i] = r.nextDouble() * 2 - 1;
            }
            Tensor x = ws.allocate(n, d);
            Tensor y = ws.allocate(n, 1);
            for (int s = 0; s < n; s++) {
                double v = truth[d];
                for (int i = 0; i < d; i++) {
                    float xi = (float) (r.nextDouble() * 2 - 1);
                    x.set(s, i, xi);
                    v += truth[i] * xi;
                }
                y.set(s, 0, (float) v);
            }
            Mse mse = Mse.halfSumPerSample();
            double fx = lbfgs.minimize(() -> {
                Tensor out = m.forward(x, true);
                m.zeroGrad();
                double l = mse.valueAndGradient(out, y, m.outputGrad());
                m.backward(x, m.outputGrad());
                return l;
            }, 100, 1e-9, null);
            Param w = m.params().get(0);
            Param b = m.params().get(1);
            for (int i = 0; i < d; i++) {
                assertEquals(truth[i], w.value().get(i), 1e-4, provider + ": weight " + i);
            }
            assertEquals(truth[d], b.value().get(0), 1e-4, provider + ": bias");
            assertTrue(fx < 1e-8, provider + ": final objective " + fx);
        }
    }
}
