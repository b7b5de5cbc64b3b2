package dev.latent.model.rbm;

import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.kernel.Transpose;
import dev.latent.nn.Dense;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deep belief pretraining (Hinton &amp; Salakhutdinov 2006, "Reducing the dimensionality of data with
 * neural networks"): a stack of RBMs trained greedily, each on the hidden probabilities of the one
 * below, then unrolled into an encoder (W_i, hidden bias c_i) and a decoder (W_i^T, visible bias b_i)
 * for fine-tuning by backprop.
 *
 * <p>Every layer has Bernoulli visible units (pixels in [0,1] or logistic probabilities); its hidden
 * units are Bernoulli, or, for the top layer of the paper's autoencoder, linear with unit-variance
 * Gaussian noise (h | v ~ N(c + W v, 1)). Training is CD-1 as in the paper's code ({@code rbm.m},
 * {@code rbmhidlinear.m}): h_0 sampled from p(h|v_0) (or the Gaussian), the reconstruction v_1 the
 * visible probabilities sigm(h_0 W + b) (not sampled), the statistics taken with the hidden means
 * of v_0 and v_1: dW = (E[h|v_0]^T v_0 - E[h|v_1]^T v_1) / n; velocity = momentum velocity +
 * eta (dW - decay W), with the momentum switched from an initial to a final value after a few epochs
 * (no decay on the biases). W ~ N(0, 0.1^2), biases 0.
 *
 * <p>This is its own CD loop rather than {@link Rbm}'s because the top layer's hidden units are
 * linear, which {@link Rbm} (binary hidden units, sampled reconstructions, one momentum) has no
 * place for; {@link Rbm} remains the model kind with persistent CD, Gaussian visible units and AIS.
 * Seeded: the same seed and kernels give the same bits.
 */
public final class DeepBelief implements AutoCloseable {

    /**
     * Training settings; {@link #hinton()} are the paper's code's (50 epochs a layer, batches of 100,
     * eta 0.1, 0.001 for the linear layer, weight decay 2e-4, momentum 0.5 then 0.9 after epoch 5).
     */
    public record Settings(int epochs, int batch, double eta, double linearEta, double weightDecay, double initialMomentum,
                           double finalMomentum, int momentumEpochs, long seed) {
        public Settings {
            if (epochs < 0 || batch < 1 || !(eta >= 0) || !(linearEta >= 0) || !(weightDecay >= 0)) {
                throw new IllegalArgumentException("bad deep-belief settings: epochs " + epochs + ", batch " + batch + ", eta " + eta
                        + ", linear eta " + linearEta + ", weight decay " + weightDecay);
            }
        }

        public static Settings hinton() {
            return new Settings(50, 100, 0.1, 0.001, 2e-4, 0.5, 0.9, 5, 1);
        }

        public Settings withEpochs(int e) {
            return new Settings(e, batch, eta, linearEta, weightDecay, initialMomentum, finalMomentum, momentumEpochs, seed);
        }

        public Settings withSeed(long s) {
            return new Settings(epochs, batch, eta, linearEta, weightDecay, initialMomentum, finalMomentum, momentumEpochs, s);
        }
    }

    /** One trained RBM of the stack: W (hidden, visible), b (visible), c (hidden). */
    public record Layer(int visible, int hidden, boolean linearHidden, Tensor weight, Tensor visibleBias, Tensor hiddenBias) {
    }

    /** Called after every epoch of every layer (1-based) with the mean squared reconstruction error per row. */
    @FunctionalInterface
    public interface Listener {
        void epoch(int layer, int epoch, int epochs, double reconstructionError);

        /** Layer {@code layer} (1-based) is about to train for {@code epochs} epochs. */
        default void layerStart(int layer, int visible, int hidden, boolean linear, int epochs) {
        }

        Listener NONE = (layer, epoch, epochs, error) -> {
        };
    }

    private final Workspace ws = new Workspace("deep-belief");
    private final List<Layer> layers = new ArrayList<>();
    private final List<double[]> errors = new ArrayList<>();

    private DeepBelief() {
    }

    /**
     * Trains the stack {@code x.rowSize()}-hidden[0]-...-hidden[L-1] on the rows of x (values in [0,1]),
     * the top layer with linear hidden units when {@code linearTop}.
     */
    public static DeepBelief pretrain(Tensor x, int[] hidden, boolean linearTop, Settings s, Kernels k, Listener listener) {
        if (x.rank() < 2 || x.dim(0) == 0 || hidden.length == 0) {
            throw new IllegalArgumentException("deep belief: rows and at least one hidden layer expected, got "
                    + Tensor.format(x.shape()) + " and " + hidden.length + " layers");
        }
        DeepBelief dbn = new DeepBelief();
        try (Workspace codes = new Workspace("deep-belief-codes")) {
            Tensor in = x.reshape(x.dim(0), x.rowSize());
            for (int i = 0; i < hidden.length; i++) {
                boolean linear = linearTop && i == hidden.length - 1;
                int v = in.rowSize();
                int h = hidden[i];
                Layer layer = new Layer(v, h, linear, dbn.ws.allocate(h, v), dbn.ws.allocate(v), dbn.ws.allocate(h));
                SplittableRandom r = new SplittableRandom(s.seed() * 0x9E3779B97F4A7C15L + i);
                for (long j = 0; j < layer.weight().size(); j++) {
                    layer.weight().set(j, (float) (0.1 * r.nextGaussian()));
                }
                int index = i + 1;
                listener.layerStart(index, v, h, linear, s.epochs());
                dbn.errors.add(train(layer, in, s, k, r, (e, n, err) -> listener.epoch(index, e, n, err)));
                dbn.layers.add(layer);
                if (i < hidden.length - 1) {
                    Tensor next = codes.allocate(in.dim(0), h);
                    hiddenMeans(layer, in, next, k);
                    in = next;
                }
            }
        } catch (RuntimeException e) {
            dbn.close();
            throw e;
        }
        return dbn;
    }

    private interface EpochCallback {
        void epoch(int epoch, int epochs, double error);
    }

    /** CD-1 epochs on the rows of data; returns the reconstruction error of every epoch. */
    private static double[] train(Layer l, Tensor data, Settings s, Kernels k, SplittableRandom r, EpochCallback cb) {
        int n = data.dim(0);
        int v = l.visible();
        int h = l.hidden();
        int rows = Math.min(s.batch(), n);
        double eta = l.linearHidden() ? s.linearEta() : s.eta();
        double[] errs = new double[s.epochs()];
        var gemm = k.gemm();
        var el = k.elementwise();
        var red = k.reductions();
        try (Workspace t = new Workspace("deep-belief-layer")) {
            Tensor v0 = t.allocate(rows, v);
            Tensor h0 = t.allocate(rows, h);
            Tensor hs = t.allocate(rows, h);
            Tensor v1 = t.allocate(rows, v);
            Tensor h1 = t.allocate(rows, h);
            Tensor dW = t.allocate(h, v);
            Tensor db = t.allocate(v);
            Tensor dc = t.allocate(h);
            Tensor velW = t.allocate(h, v);
            Tensor velB = t.allocate(v);
            Tensor velC = t.allocate(h);
            Tensor sumV = t.allocate(v);
            Tensor sumH = t.allocate(h);
            int[] order = java.util.stream.IntStream.range(0, n).toArray();
            for (int epoch = 1; epoch <= s.epochs(); epoch++) {
                float mom = (float) (epoch > s.momentumEpochs() ? s.finalMomentum() : s.initialMomentum());
                for (int i = n - 1; i > 0; i--) {
                    int j = r.nextInt(i + 1);
                    int tmp = order[i];
                    order[i] = order[j];
                    order[j] = tmp;
                }
                double err = 0;
                for (int start = 0; start < n; start += rows) {
                    int m = Math.min(rows, n - start);
                    for (int i = 0; i < m; i++) {
                        v0.row(i).copyFrom(data.row(order[start + i]));
                    }
                    MemorySegment sv0 = v0.segment();
                    hiddenMeans(l, sv0, v0.offset(), h0.segment(), h0.offset(), m, k);
                    hs.rows(0, m).copyFrom(h0.rows(0, m));
                    sample(hs.segment(), hs.offset(), (long) m * h, l.linearHidden(), r);
                    // v1 = sigm(hs W + b)
                    gemm.gemm(Transpose.N, Transpose.N, m, v, h, 1f, hs.segment(), hs.offset(), h, l.weight().segment(),
                            l.weight().offset(), v, 0f, v1.segment(), v1.offset(), v);
                    el.addBias(m, v, l.visibleBias().segment(), l.visibleBias().offset(), v1.segment(), v1.offset(), v);
                    k.activations().forward(Activation.SIGMOID, m * v, v1.segment(), v1.offset(), v1.segment(), v1.offset());
                    hiddenMeans(l, v1.segment(), v1.offset(), h1.segment(), h1.offset(), m, k);
                    float inv = 1f / m;
                    gemm.gemm(Transpose.T, Transpose.N, h, v, m, inv, h0.segment(), h0.offset(), h, sv0, v0.offset(), v, 0f,
                            dW.segment(), dW.offset(), v);
                    gemm.gemm(Transpose.T, Transpose.N, h, v, m, -inv, h1.segment(), h1.offset(), h, v1.segment(), v1.offset(), v, 1f,
                            dW.segment(), dW.offset(), v);
                    red.colSums(m, v, sv0, v0.offset(), v, 0f, db.segment(), db.offset());
                    red.colSums(m, h, h0.segment(), h0.offset(), h, 0f, dc.segment(), dc.offset());
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < v; j++) {
                            double d = v0.get(i, j) - v1.get(i, j);
                            err += d * d;
                        }
                    }
                    // db = (colsum v0 - colsum v1) / m; dc likewise
                    el.scale(v, inv, db.segment(), db.offset());
                    el.scale(h, inv, dc.segment(), dc.offset());
                    subtractColumnMeans(red, v1, m, v, db, sumV);
                    subtractColumnMeans(red, h1, m, h, dc, sumH);
                    step(el, h * v, mom, (float) eta, (float) s.weightDecay(), dW, velW, l.weight());
                    step(el, v, mom, (float) eta, 0f, db, velB, l.visibleBias());
                    step(el, h, mom, (float) eta, 0f, dc, velC, l.hiddenBias());
                }
                errs[epoch - 1] = err / n;
                cb.epoch(epoch, s.epochs(), err / n);
            }
        }
        return errs;
    }

    /** into -= column means of the first m rows of x, using sums as scratch. */
    private static void subtractColumnMeans(dev.latent.kernel.Reductions red, Tensor x, int m, int cols, Tensor into, Tensor sums) {
        red.colSums(m, cols, x.segment(), x.offset(), cols, 0f, sums.segment(), sums.offset());
        for (int j = 0; j < cols; j++) {
            into.set(j, into.get(j) - sums.get(j) / m);
        }
    }

    /** vel = mom vel + eta (g - decay p); p += vel. */
    private static void step(dev.latent.kernel.Elementwise el, int len, float mom, float eta, float decay, Tensor g, Tensor vel,
                             Tensor p) {
        el.scale(len, mom, vel.segment(), vel.offset());
        el.axpy(len, eta, g.segment(), g.offset(), vel.segment(), vel.offset());
        if (decay > 0) {
            el.axpy(len, -eta * decay, p.segment(), p.offset(), vel.segment(), vel.offset());
        }
        el.axpy(len, 1f, vel.segment(), vel.offset(), p.segment(), p.offset());
    }

    /** Bernoulli samples of probabilities, or means plus N(0,1) noise for linear units, in place. */
    private static void sample(MemorySegment s, long off, long count, boolean linear, SplittableRandom r) {
        for (long i = 0; i < count; i++) {
            float p = s.getAtIndex(ValueLayout.JAVA_FLOAT, off + i);
            s.setAtIndex(ValueLayout.JAVA_FLOAT, off + i, linear ? p + (float) r.nextGaussian() : r.nextDouble() < p ? 1f : 0f);
        }
    }

    /** E[h|v] of the rows of x (n, V) into out (n, H): sigm(x W^T + c), or x W^T + c for linear units. */
    public static void hiddenMeans(Layer l, Tensor x, Tensor out, Kernels k) {
        int chunk = 512;
        int n = x.dim(0);
        for (int from = 0; from < n; from += chunk) {
            int m = Math.min(chunk, n - from);
            Tensor xs = x.rows(from, from + m);
            Tensor os = out.rows(from, from + m);
            hiddenMeans(l, xs.segment(), xs.offset(), os.segment(), os.offset(), m, k);
        }
    }

    private static void hiddenMeans(Layer l, MemorySegment x, long xOff, MemorySegment out, long outOff, int n, Kernels k) {
        int v = l.visible();
        int h = l.hidden();
        k.gemm().gemm(Transpose.N, Transpose.T, n, h, v, 1f, x, xOff, v, l.weight().segment(), l.weight().offset(), v, 0f, out,
                outOff, h);
        k.elementwise().addBias(n, h, l.hiddenBias().segment(), l.hiddenBias().offset(), out, outOff, h);
        if (!l.linearHidden()) {
            k.activations().forward(Activation.SIGMOID, n * h, out, outOff, out, outOff);
        }
    }

    /** The trained layers, bottom first (the stack's own tensors). */
    public List<Layer> layers() {
        return List.copyOf(layers);
    }

    /** Reconstruction error per row of every epoch of layer i (0-based). */
    public double[] reconstructionErrors(int i) {
        return errors.get(i).clone();
    }

    /**
     * Unrolls the stack into Dense layers: {@code encoders.get(i)} gets (W_i, c_i), and
     * {@code decoders.get(i)}, the decoder layer that maps layer i's hidden units back to its visible
     * ones, gets (W_i^T, b_i).
     */
    public void unroll(List<Dense> encoders, List<Dense> decoders) {
        if (encoders.size() != layers.size() || decoders.size() != layers.size()) {
            throw new IllegalArgumentException("unroll: " + layers.size() + " encoder and decoder layers expected, got "
                    + encoders.size() + " and " + decoders.size());
        }
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            Tensor ew = encoders.get(i).weight().value().requireShape("encoder " + i + " weight", l.hidden(), l.visible());
            Tensor dw = decoders.get(i).weight().value().requireShape("decoder " + i + " weight", l.visible(), l.hidden());
            ew.copyFrom(l.weight());
            encoders.get(i).bias().value().copyFrom(l.hiddenBias());
            for (int a = 0; a < l.hidden(); a++) {
                for (int b = 0; b < l.visible(); b++) {
                    dw.set(b, a, l.weight().get(a, b));
                }
            }
            decoders.get(i).bias().value().copyFrom(l.visibleBias());
        }
    }

    @Override
    public void close() {
        ws.close();
    }
}
