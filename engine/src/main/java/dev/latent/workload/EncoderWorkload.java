package dev.latent.workload;

import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.model.autoencoder.Autoencoder;
import java.util.SplittableRandom;

/**
 * Workload W5, serving a trained encoder: 784-1000-500-250-30, sigmoid hidden layers, a linear code,
 * float32, weights from {@value #SEED}; timed at batch 1 (latency) and batch {@value #BATCH}
 * (throughput). The one definition used by the JMH benchmark, {@code latent bench encode} and, through
 * the saved model file, its peers (ONNX Runtime, bench/peers/encode_peers.py).
 */
public final class EncoderWorkload {

    public static final int INPUT = 784;
    public static final int CODE = 30;
    public static final int BATCH = 256;
    public static final long SEED = 42;
    /** Seed of the input pixels (independent of the weights'). */
    public static final long INPUT_SEED = 7;

    private EncoderWorkload() {
    }

    /** The autoencoder whose encoder is W5, on {@code kernels}, initialised from {@link #SEED}; the caller closes it. */
    public static Autoencoder build(Kernels kernels) {
        return Autoencoder.builder(INPUT).hidden(1000, 500, 250, CODE).activation(Activation.SIGMOID)
                .codeActivation(Activation.IDENTITY).kernels(kernels).build().init(SEED);
    }

    /** Floating-point operations of encoding one sample (a multiply-add counts 2): 2.83 MFLOP. */
    public static double flopPerSample() {
        return 2.0 * (INPUT * 1000L + 1000L * 500 + 500L * 250 + 250L * CODE);
    }

    /** {@link #BATCH} rows of {@link #INPUT} uniform [0, 1) pixels, row-major, from {@link #INPUT_SEED}. */
    public static float[] input() {
        float[] x = new float[BATCH * INPUT];
        SplittableRandom r = new SplittableRandom(INPUT_SEED);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextDouble();
        }
        return x;
    }
}
