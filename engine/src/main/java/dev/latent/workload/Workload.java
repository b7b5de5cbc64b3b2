package dev.latent.workload;

import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.loss.KlSparsity;
import dev.latent.loss.Loss;
import dev.latent.loss.Mse;
import dev.latent.loss.WeightDecay;
import dev.latent.nn.ActivationLayer;
import dev.latent.nn.Conv2d;
import dev.latent.nn.ConvTranspose2d;
import dev.latent.nn.Dense;
import dev.latent.nn.Layer;
import dev.latent.nn.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The standard training workloads that benchmarks (JMH, {@code latent bench train}) and the PyTorch
 * peer scripts in bench/peers run identically:
 * <ul>
 *   <li>W1: sparse autoencoder 784-196-784, sigmoid, KL sparsity (rho 0.1, beta 3) + weight decay 1e-4,
 *       MSE (1/2 sum per sample), Adam, batch 256;
 *   <li>W2: deep autoencoder 784-1000-500-250-30-250-500-1000-784, sigmoid with a linear code layer,
 *       MSE (mean), Adam, batch 256;
 *   <li>W3: convolutional autoencoder on 1x28x28: Conv(1-&gt;32,3,s2,p1)-ReLU-Conv(32-&gt;64,3,s2,p1)-ReLU-
 *       ConvT(64-&gt;32,3,s2,p1,op1)-ReLU-ConvT(32-&gt;1,3,s2,p1,op1)-Sigmoid, MSE (mean), Adam, batch 128.
 * </ul>
 * W4 (a DCGAN step pair) is {@link GanWorkload}, W5 (serving an encoder) {@link EncoderWorkload}:
 * neither is a {@code Trainer.step} of a {@code Sequential}.
 */
public enum Workload {
    W1(256), W2(256), W3(128);

    private final int batch;

    Workload(int batch) {
        this.batch = batch;
    }

    public int batch() {
        return batch;
    }

    public static Workload parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown workload '" + s + "'; expected w1, w2 or w3", e);
        }
    }

    /**
     * Floating-point operations of one training step per sample, counting a multiply-add as 2: the
     * forward pass, the weight gradients of every layer, and the input gradients of every layer but the
     * first (nothing needs the gradient of the data). Element-wise work (activations, loss, Adam) is
     * left out: it is memory bound and under 1% of these. W1 1.54 MFLOP (393 MFLOP a step of 256),
     * W2 about 10.8 MFLOP, W3 about 11.4 MFLOP.
     */
    public double trainingFlopPerSample() {
        long[] macs = switch (this) {
            case W1 -> new long[] {784L * 196, 196L * 784};
            case W2 -> {
                int[] sizes = {784, 1000, 500, 250, 30, 250, 500, 1000, 784};
                long[] m = new long[sizes.length - 1];
                for (int i = 0; i < m.length; i++) {
                    m[i] = (long) sizes[i] * sizes[i + 1];
                }
                yield m;
            }
            // output positions x output channels x (input channels x 3 x 3); a transposed convolution
            // does the same multiply-adds as the convolution it transposes (input positions x ...).
            case W3 -> new long[] {14L * 14 * 32 * 9, 7L * 7 * 64 * 32 * 9, 7L * 7 * 64 * 32 * 9, 14L * 14 * 32 * 9};
        };
        double flop = 0;
        for (int i = 0; i < macs.length; i++) {
            flop += 2.0 * macs[i] * (i == 0 ? 2 : 3);
        }
        return flop;
    }

    /** Per-sample input shape: [784] for W1 and W2, [1, 28, 28] for W3. */
    public int[] inputShape() {
        return this == W3 ? new int[] {1, 28, 28} : new int[] {784};
    }

    public Loss loss() {
        return this == W1 ? Mse.halfSumPerSample() : Mse.mean();
    }

    /** Weight decay of the workload, or null. */
    public WeightDecay weightDecay() {
        return this == W1 ? new WeightDecay(1e-4) : null;
    }

    /** The network, built for this workload's batch on {@code kernels}, initialized from {@code seed}. */
    public Sequential build(Kernels kernels, long seed) {
        List<Layer> layers = new ArrayList<>();
        Sequential net;
        switch (this) {
            case W1 -> {
                layers.add(new Dense("enc", 784, 196));
                layers.add(new ActivationLayer("s1", Activation.SIGMOID));
                layers.add(new Dense("dec", 196, 784));
                layers.add(new ActivationLayer("s2", Activation.SIGMOID));
                net = new Sequential("w1", layers).penalize(1, new KlSparsity(0.1, 3));
            }
            case W2 -> {
                int[] sizes = {784, 1000, 500, 250, 30, 250, 500, 1000, 784};
                for (int i = 0; i + 1 < sizes.length; i++) {
                    layers.add(new Dense("d" + (i + 1), sizes[i], sizes[i + 1]));
                    boolean code = sizes[i + 1] == 30;
                    layers.add(new ActivationLayer("a" + (i + 1), code ? Activation.IDENTITY : Activation.SIGMOID));
                }
                net = new Sequential("w2", layers);
            }
            case W3 -> {
                layers.add(new Conv2d("c1", 1, 32, 3, 2, 1, true));
                layers.add(new ActivationLayer("r1", Activation.RELU));
                layers.add(new Conv2d("c2", 32, 64, 3, 2, 1, true));
                layers.add(new ActivationLayer("r2", Activation.RELU));
                layers.add(new ConvTranspose2d("t1", 64, 32, 3, 2, 1, 1, true));
                layers.add(new ActivationLayer("r3", Activation.RELU));
                layers.add(new ConvTranspose2d("t2", 32, 1, 3, 2, 1, 1, true));
                layers.add(new ActivationLayer("s", Activation.SIGMOID));
                net = new Sequential("w3", layers);
            }
            default -> throw new AssertionError(this);
        }
        net.build(inputShape(), batch, kernels);
        net.init(seed);
        return net;
    }
}
