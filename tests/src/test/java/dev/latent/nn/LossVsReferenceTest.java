package dev.latent.nn;

import static dev.latent.nn.LayerData.dbl;
import static dev.latent.nn.LayerData.random;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.latent.kernel.KernelCase;
import dev.latent.kernel.KernelCases;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.loss.Bce;
import dev.latent.loss.KlSparsity;
import dev.latent.loss.L1Activity;
import dev.latent.loss.Loss;
import dev.latent.loss.Mse;
import dev.latent.loss.SoftmaxCrossEntropy;
import dev.latent.prop.Prop;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every loss and penalty, under every provider under test, against the double twin ({@link Reference})
 * over (B, n) shapes including batch 1 (seeded cases as the layer contract's: provider, seed and shape
 * in the name). Tolerances: loss values relative 1e-6 (double accumulation of exactly represented
 * inputs); loss gradients element-wise relative 1e-5 (each rounded once to float after a few double
 * operations); KL sparsity value and gradient relative 1e-4 (the mean activation is summed in float
 * over the batch); L1 value 1e-9 relative, gradient 1e-6 relative (beta / B sign(a), one rounding).
 * Their twins' gradients are checked by finite differences in {@link ReferenceGradientTest}.
 */
class LossVsReferenceTest {

    static Stream<KernelCase<LossShape>> cases() {
        return KernelCases.cases("losses", LossShape.edges(), LossShape::random, 8);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void lossesAndPenaltiesMatchTheTwin(KernelCase<LossShape> c) {
        c.check(s -> check(KernelRegistry.load(c.provider()), c.provider() + " seed=" + c.seed() + " " + s, s, Prop.data(c.seed())));
    }

    private static void check(Kernels k, String what, LossShape s, SplittableRandom r) {
        int batch = s.batch();
        int n = s.n();
        try (Workspace ws = new Workspace("loss-test")) {
            float[] y = random(r, batch * n);
            float[] t = random(r, batch * n);
            Tensor yt = ws.of(y, batch, n);
            Tensor tt = ws.of(t, batch, n);
            Tensor dy = ws.allocate(batch, n);
            checkLoss(what, Mse.halfSumPerSample(), yt, tt, dy, Reference.mseHalfSum(dbl(y), dbl(t), batch),
                    Reference.mseHalfSumGrad(dbl(y), dbl(t), batch));
            checkLoss(what, Mse.mean(), yt, tt, dy, Reference.mseMean(dbl(y), dbl(t)), Reference.mseMeanGrad(dbl(y), dbl(t)));
            float[] p = new float[batch * n];
            float[] t01 = new float[batch * n];
            for (int i = 0; i < p.length; i++) {
                p[i] = (float) (0.02 + 0.96 * r.nextDouble());
                t01[i] = r.nextBoolean() ? 1f : (float) r.nextDouble();
            }
            Tensor pt = ws.of(p, batch, n);
            Tensor t01t = ws.of(t01, batch, n);
            checkLoss(what, Bce.onProbabilities(), pt, t01t, dy, Reference.bce(dbl(p), dbl(t01)), Reference.bceGrad(dbl(p), dbl(t01)));
            checkLoss(what, Bce.withLogits(), yt, t01t, dy, Reference.bceLogits(dbl(y), dbl(t01)), Reference.bceLogitsGrad(dbl(y), dbl(t01)));
            float[] onehot = new float[batch * n];
            for (int b = 0; b < batch; b++) {
                onehot[b * n + r.nextInt(n)] = 1;
            }
            checkLoss(what, new SoftmaxCrossEntropy(), yt, ws.of(onehot, batch, n), dy,
                    Reference.softmaxCe(dbl(y), dbl(onehot), batch, n), Reference.softmaxCeGrad(dbl(y), dbl(onehot), batch, n));

            KlSparsity kl = new KlSparsity(0.1, 3);
            kl.build(new int[] {n}, batch, k, ws);
            Tensor da = ws.allocate(batch, n);
            double v = kl.addGradient(pt, da);
            double vref = Reference.kl(dbl(p), batch, n, 0.1, 3);
            assertEquals(vref, v, 1e-4 * Math.abs(vref) + 1e-9, what + ": KL value");
            Tolerance.relative(1e-4, 0).check(what + ": KL gradient", da.toArray(), Reference.klGrad(dbl(p), batch, n, 0.1, 3), null, null);

            L1Activity l1 = new L1Activity(0.7);
            l1.build(new int[] {n}, batch, k, ws);
            da.fill(0f);
            double lv = l1.addGradient(yt, da);
            assertEquals(Reference.l1(dbl(y), batch, 0.7), lv, 1e-9 * (1 + Math.abs(lv)), what + ": L1 value");
            Tolerance.relative(1e-6, 0).check(what + ": L1 gradient", da.toArray(), Reference.l1Grad(dbl(y), batch, 0.7), null, null);
        }
    }

    private static void checkLoss(String what, Loss loss, Tensor y, Tensor t, Tensor dy, double ref, double[] gref) {
        double v = loss.valueAndGradient(y, t, dy);
        assertEquals(ref, v, 1e-6 * Math.abs(ref) + 1e-12, what + ": " + loss + " value");
        assertEquals(v, loss.value(y, t), 0.0, what + ": " + loss + " value() differs from valueAndGradient()");
        Tolerance.relative(1e-5, 0).check(what + ": " + loss + " gradient", dy.toArray(), gref, null, null);
    }
}
