package dev.latent.model;

import dev.latent.kernel.Activation;
import dev.latent.nn.ActivationLayer;
import dev.latent.nn.AvgPool2d;
import dev.latent.nn.Conv2d;
import dev.latent.nn.Layer;
import dev.latent.nn.MaxPool2d;
import dev.latent.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@link FeatureExtractor#features} computes, written as data: a chain of steps that another
 * runtime can run (the ONNX export of module {@code latent-onnx} turns each step into operators). A
 * kind builds its graph from its own parameters ({@link FeatureExtractor#featureGraph}); the tensors
 * are views of the model's, valid while the model is open.
 *
 * <p>The value flowing through the chain is, per input row, either a vector (d) or maps (C, H, W),
 * starting from the row reshaped to {@link #inputShape}. Each step says which it takes and gives;
 * a step's {@code name} names its tensors (a layer's: {@code name.weight}, {@code name.bias}, ...);
 * "per position" steps act on the channel vector at every (y, x) of maps. The chain must end in a
 * vector of the model's feature size.
 */
public record FeatureGraph(int[] inputShape, List<Step> steps) {

    public FeatureGraph {
        inputShape = inputShape.clone();
        steps = List.copyOf(steps);
    }

    @Override
    public int[] inputShape() {
        return inputShape.clone();
    }

    /**
     * The steps of nn layers run in inference mode: Conv2d, BatchNorm (running statistics),
     * ActivationLayer, MaxPool2d, AvgPool2d, Flatten; any other layer is an
     * {@link UnsupportedOperationException} naming it.
     */
    public static List<Step> ofLayers(List<Layer> layers) {
        List<Step> steps = new ArrayList<>();
        for (Layer l : layers) {
            steps.add(switch (l) {
                case Conv2d c -> new Conv(c.name(), c.weight().value(), c.bias() == null ? null : c.bias().value(),
                        c.kernel(), c.stride(), c.pad());
                case dev.latent.nn.BatchNorm b -> new BatchNorm(b.name(), b.gamma().value(), b.beta().value(), b.runningMean(),
                        b.runningVar(), b.eps());
                case ActivationLayer a -> new Activate(a.activation());
                case MaxPool2d p -> new MaxPool(p.kernel(), p.stride());
                case AvgPool2d p -> new AvgPool(p.kernel(), p.stride());
                case dev.latent.nn.Flatten f -> new Flatten();
                default -> throw new UnsupportedOperationException("layer " + l.name() + " (" + l.getClass().getSimpleName()
                        + ") has no feature step");
            });
        }
        return steps;
    }

    /** One step of the chain. */
    public sealed interface Step {
    }

    /** Vector (in) -> f(W x + b): weight (out, in), bias (out) or null for none. */
    public record Dense(String name, Tensor weight, Tensor bias, Activation activation) implements Step {
    }

    /**
     * Vector h (m) -> h + f(W [h; x] + b), x the graph's input row: weight (m, m + n), bias (m). The
     * residual autoencoder's blocks 2..K.
     */
    public record SharedInputResidual(String name, Tensor weight, Tensor bias, Activation activation) implements Step {
    }

    /** Any value -> x * scale + shift, elementwise. */
    public record Affine(float scale, float shift) implements Step {
    }

    /** Vector (d) -> x - offset, offset (d). */
    public record Center(String name, Tensor offset) implements Step {
    }

    /** Any value -> f(x), elementwise. */
    public record Activate(Activation activation) implements Step {
    }

    /**
     * Maps (C, H, W) -> convolution: weight (O, C k k) (PyTorch's (O, C, k, k) in memory order), bias (O)
     * or null, zero padding {@code pad} on every side.
     */
    public record Conv(String name, Tensor weight, Tensor bias, int kernel, int stride, int pad) implements Step {
    }

    /** Maps (C, H, W) -> (x - mean_c) / sqrt(var_c + eps) * gamma_c + beta_c: batch norm with running statistics. */
    public record BatchNorm(String name, Tensor gamma, Tensor beta, Tensor mean, Tensor variance, double eps) implements Step {
    }

    /** Maps -> the max of each k x k window at stride s (no padding, floor). */
    public record MaxPool(int kernel, int stride) implements Step {
    }

    /** Maps -> the mean of each k x k window at stride s (no padding, floor). */
    public record AvgPool(int kernel, int stride) implements Step {
    }

    /**
     * Maps (C, H, W) -> maps (C, n, n): the max over each cell of an n x n grid, cell (i, j) covering
     * rows [i H / n, ceil((i + 1) H / n)) and columns likewise (adaptive max pooling; cells may overlap).
     */
    public record GridMax(int cells) implements Step {
    }

    /** Maps (C, H, W) -> vector (C*H*W), row-major. */
    public record Flatten() implements Step {
    }

    /**
     * Maps (C, H, W) -> vector (m F): the (C, height, width) window at each of the m {@code offsets}
     * (y0, x0) through {@code each} (maps in, a vector of F out), the F-vectors side by side in order.
     */
    public record Windows(int height, int width, int[][] offsets, List<Step> each) implements Step {
        public Windows {
            offsets = offsets.clone();
            each = List.copyOf(each);
        }
    }

    /**
     * Maps (C, H, W) -> maps (C p p, gh, gw): the p x p patch at every stride-th position, flattened
     * (channel, row, column) into the channels; gh = (H - p) / stride + 1, likewise gw.
     */
    public record Patches(int patch, int stride) implements Step {
    }

    /** Per position: x -> (x - mean(x)) / sqrt(var(x) + eps), mean and variance over the d channels (1/d). */
    public record NormalizeChannels(double eps) implements Step {
    }

    /** Per position: x (d) -> x M + b, matrix M (d, e), bias (e): the ZCA whitening of data.Whitening. */
    public record Whiten(String name, Tensor matrix, Tensor bias) implements Step {
    }

    /** Per position: x -> x / ||x|| (a zero vector stays zero). */
    public record UnitNorm() implements Step {
    }

    /**
     * Per position: x (d) -> (||x - c_j||)_j over the rows c_j of centroids (k, d), computed as
     * sqrt(max(0, ||x||^2 - 2 x.c_j + ||c_j||^2)) with ||c_j||^2 summed in double and rounded to float.
     */
    public record Distances(String name, Tensor centroids) implements Step {
    }

    /** Per position: x (d) -> (x.c_j + shift)_j over the rows c_j of centroids (k, d). */
    public record Dots(String name, Tensor centroids, float shift) implements Step {
    }

    /** Per position: distances z (k) -> max(0, mean(z) - z_j): Coates et al.'s "triangle" encoding. */
    public record Triangle() implements Step {
    }

    /** Per position: distances z (k) -> the one-hot vector of the smallest (the first of equals). */
    public record Nearest() implements Step {
    }

    /** Maps (C, H, W) -> the channels {@code channels} (ascending indices), in that order. */
    public record SelectChannels(int[] channels) implements Step {
        public SelectChannels {
            channels = channels.clone();
        }
    }

    /**
     * Maps (k, gh, gw) -> vector (4k): sums over the four quadrants, rows [0, (gh+1)/2) and the rest
     * times columns likewise; entry q k + j is channel j of quadrant q = 2 (lower) + (right).
     */
    public record QuadrantSums() implements Step {
    }

    /** Any value -> vector: each branch (a chain from this value to a vector) in turn, concatenated. */
    public record Concat(List<List<Step>> branches) implements Step {
        public Concat {
            branches = branches.stream().map(List::copyOf).toList();
        }
    }
}
