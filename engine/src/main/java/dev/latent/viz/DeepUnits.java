package dev.latent.viz;

import dev.latent.kernel.Activation;
import dev.latent.nn.Dense;
import dev.latent.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Pictures of deeper units: what a unit of layer 2 (or deeper) of a deep or stacked autoencoder
 * responds to, seen through the layers below it (issue 4, "Pictures"). Two ways:
 * <ul>
 *   <li>{@link #weightedSum}: the unit's weights on the layer below, applied to that layer's filters,
 *       v = W_2[j, :] W_1 (a linear view, exact when the first layer is linear);</li>
 *   <li>{@link #maximize}: activation maximization, the input x of norm at most 1 that maximizes the
 *       unit's pre-activation z_L[j], by projected gradient ascent (x += step * g / ||g||, then
 *       x /= max(1, ||x||)). Every activation is nondecreasing, so this also maximizes the unit's
 *       activation; the pre-activation does not saturate, which keeps the gradient alive.</li>
 * </ul>
 * The stack is given as its dense layers (input side first) and their activations; computed in
 * double from the float weights, off the hot path.
 */
public final class DeepUnits {

    private DeepUnits() {
    }

    /** v = W_2[unit, :] W_1: layer 2's unit as a weighted sum of layer 1's filters (length: the input size). */
    public static float[] weightedSum(Tensor w1, Tensor w2, int unit) {
        int hidden = w1.dim(0);
        int input = w1.dim(1);
        if (w2.dim(1) != hidden) {
            throw new IllegalArgumentException("weightedSum: W2 " + Tensor.format(w2.shape()) + " does not read W1's " + hidden + " outputs");
        }
        checkUnit(unit, w2.dim(0));
        double[] v = new double[input];
        for (int i = 0; i < hidden; i++) {
            double c = w2.get(unit, i);
            for (int p = 0; p < input; p++) {
                v[p] += c * w1.get(i, p);
            }
        }
        float[] out = new float[input];
        for (int p = 0; p < input; p++) {
            out[p] = (float) v[p];
        }
        return out;
    }

    /** The pre-activation z_L[unit] of the last given layer for input x. */
    public static double preActivation(List<Dense> layers, List<Activation> activations, int unit, float[] x) {
        Net net = new Net(layers, activations);
        checkUnit(unit, net.outputs());
        return net.forward(toDouble(x), unit);
    }

    /**
     * The input of norm at most 1 that maximizes z_L[unit] (L = the last given layer), by {@code steps}
     * steps of projected gradient ascent of size {@code step}, from a random unit-norm start drawn from
     * {@code seed}. The step shrinks as step / sqrt(t) so the iterate settles; the best iterate is returned.
     */
    public static float[] maximize(List<Dense> layers, List<Activation> activations, int unit, int steps, double step, long seed) {
        Net net = new Net(layers, activations);
        checkUnit(unit, net.outputs());
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[net.inputs()];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextGaussian();
        }
        project(x, true);
        double[] best = x.clone();
        double bestZ = Double.NEGATIVE_INFINITY;
        for (int t = 1; t <= steps; t++) {
            double z = net.forward(x, unit);
            if (z > bestZ) {
                bestZ = z;
                best = x.clone();
            }
            double[] g = net.gradient(unit);
            double norm = Math.sqrt(dot(g, g));
            if (norm == 0) {
                break;
            }
            double s = step / Math.sqrt(t) / norm;
            for (int i = 0; i < x.length; i++) {
                x[i] += s * g[i];
            }
            project(x, false);
        }
        if (net.forward(x, unit) > bestZ) {
            best = x;
        }
        float[] out = new float[best.length];
        for (int i = 0; i < best.length; i++) {
            out[i] = (float) best[i];
        }
        return out;
    }

    /** Writes pictures (each h*w values) as a PNG grid, each tile stretched symmetrically around 0. */
    public static void write(Path file, float[][] pictures, int h, int w, int columns, int scale) throws IOException {
        ImageGrid.write(file, pictures, h, w, columns, scale, ImageGrid.Scaling.SYMMETRIC_PER_TILE);
    }

    /** x /= ||x|| (always, or only when ||x|| > 1). */
    private static void project(double[] x, boolean always) {
        double n = Math.sqrt(dot(x, x));
        if (n > 0 && (always || n > 1)) {
            for (int i = 0; i < x.length; i++) {
                x[i] /= n;
            }
        }
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }

    private static void checkUnit(int unit, int units) {
        if (unit < 0 || unit >= units) {
            throw new IllegalArgumentException("unit " + unit + " outside the layer's " + units + " units");
        }
    }

    /** The stack in double: forward to one unit's pre-activation, and its gradient with respect to the input. */
    private static final class Net {
        private final double[][][] w;
        private final double[][] b;
        private final Activation[] f;
        private final double[][] z;
        private final double[][] a;

        Net(List<Dense> layers, List<Activation> activations) {
            if (layers.isEmpty() || layers.size() != activations.size()) {
                throw new IllegalArgumentException("need one activation per dense layer, got " + layers.size() + " layers and "
                        + activations.size() + " activations");
            }
            int n = layers.size();
            w = new double[n][][];
            b = new double[n][];
            f = activations.toArray(new Activation[0]);
            z = new double[n][];
            a = new double[n][];
            for (int l = 0; l < n; l++) {
                Dense d = layers.get(l);
                if (l > 0 && d.in() != layers.get(l - 1).out()) {
                    throw new IllegalArgumentException("layer " + d.name() + " reads " + d.in() + " values but "
                            + layers.get(l - 1).name() + " gives " + layers.get(l - 1).out());
                }
                Tensor wt = d.weight().value();
                w[l] = new double[d.out()][d.in()];
                for (int o = 0; o < d.out(); o++) {
                    for (int i = 0; i < d.in(); i++) {
                        w[l][o][i] = wt.get(o, i);
                    }
                }
                b[l] = new double[d.out()];
                if (d.bias() != null) {
                    for (int o = 0; o < d.out(); o++) {
                        b[l][o] = d.bias().value().get(o);
                    }
                }
                z[l] = new double[d.out()];
                a[l] = new double[d.out()];
            }
        }

        int inputs() {
            return w[0][0].length;
        }

        int outputs() {
            return w[w.length - 1].length;
        }

        /** z_L[unit]; the layers below are computed in full and kept for {@link #gradient}. */
        double forward(double[] input, int unit) {
            if (input.length != inputs()) {
                throw new IllegalArgumentException("input has " + input.length + " values, the stack reads " + inputs());
            }
            double[] in = input;
            int last = w.length - 1;
            for (int l = 0; l <= last; l++) {
                for (int o = 0; o < w[l].length; o++) {
                    if (l == last && o != unit) {
                        continue;
                    }
                    z[l][o] = b[l][o] + dot(w[l][o], in);
                    a[l][o] = apply(f[l], z[l][o]);
                }
                in = a[l];
            }
            return z[last][unit];
        }

        /** d z_L[unit] / dx for the input of the last forward. */
        double[] gradient(int unit) {
            int last = w.length - 1;
            double[] delta = w[last][unit].clone(); // dz_L[unit] / da_{L-1}
            for (int l = last - 1; l >= 0; l--) {
                double[] dIn = new double[w[l][0].length];
                for (int o = 0; o < w[l].length; o++) {
                    double dz = delta[o] * derivative(f[l], z[l][o], a[l][o]);
                    if (dz != 0) {
                        double[] row = w[l][o];
                        for (int i = 0; i < row.length; i++) {
                            dIn[i] += dz * row[i];
                        }
                    }
                }
                delta = dIn;
            }
            return delta;
        }

        private static double apply(Activation f, double z) {
            return switch (f.kind()) {
                case SIGMOID -> 1 / (1 + Math.exp(-z));
                case TANH -> Math.tanh(z);
                case RELU -> Math.max(0, z);
                case LEAKY_RELU -> z > 0 ? z : f.slope() * z;
                case SOFTPLUS -> Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
                case IDENTITY -> z;
            };
        }

        private static double derivative(Activation f, double z, double a) {
            return switch (f.kind()) {
                case SIGMOID -> a * (1 - a);
                case TANH -> 1 - a * a;
                case RELU -> z > 0 ? 1 : 0;
                case LEAKY_RELU -> z > 0 ? 1 : f.slope();
                case SOFTPLUS -> 1 / (1 + Math.exp(-z));
                case IDENTITY -> 1;
            };
        }
    }
}
