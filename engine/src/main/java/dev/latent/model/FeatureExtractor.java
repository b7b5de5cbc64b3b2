package dev.latent.model;

import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.Arrays;

/**
 * The feature interface: what a trained model of any kind hands to the rest of latent (the service
 * {@code serve.Encoder}, {@code latent fewlabel}, {@code latent encode}, the demo, Spark). A model maps
 * each input row, of shape {@link #inputShape()} flattened row-major (NCHW for images), to
 * {@link #featureSize()} features a(x).
 *
 * <p>Contract of {@link #features(Tensor, Tensor)}: x is (n, inputSize()), out is (n, featureSize()),
 * any n >= 0 (implementations work in chunks of their largest batch); out is overwritten, x is not
 * changed; the same model, x and kernel provider give the same bits. In steady state (after the first
 * call) a call allocates no off-heap memory and nothing proportional to n on the heap. One instance is
 * not safe for concurrent calls: {@code serve.Encoder} is the thread-safe front for services.
 */
public interface FeatureExtractor extends AutoCloseable {

    /** The model kind, as {@code __metadata__.kind} of its file names it. */
    String kind();

    /** The shape of one input, e.g. {784} or {1, 28, 28}. */
    int[] inputShape();

    /** Values per input row: the product of {@link #inputShape()}. */
    default int inputSize() {
        return Arrays.stream(inputShape()).reduce(1, Math::multiplyExact);
    }

    /** Features per row. */
    int featureSize();

    /** Writes the features of the rows of x (n, inputSize()) into out (n, featureSize()). */
    void features(Tensor x, Tensor out);

    /**
     * What {@link #features} computes, as steps another runtime can run (the ONNX export); its tensors
     * are views of this model's. A kind whose features cannot be written so throws
     * {@link UnsupportedOperationException} saying why in one line.
     */
    FeatureGraph featureGraph();

    /** The features of the rows of x, in a new tensor of {@code ws}. */
    default Tensor features(Tensor x, Workspace ws) {
        Tensor out = ws.allocate(x.dim(0), featureSize());
        features(x, out);
        return out;
    }

    /**
     * Checks that x (n, inputSize()) and out (n, featureSize()) fit this model, naming both shapes;
     * for implementations to call first.
     */
    default void requireShapes(Tensor x, Tensor out) {
        if (x.rank() < 1 || out.rank() < 1 || x.rowSize() != inputSize() || out.rowSize() != featureSize() || x.dim(0) != out.dim(0)) {
            throw new IllegalArgumentException(kind() + " features: input (n, " + inputSize() + ") and output (n, " + featureSize()
                    + ") expected, got " + Tensor.format(x.shape()) + " and " + Tensor.format(out.shape()));
        }
    }

    /** Frees the model's memory; the model is unusable afterwards. */
    @Override
    void close();
}
