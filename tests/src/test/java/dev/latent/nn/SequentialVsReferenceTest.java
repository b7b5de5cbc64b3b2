package dev.latent.nn;

import static dev.latent.nn.LayerData.dbl;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.Activation;
import dev.latent.kernel.KernelCase;
import dev.latent.kernel.KernelCases;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.loss.KlSparsity;
import dev.latent.loss.Mse;
import dev.latent.prop.Compare;
import dev.latent.prop.Prop;
import dev.latent.prop.Shrinkable;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Layers composed by {@link Sequential}, under every provider under test: a whole sparse autoencoder
 * step (x -> Dense -> sigmoid (KL sparsity) -> Dense -> sigmoid, MSE half-sum) with every parameter
 * gradient against the twins composed by hand (norm-wise relative 1e-4: composed through two float
 * layers with approximated sigmoids; loss 1e-5 and KL 1e-4 relative), and a conv autoencoder and a
 * DCGAN-style generator built from every image layer (output shapes, finite gradients, gamma not
 * decayed). Each layer alone is covered by its {@link LayerContract} test.
 */
class SequentialVsReferenceTest {

    record AeShape(int batch, int n, int m) implements Shrinkable<AeShape> {
        @Override
        public List<AeShape> smaller() {
            List<AeShape> out = new ArrayList<>();
            if (batch > 1) {
                out.add(new AeShape(batch / 2, n, m));
            }
            if (n > 2) {
                out.add(new AeShape(batch, n / 2, m));
            }
            if (m > 1) {
                out.add(new AeShape(batch, n, m / 2));
            }
            return out;
        }

        @Override
        public String toString() {
            return "sparse autoencoder B=" + batch + " " + n + "-" + m + "-" + n;
        }
    }

    static Stream<KernelCase<AeShape>> autoencoders() {
        return KernelCases.cases("sequential/autoencoder", List.of(new AeShape(1, 2, 1), new AeShape(9, 41, 20)),
                r -> new AeShape(r.nextInt(3) == 0 ? 1 : 2 + r.nextInt(8), 2 + r.nextInt(40), 1 + r.nextInt(20)), 8);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("autoencoders")
    void sparseAutoencoderStep(KernelCase<AeShape> c) {
        c.check(s -> {
            Kernels k = KernelRegistry.load(c.provider());
            String what = c.provider() + " seed=" + c.seed() + " " + s;
            SplittableRandom r = Prop.data(c.seed());
            int batch = s.batch();
            int n = s.n();
            int m = s.m();
            try (Sequential net = new Sequential("ae", List.of(new Dense("enc", n, m), new ActivationLayer("s1", Activation.SIGMOID),
                    new Dense("dec", m, n), new ActivationLayer("s2", Activation.SIGMOID)));
                 Workspace ws = new Workspace("ae-test")) {
                net.penalize(1, new KlSparsity(0.1, 3)).build(new int[] {n}, batch, k).init(c.seed());
                float[] x = new float[batch * n];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) r.nextDouble();
                }
                Tensor xt = ws.of(x, batch, n);
                Tensor out = net.forward(xt, true);
                net.zeroGrad();
                double loss = Mse.halfSumPerSample().valueAndGradient(out, xt, net.outputGrad());
                double penalty = net.backward(xt, net.outputGrad());

                double[] w1 = dbl(net.params().get(0).value().toArray());
                double[] b1 = dbl(net.params().get(1).value().toArray());
                double[] w2 = dbl(net.params().get(2).value().toArray());
                double[] b2 = dbl(net.params().get(3).value().toArray());
                double[] xd = dbl(x);
                double[] z1 = Reference.denseForward(xd, w1, b1, batch, n, m);
                double[] a1 = Reference.map(Activation.SIGMOID, z1);
                double[] z2 = Reference.denseForward(a1, w2, b2, batch, m, n);
                double[] a2 = Reference.map(Activation.SIGMOID, z2);
                assertEquals(Reference.mseHalfSum(a2, xd, batch), loss, 1e-5 * (1 + loss), what + ": loss");
                double klRef = Reference.kl(a1, batch, m, 0.1, 3);
                assertEquals(klRef, penalty, 1e-4 * (1 + klRef), what + ": KL penalty");
                double[] dz2 = Reference.mapBackward(Activation.SIGMOID, z2, Reference.mseHalfSumGrad(a2, xd, batch));
                double[][] g2 = Reference.denseBackward(a1, w2, dz2, batch, m, n);
                double[] da1 = g2[0].clone();
                double[] klg = Reference.klGrad(a1, batch, m, 0.1, 3);
                for (int i = 0; i < da1.length; i++) {
                    da1[i] += klg[i];
                }
                double[] dz1 = Reference.mapBackward(Activation.SIGMOID, z1, da1);
                double[][] g1 = Reference.denseBackward(xd, w1, dz1, batch, n, m);
                double[][] want = {g1[1], g1[2], g2[1], g2[2]};
                for (int i = 0; i < want.length; i++) {
                    Param p = net.params().get(i);
                    Compare.normClose(what + ": d " + p.name(), p.grad().toArray(), want[i], 1e-4, j -> "[" + j + "]");
                }
            }
        });
    }

    /** A small conv autoencoder and a DCGAN-style generator through {@link Sequential}: shapes, steps, finite gradients. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#providers")
    void imageLayersInSequential(String provider) {
        Kernels k = KernelRegistry.load(provider);
        List<Layer> ae = List.of(
                new MaskingNoise("corrupt", 0.25, 7),
                new Conv2d("enc1", 1, 4, 3, 1, 1, true), new BatchNorm("bn1", 4), new ActivationLayer("relu1", Activation.RELU),
                new MaxPool2d("pool1", 2, 2),
                new Residual("res", List.of(new Conv2d("res.conv", 4, 4, 3, 1, 1, false), new BatchNorm("res.bn", 4))),
                new Flatten("flat"), new Dropout("drop", 0.2, 3), new Dense("code", 4 * 4 * 4, 8, true),
                new Dense("expand", 8, 4 * 4 * 4, true), new Reshape("unflat", 4, 4, 4),
                new Upsample2d("up", 2), new AvgPool2d("avg", 1, 1),
                new ConvTranspose2d("dec1", 4, 1, 4, 2, 1, 0, true), new AvgPool2d("down", 2, 2),
                new ActivationLayer("out", Activation.SIGMOID));
        try (Sequential net = new Sequential("conv-ae", ae); Workspace ws = new Workspace("seq-test")) {
            net.build(new int[] {1, 8, 8}, 3, k).init(11);
            assertArrayEquals(new int[] {1, 8, 8}, net.outputShape(), "conv autoencoder output shape");
            float[] x = new float[2 * 64];
            SplittableRandom r = new SplittableRandom(5);
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextDouble();
            }
            Tensor xt = ws.of(x, 2, 1, 8, 8);
            Tensor out = net.forward(xt, true);
            net.zeroGrad();
            float[] o = out.toArray();
            for (int i = 0; i < o.length; i++) {
                net.outputGrad().set(i, o[i] - x[i]);
            }
            net.backward(xt, net.outputGrad());
            for (Param prm : net.params()) {
                for (float v : prm.grad().toArray()) {
                    assertTrue(Float.isFinite(v), provider + ": non-finite gradient in " + prm.name());
                }
            }
            assertTrue(net.params().stream().noneMatch(prm -> prm.name().contains("gamma") && prm.decay()), "gamma must not decay");
        }
        List<Layer> generator = List.of(
                new Dense("project", 6, 8 * 4 * 4, false), new Reshape("to-image", 8, 4, 4), new BatchNorm("g.bn0", 8),
                new ActivationLayer("g.relu0", Activation.RELU),
                new ConvTranspose2d("g.deconv1", 8, 4, 4, 2, 1, 0, false), new BatchNorm("g.bn1", 4),
                new ActivationLayer("g.relu1", Activation.RELU),
                new ConvTranspose2d("g.deconv2", 4, 1, 4, 2, 1, 0, true), new ActivationLayer("g.tanh", Activation.TANH));
        try (Sequential g = new Sequential("dcgan-g", generator); Workspace ws = new Workspace("gen-test")) {
            g.build(new int[] {6}, 4, k).init(3);
            assertArrayEquals(new int[] {1, 16, 16}, g.outputShape(), "DCGAN generator output shape");
            Tensor z = ws.of(LayerData.random(new SplittableRandom(9), 4 * 6), 4, 6);
            Tensor img = g.forward(z, true);
            g.zeroGrad();
            g.outputGrad().copyFrom(img);
            g.backward(z, g.outputGrad());
            for (Param prm : g.params()) {
                for (float v : prm.grad().toArray()) {
                    assertTrue(Float.isFinite(v), provider + ": non-finite generator gradient in " + prm.name());
                }
            }
            for (float v : g.forward(z, false).toArray()) {
                assertTrue(v >= -1 && v <= 1, provider + ": generator output " + v + " outside tanh's range");
            }
        }
    }
}
