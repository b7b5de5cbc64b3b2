package dev.latent.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.Activation;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.prop.Compare;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Sequential#backwardInput}, the discriminator's backward during a generator step: the input
 * gradient must have the same bits as a full {@link Sequential#backward} (the same kernels compute it
 * in the same order), and the layers that skip their parameter gradients (Dense, Conv2d) must leave
 * them as they were. The network is the DCGAN discriminator's shape: input tap, two strided
 * convolutions (the second without bias, then batch norm), leaky ReLU, a dense logit.
 */
class BackwardInputTest {

    @Test
    void inputGradientIsBitIdenticalAndWeightGradientsAreSkipped() {
        Kernels k = KernelRegistry.current();
        GanInputTap tap = new GanInputTap("tap");
        Conv2d c1 = new Conv2d("c1", 1, 8, 4, 2, 1, true);
        Conv2d c2 = new Conv2d("c2", 8, 16, 4, 2, 1, false);
        Dense fc = new Dense("fc", 16 * 7 * 7, 1, true);
        Sequential d = new Sequential("d", List.of(tap, c1, new ActivationLayer("a1", Activation.leakyRelu(0.2f)), c2,
                new BatchNorm("bn", 16), new ActivationLayer("a2", Activation.leakyRelu(0.2f)), new Flatten("flat"), fc));
        try (Workspace ws = new Workspace("backward input")) {
            d.build(new int[] {1, 28, 28}, 12, k);
            d.init(3);
            Tensor x = ws.allocate(12, 1, 28, 28);
            SplittableRandom r = new SplittableRandom(5);
            for (long i = 0; i < x.size(); i++) {
                x.set(i, (float) r.nextDouble(-1, 1));
            }
            Tensor dOut = ws.allocate(12, 1);
            for (long i = 0; i < dOut.size(); i++) {
                dOut.set(i, (float) r.nextDouble(-1, 1));
            }

            d.forward(x, true);
            d.zeroGrad();
            d.backward(x, dOut);
            float[] full = tap.inputGradient().toArray();
            float[] fullConvGrad = c1.params().getFirst().grad().toArray();
            assertTrue(norm(fullConvGrad) > 0, "the full backward must produce a weight gradient to compare against");

            d.forward(x, true);
            d.zeroGrad();
            d.backwardInput(x, dOut);
            Compare.sameBits("input gradient of backwardInput vs backward", tap.inputGradient().toArray(), full,
                    i -> "dx[" + i + "]");
            for (Layer skipping : List.of(c1, c2, fc)) {
                for (Param p : skipping.params()) {
                    assertEquals(0.0, norm(p.grad().toArray()), p.name() + " gradient must be left as it was (zero)");
                }
            }
        } finally {
            d.close();
        }
    }

    private static double norm(float[] v) {
        double s = 0;
        for (float f : v) {
            s += (double) f * f;
        }
        return Math.sqrt(s);
    }
}
