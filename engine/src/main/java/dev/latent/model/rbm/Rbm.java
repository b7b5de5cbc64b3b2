package dev.latent.model.rbm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.io.BadInputException;
import dev.latent.io.ModelFile;
import dev.latent.io.SafeTensors;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.kernel.Transpose;
import dev.latent.model.FeatureExtractor;
import dev.latent.model.FeatureGraph;
import dev.latent.model.Hyperparameters;
import dev.latent.model.Hyperparameters.Param;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A restricted Boltzmann machine: V visible units v, H binary hidden units h, weights W (H, V),
 * visible bias b (V), hidden bias c (H), trained by contrastive divergence (Hinton 2002) or persistent
 * CD (Tieleman 2008), with momentum and L2 weight decay on W.
 *
 * <ul>
 *   <li>{@link Units#BERNOULLI} visible units (v in {0,1}, or grey values in [0,1] read as
 *       probabilities): E(v, h) = -b.v - c.h - h.W v; p(h_j=1|v) = sigm(c_j + W_j v);
 *       p(v_i=1|h) = sigm(b_i + (W^T h)_i); free energy F(v) = -b.v - sum_j softplus(c_j + W_j v).
 *   <li>{@link Units#GAUSSIAN} visible units of fixed standard deviation sigma:
 *       E(v, h) = sum_i (v_i - b_i)^2 / (2 sigma^2) - c.h - h.W (v / sigma);
 *       p(h_j=1|v) = sigm(c_j + W_j v / sigma); v | h ~ N(b + sigma W^T h, sigma^2);
 *       F(v) = sum_i (v_i - b_i)^2 / (2 sigma^2) - sum_j softplus(c_j + W_j v / sigma).
 * </ul>
 * p(v) = exp(-F(v)) / Z. The gradient of the mean log-likelihood of data rows is
 * E_data[-dF/dtheta] - E_model[-dF/dtheta], with -dF/dW = p(h|v) (v/sigma)^T, -dF/dc = p(h|v),
 * -dF/db = (v - b)/sigma^2 (sigma = 1 for Bernoulli units, where -dF/db = v). CD-k replaces the model
 * expectation by the end v_k of a k-step Gibbs chain started at the data (h_0 sampled from p(h|v_0),
 * then v_s ~ p(v|h_{s-1}), h_s ~ p(h|v_s)); PCD-k continues one set of chains (as many as the batch)
 * from update to update instead. {@link #gradient} is the exact statistics given the two sets of
 * visible rows; {@link #cdGradient} draws the chain.
 *
 * <p>The features ({@link FeatureExtractor}) are the hidden probabilities p(h=1|v). The parameters are
 * float32 throughout, so a saved and loaded model is the same model, bit for bit. The log-likelihood of
 * a small model (up to {@link #MAX_ENUMERATED_HIDDEN} hidden units) is exact: {@link #logPartition}
 * sums out the visible units analytically for each of the 2^H hidden states, in double.
 */
public final class Rbm implements FeatureExtractor {

    /** The visible units' kind. */
    public enum Units {
        BERNOULLI, GAUSSIAN;

        public static Units parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "bernoulli", "binary" -> BERNOULLI;
                case "gaussian" -> GAUSSIAN;
                default -> throw new IllegalArgumentException("visible units must be bernoulli or gaussian, got '" + s + "'");
            };
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final String KIND = "rbm";
    /** The largest hidden layer {@link #logPartition} enumerates (2^24 states). */
    public static final int MAX_ENUMERATED_HIDDEN = 24;

    public static final Param<Units> VISIBLE = Param.parsed("visible", "units", "bernoulli|gaussian", Units.BERNOULLI, Units::parse,
            "the visible units (gaussian: of standard deviation sigma)");
    public static final Param<Integer> HIDDEN = Param.integer("hidden", 200, 1, 1 << 16, "hidden units");
    public static final Param<Double> SIGMA = Param.real("sigma", 0.3, Double.MIN_VALUE, 1e6, "gaussian: the visible units' standard deviation");
    public static final Param<Integer> K = Param.integer("k", 1, 1, 10_000, "Gibbs steps per update (CD-k, PCD-k)");
    public static final Param<Boolean> PERSISTENT = Param.bool("persistent", false, "persistent CD: the negative chains carry over between updates");
    public static final Param<Double> ETA = Param.real("eta", 0.05, 0, 1e3, "learning rate");
    public static final Param<Double> MOMENTUM = Param.real("momentum", 0.5, 0, 0.999, "momentum of the parameter updates");
    public static final Param<Double> WEIGHT_DECAY = Param.real("weight_decay", 2e-4, 0, 1e3, "L2 weight decay on W (not the biases)");
    public static final Param<Double> INIT_STD = Param.real("init_std", 0.01, 0, 1e3, "initial weights ~ N(0, init_std^2)");
    /** Every key a user chooses; the model file's config stores them all. */
    public static final Hyperparameters HYPERPARAMETERS = Hyperparameters.of(VISIBLE, HIDDEN, SIGMA, K, PERSISTENT, ETA, MOMENTUM,
            WEIGHT_DECAY, INIT_STD);

    /** The values of {@link #HYPERPARAMETERS}. */
    public record Config(Units visible, int hidden, double sigma, int k, boolean persistent, double eta, double momentum,
                         double weightDecay, double initStd) {
        public Config {
            if (hidden < 1 || k < 1 || !(sigma > 0)) {
                throw new IllegalArgumentException("bad rbm config: hidden " + hidden + ", k " + k + ", sigma " + sigma);
            }
        }

        public static Config of(Hyperparameters.Values v) {
            return new Config(v.get(VISIBLE), v.get(HIDDEN), v.get(SIGMA), v.get(K), v.get(PERSISTENT), v.get(ETA), v.get(MOMENTUM),
                    v.get(WEIGHT_DECAY), v.get(INIT_STD));
        }

        /** The defaults, with {@code hidden} units of the given kind. */
        public static Config defaults(Units visible, int hidden) {
            return new Config(visible, hidden, SIGMA.fallback(), K.fallback(), PERSISTENT.fallback(), ETA.fallback(),
                    MOMENTUM.fallback(), WEIGHT_DECAY.fallback(), INIT_STD.fallback());
        }

        public Config withK(int newK, boolean newPersistent) {
            return new Config(visible, hidden, sigma, newK, newPersistent, eta, momentum, weightDecay, initStd);
        }

        public Config withTraining(double newEta, double newMomentum, double newWeightDecay) {
            return new Config(visible, hidden, sigma, k, persistent, newEta, newMomentum, newWeightDecay, initStd);
        }

        void writeTo(ObjectNode o) {
            Hyperparameters.writeTo(o).put(VISIBLE, visible).put(HIDDEN, hidden).put(SIGMA, sigma).put(K, k).put(PERSISTENT, persistent)
                    .put(ETA, eta).put(MOMENTUM, momentum).put(WEIGHT_DECAY, weightDecay).put(INIT_STD, initStd);
        }
    }

    /** A gradient (or update) of every parameter: dW (H, V), db (V), dc (H). */
    public record Gradient(Tensor weight, Tensor visibleBias, Tensor hiddenBias) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Rows per chunk when computing features, free energies and reconstructions of many rows. */
    private static final int CHUNK = 256;

    private final Config config;
    private final int[] inputShape;
    private final int v;
    private final int h;
    private final float invSigma;
    private final Kernels kernels;
    private final Workspace ws;
    private final Tensor w;
    private final Tensor b;
    private final Tensor c;
    private long updates;

    // training and evaluation scratch, allocated on first use for the largest batch seen; the
    // velocity and PCD's chains live in ws (they are state, not scratch)
    private Workspace scratch;
    private int scratchRows;
    private Tensor ph0;
    private Tensor hs;
    private Tensor vk;
    private Tensor phk;
    private Tensor colV;
    private Tensor colH;
    private Tensor chains;
    private Gradient step;
    private Gradient velocity;

    /**
     * An untrained RBM on inputs of {@code inputShape}: W ~ N(0, initStd^2) (seeded), biases 0,
     * computing with {@code kernels}.
     */
    public Rbm(Config config, int[] inputShape, long seed, Kernels kernels) {
        this.config = config;
        this.inputShape = inputShape.clone();
        this.v = java.util.Arrays.stream(inputShape).reduce(1, Math::multiplyExact);
        this.h = config.hidden();
        this.invSigma = config.visible() == Units.GAUSSIAN ? (float) (1 / config.sigma()) : 1f;
        this.kernels = kernels;
        this.ws = new Workspace("rbm");
        this.w = ws.allocate(h, v);
        this.b = ws.allocate(v);
        this.c = ws.allocate(h);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < w.size(); i++) {
            w.set(i, (float) (config.initStd() * r.nextGaussian()));
        }
    }

    public Config config() {
        return config;
    }

    /** Parameter updates applied so far. */
    public long updates() {
        return updates;
    }

    /** W (H, V), b (V), c (H): the model's own tensors (writes change the model). */
    public Tensor weight() {
        return w;
    }

    public Tensor visibleBias() {
        return b;
    }

    public Tensor hiddenBias() {
        return c;
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public int[] inputShape() {
        return inputShape.clone();
    }

    @Override
    public int featureSize() {
        return h;
    }

    /** p(h=1|v) of the rows of x (n, V) into out (n, H). */
    @Override
    public void features(Tensor x, Tensor out) {
        requireShapes(x, out);
        hiddenProbabilities(x.segment(), x.offset(), out.segment(), out.offset(), x.dim(0));
    }

    /** p(h=1|v) = sigm((x / sigma) W^T + c): the input scaled by 1/sigma (1 for Bernoulli units), then weight and bias. */
    @Override
    public FeatureGraph featureGraph() {
        List<FeatureGraph.Step> steps = new ArrayList<>();
        if (invSigma != 1f) {
            steps.add(new FeatureGraph.Affine(invSigma, 0f));
        }
        steps.add(new FeatureGraph.Dense("rbm", w, c, Activation.SIGMOID));
        return new FeatureGraph(inputShape, steps);
    }

    /** out = sigm(x W^T / sigma + c) for n rows; out must not overlap x. */
    private void hiddenProbabilities(MemorySegment x, long xOff, MemorySegment out, long outOff, int n) {
        preActivation(x, xOff, out, outOff, n);
        kernels.activations().forward(Activation.SIGMOID, n * h, out, outOff, out, outOff);
    }

    /** out = x W^T / sigma + c for n rows. */
    private void preActivation(MemorySegment x, long xOff, MemorySegment out, long outOff, int n) {
        if (n == 0) {
            return;
        }
        kernels.gemm().gemm(Transpose.N, Transpose.T, n, h, v, invSigma, x, xOff, v, w.segment(), w.offset(), v, 0f, out, outOff, h);
        kernels.elementwise().addBias(n, h, c.segment(), c.offset(), out, outOff, h);
    }

    /** E[v|h] of n rows of h (n, H) into out (n, V): sigm(h W + b), or b + sigma h W for Gaussian units. */
    private void visibleMean(MemorySegment hid, long hOff, MemorySegment out, long outOff, int n) {
        float alpha = config.visible() == Units.GAUSSIAN ? (float) config.sigma() : 1f;
        kernels.gemm().gemm(Transpose.N, Transpose.N, n, v, h, alpha, hid, hOff, h, w.segment(), w.offset(), v, 0f, out, outOff, v);
        kernels.elementwise().addBias(n, v, b.segment(), b.offset(), out, outOff, v);
        if (config.visible() == Units.BERNOULLI) {
            kernels.activations().forward(Activation.SIGMOID, n * v, out, outOff, out, outOff);
        }
    }

    /** Replaces probabilities p by Bernoulli samples (1 with probability p) in place. */
    private static void sampleBernoulli(MemorySegment s, long off, long count, SplittableRandom r) {
        for (long i = 0; i < count; i++) {
            float p = s.getAtIndex(ValueLayout.JAVA_FLOAT, off + i);
            s.setAtIndex(ValueLayout.JAVA_FLOAT, off + i, r.nextDouble() < p ? 1f : 0f);
        }
    }

    /** Samples the visible units given their means (in place). */
    private void sampleVisible(MemorySegment s, long off, long count, SplittableRandom r) {
        if (config.visible() == Units.BERNOULLI) {
            sampleBernoulli(s, off, count, r);
        } else {
            float sigma = (float) config.sigma();
            for (long i = 0; i < count; i++) {
                float m = s.getAtIndex(ValueLayout.JAVA_FLOAT, off + i);
                s.setAtIndex(ValueLayout.JAVA_FLOAT, off + i, m + sigma * (float) r.nextGaussian());
            }
        }
    }

    /** A gradient-shaped set of zero tensors in {@code ws}. */
    public Gradient newGradient(Workspace where) {
        return new Gradient(where.allocate(h, v), where.allocate(v), where.allocate(h));
    }

    private void ensureScratch(int rows) {
        if (scratch != null && scratchRows >= rows) {
            return;
        }
        if (scratch != null) {
            scratch.close();
        }
        scratch = new Workspace("rbm-scratch");
        scratchRows = Math.max(rows, CHUNK);
        ph0 = scratch.allocate(scratchRows, h);
        hs = scratch.allocate(scratchRows, h);
        vk = scratch.allocate(scratchRows, v);
        phk = scratch.allocate(scratchRows, h);
        colV = scratch.allocate(v);
        colH = scratch.allocate(h);
        step = newGradient(scratch);
    }

    /**
     * The exact CD statistics of two sets of visible rows: {@code g} = mean over the rows of
     * {@code positive} of -dF/dtheta minus the same mean over {@code negative} (see the class comment).
     * With the data as positive rows and samples of the model as negative ones, its expectation is the
     * gradient of the mean log-likelihood.
     */
    public void gradient(Tensor positive, Tensor negative, Gradient g) {
        int n = positive.dim(0);
        int m = negative.dim(0);
        if (positive.rowSize() != v || negative.rowSize() != v || n == 0 || m == 0) {
            throw new IllegalArgumentException("rbm gradient: rows of " + v + " expected, got " + Tensor.format(positive.shape())
                    + " and " + Tensor.format(negative.shape()));
        }
        ensureScratch(Math.max(n, m));
        hiddenProbabilities(positive.segment(), positive.offset(), ph0.segment(), ph0.offset(), n);
        hiddenProbabilities(negative.segment(), negative.offset(), phk.segment(), phk.offset(), m);
        statistics(positive.segment(), positive.offset(), ph0.segment(), ph0.offset(), n,
                negative.segment(), negative.offset(), phk.segment(), phk.offset(), m, g);
    }

    /** g = <-dF/dtheta>_positive - <-dF/dtheta>_negative, given each set's rows and hidden probabilities. */
    private void statistics(MemorySegment pv, long pvOff, MemorySegment pph, long pphOff, int n,
                            MemorySegment nv, long nvOff, MemorySegment nph, long nphOff, int m, Gradient g) {
        var gemm = kernels.gemm();
        Tensor gw = g.weight();
        gemm.gemm(Transpose.T, Transpose.N, h, v, n, invSigma / n, pph, pphOff, h, pv, pvOff, v, 0f, gw.segment(), gw.offset(), v);
        gemm.gemm(Transpose.T, Transpose.N, h, v, m, -invSigma / m, nph, nphOff, h, nv, nvOff, v, 1f, gw.segment(), gw.offset(), v);
        var red = kernels.reductions();
        float s2 = invSigma * invSigma;
        red.colSums(n, v, pv, pvOff, v, 0f, colV.segment(), colV.offset());
        Tensor gb = g.visibleBias();
        for (int i = 0; i < v; i++) {
            gb.set(i, colV.get(i) / n);
        }
        red.colSums(m, v, nv, nvOff, v, 0f, colV.segment(), colV.offset());
        for (int i = 0; i < v; i++) {
            // for Gaussian units the -b/sigma^2 terms of the two means cancel
            gb.set(i, (gb.get(i) - colV.get(i) / m) * s2);
        }
        red.colSums(n, h, pph, pphOff, h, 0f, colH.segment(), colH.offset());
        Tensor gc = g.hiddenBias();
        for (int j = 0; j < h; j++) {
            gc.set(j, colH.get(j) / n);
        }
        red.colSums(m, h, nph, nphOff, h, 0f, colH.segment(), colH.offset());
        for (int j = 0; j < h; j++) {
            gc.set(j, gc.get(j) - colH.get(j) / m);
        }
    }

    /**
     * One CD-k (or, with {@code config().persistent()}, PCD-k) estimate of the log-likelihood gradient
     * on the rows of {@code data} into g, drawing from r. PCD keeps as many chains as the first batch
     * has rows, started at that batch's rows.
     */
    public void cdGradient(Tensor data, SplittableRandom r, Gradient g) {
        int n = data.dim(0);
        if (data.rowSize() != v || n == 0) {
            throw new IllegalArgumentException("rbm: rows of " + v + " expected, got " + Tensor.format(data.shape()));
        }
        ensureScratch(n);
        MemorySegment x = data.segment();
        long xOff = data.offset();
        hiddenProbabilities(x, xOff, ph0.segment(), ph0.offset(), n);
        int m;
        if (config.persistent()) {
            if (chains == null) {
                chains = ws.allocate(n, v);
                chains.copyFrom(data);
            }
            m = chains.dim(0);
            hiddenProbabilities(chains.segment(), chains.offset(), hs.segment(), hs.offset(), m);
            sampleBernoulli(hs.segment(), hs.offset(), (long) m * h, r);
            gibbs(hs, chains, m, r);
            vk.rows(0, m).copyFrom(chains);
        } else {
            m = n;
            hs.rows(0, n).copyFrom(ph0.rows(0, n));
            sampleBernoulli(hs.segment(), hs.offset(), (long) n * h, r);
            gibbs(hs, vk, n, r);
        }
        statistics(x, xOff, ph0.segment(), ph0.offset(), n, vk.segment(), vk.offset(), phk.segment(), phk.offset(), m, g);
    }

    /** k Gibbs steps from hidden samples hs: writes v_k into out's first m rows and p(h|v_k) into phk. */
    private void gibbs(Tensor hid, Tensor out, int m, SplittableRandom r) {
        for (int s = 1; s <= config.k(); s++) {
            visibleMean(hid.segment(), hid.offset(), out.segment(), out.offset(), m);
            sampleVisible(out.segment(), out.offset(), (long) m * v, r);
            hiddenProbabilities(out.segment(), out.offset(), phk.segment(), phk.offset(), m);
            if (s < config.k()) {
                hid.rows(0, m).copyFrom(phk.rows(0, m));
                sampleBernoulli(hid.segment(), hid.offset(), (long) m * h, r);
            }
        }
    }

    /**
     * One update on a batch: the CD estimate g, then velocity = momentum velocity + eta (g - decay W)
     * (no decay on the biases) and theta += velocity.
     */
    public void update(Tensor batch, SplittableRandom r) {
        ensureScratch(batch.dim(0));
        cdGradient(batch, r, step);
        if (velocity == null) {
            velocity = newGradient(ws);
        }
        float eta = (float) config.eta();
        float mom = (float) config.momentum();
        var e = kernels.elementwise();
        Tensor[] p = {w, b, c};
        Tensor[] g = {step.weight(), step.visibleBias(), step.hiddenBias()};
        Tensor[] vel = {velocity.weight(), velocity.visibleBias(), velocity.hiddenBias()};
        for (int i = 0; i < 3; i++) {
            int len = (int) p[i].size();
            e.scale(len, mom, vel[i].segment(), vel[i].offset());
            e.axpy(len, eta, g[i].segment(), g[i].offset(), vel[i].segment(), vel[i].offset());
            if (i == 0 && config.weightDecay() > 0) {
                e.axpy(len, (float) (-eta * config.weightDecay()), p[i].segment(), p[i].offset(), vel[i].segment(), vel[i].offset());
            }
            e.axpy(len, 1f, vel[i].segment(), vel[i].offset(), p[i].segment(), p[i].offset());
        }
        updates++;
    }

    /** Called after every epoch of {@link #fit} with the 1-based epoch number. */
    @FunctionalInterface
    public interface EpochListener {
        void epoch(int epoch, Rbm model);
    }

    /**
     * Trains on the rows of data (N, V): {@code epochs} passes over seeded shuffles in mini-batches of
     * {@code batch} rows (the last one smaller). Before the first update the visible bias is set from the
     * data as Hinton's guide advises (log(p / (1 - p)) of the clipped pixel means; Gaussian: the means).
     */
    public Rbm fit(Tensor data, int epochs, int batch, long seed, EpochListener listener) {
        int n = data.dim(0);
        if (data.rowSize() != v || batch < 1) {
            throw new IllegalArgumentException("rbm fit: rows of " + v + " and batch >= 1 expected, got " + Tensor.format(data.shape())
                    + ", batch " + batch);
        }
        if (updates == 0) {
            initVisibleBias(data);
        }
        int rows = Math.min(batch, n);
        ensureScratch(rows);
        SplittableRandom r = new SplittableRandom(seed);
        int[] order = java.util.stream.IntStream.range(0, n).toArray();
        try (Workspace bw = new Workspace("rbm-batch")) {
            Tensor buf = bw.allocate(rows, v);
            for (int epoch = 1; epoch <= epochs; epoch++) {
                for (int i = n - 1; i > 0; i--) {
                    int j = r.nextInt(i + 1);
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
                for (int start = 0; start < n; start += rows) {
                    int len = Math.min(rows, n - start);
                    for (int i = 0; i < len; i++) {
                        buf.row(i).copyFrom(data.row(order[start + i]));
                    }
                    update(buf.rows(0, len), r);
                }
                if (listener != null) {
                    listener.epoch(epoch, this);
                }
            }
        }
        return this;
    }

    private void initVisibleBias(Tensor data) {
        double[] mean = new double[v];
        int n = data.dim(0);
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < v; i++) {
                mean[i] += data.get((long) r * v + i);
            }
        }
        for (int i = 0; i < v; i++) {
            double p = mean[i] / Math.max(n, 1);
            if (config.visible() == Units.BERNOULLI) {
                p = Math.min(Math.max(p, 1e-3), 1 - 1e-3);
                b.set(i, (float) Math.log(p / (1 - p)));
            } else {
                b.set(i, (float) p);
            }
        }
    }

    /** The mean free energy F(v) over the rows of x (pre-activations in float, sums in double). */
    public double freeEnergy(Tensor x) {
        requireRows(x);
        int n = x.dim(0);
        ensureScratch(Math.min(n, CHUNK));
        double sum = 0;
        for (int start = 0; start < n; start += CHUNK) {
            int len = Math.min(CHUNK, n - start);
            Tensor rows = x.rows(start, start + len);
            preActivation(rows.segment(), rows.offset(), phk.segment(), phk.offset(), len);
            for (long i = 0; i < (long) len * h; i++) {
                sum -= softplus(phk.get(i));
            }
            for (int r = 0; r < len; r++) {
                for (int i = 0; i < v; i++) {
                    double xv = rows.get((long) r * v + i);
                    double bi = b.get(i);
                    sum += config.visible() == Units.BERNOULLI ? -bi * xv : (xv - bi) * (xv - bi) * 0.5 * invSigma * invSigma;
                }
            }
        }
        return sum / n;
    }

    /**
     * The mean over the rows of x of the squared error sum_i (x_i - xhat_i)^2 of the mean-field
     * reconstruction xhat = E[v | h = p(h|x)] (deterministic: no sampling).
     */
    public double reconstructionError(Tensor x) {
        requireRows(x);
        int n = x.dim(0);
        ensureScratch(Math.min(n, CHUNK));
        double sum = 0;
        for (int start = 0; start < n; start += CHUNK) {
            int len = Math.min(CHUNK, n - start);
            Tensor rows = x.rows(start, start + len);
            hiddenProbabilities(rows.segment(), rows.offset(), phk.segment(), phk.offset(), len);
            visibleMean(phk.segment(), phk.offset(), vk.segment(), vk.offset(), len);
            for (long i = 0; i < (long) len * v; i++) {
                double d = rows.get(i) - vk.get(i);
                sum += d * d;
            }
        }
        return sum / n;
    }

    /**
     * Mean field reconstructions E[v | h = p(h|x)] of the rows of x into a new tensor of {@code where}.
     */
    public Tensor reconstruct(Tensor x, Workspace where) {
        requireRows(x);
        int n = x.dim(0);
        Tensor out = where.allocate(n, v);
        Tensor hid = where.allocate(n, h);
        hiddenProbabilities(x.segment(), x.offset(), hid.segment(), hid.offset(), n);
        visibleMean(hid.segment(), hid.offset(), out.segment(), out.offset(), n);
        return out;
    }

    /**
     * log Z, exactly, by enumerating the 2^H hidden states (H <= {@link #MAX_ENUMERATED_HIDDEN}) and
     * summing out the visible units analytically, in double: for Bernoulli units
     * log sum_v exp(-E(v, h)) = c.h + sum_i softplus(b_i + (W^T h)_i); for Gaussian units
     * c.h + sum_i [ log(sqrt(2 pi) sigma) + ((b_i + sigma a_i)^2 - b_i^2) / (2 sigma^2) ] with a = W^T h.
     * Log-sum-exp over the states. States differing in one hidden unit are visited in Gray-code order so
     * that W^T h is updated by one row per state.
     */
    public double logPartition() {
        if (h > MAX_ENUMERATED_HIDDEN) {
            throw new IllegalStateException("exact log Z enumerates 2^H hidden states: H = " + h + " > " + MAX_ENUMERATED_HIDDEN);
        }
        double[] wd = new double[h * v];
        for (int i = 0; i < wd.length; i++) {
            wd[i] = w.get(i);
        }
        double[] bd = new double[v];
        for (int i = 0; i < v; i++) {
            bd[i] = b.get(i);
        }
        double sigma = config.visible() == Units.GAUSSIAN ? config.sigma() : 1;
        double logNorm = Math.log(Math.sqrt(2 * Math.PI) * sigma);
        double[] a = new double[v];
        double ch = 0;
        long states = 1L << h;
        double max = Double.NEGATIVE_INFINITY;
        double acc = 0; // sum of exp(t - max) over the terms seen
        long gray = 0;
        for (long s = 0; s < states; s++) {
            if (s > 0) {
                int bit = Long.numberOfTrailingZeros(s);
                gray ^= 1L << bit;
                double sign = (gray >>> bit & 1) == 1 ? 1 : -1;
                int at = bit * v;
                for (int i = 0; i < v; i++) {
                    a[i] += sign * wd[at + i];
                }
                ch += sign * c.get(bit);
            }
            double t = ch;
            if (config.visible() == Units.BERNOULLI) {
                for (int i = 0; i < v; i++) {
                    t += softplus(bd[i] + a[i]);
                }
            } else {
                for (int i = 0; i < v; i++) {
                    double m = bd[i] + sigma * a[i];
                    t += logNorm + (m * m - bd[i] * bd[i]) / (2 * sigma * sigma);
                }
            }
            if (t > max) {
                acc = acc * Math.exp(max - t) + 1;
                max = t;
            } else {
                acc += Math.exp(t - max);
            }
        }
        return max + Math.log(acc);
    }

    /**
     * An annealed importance sampling estimate of log Z: {@code logZ} with the delta-method standard
     * error of the log of the mean importance weight, from {@code chains} runs over {@code temperatures}
     * intermediate distributions.
     */
    public record AisEstimate(double logZ, double standardError, int chains, int temperatures) {
    }

    /**
     * log Z by annealed importance sampling (Neal 2001; for RBMs Salakhutdinov & Murray 2008), Bernoulli
     * visible units only. The base model has no weights and no hidden bias, and visible bias b_A = the
     * log-odds of the clipped pixel means of {@code data} (so log Z_A = H log 2 + sum_i softplus(b_A_i),
     * exactly); the intermediate models p_k(v, h) ~ exp((1 - beta_k) b_A.v + beta_k (b.v + c.h + h.W v))
     * for beta_k = k / temperatures. Each chain starts with v ~ p_0 and, for k = 1..K, adds
     * log f_k(v) - log f_{k-1}(v) to its log weight (log f_k(v) = (1 - beta_k) b_A.v + beta_k b.v +
     * sum_j softplus(beta_k (c_j + W_j v))), then moves by one Gibbs sweep that leaves p_k invariant.
     * log Z = log Z_A + log mean exp(log w). The estimate of Z is unbiased; that of log Z is biased low
     * (Jensen), by less when there are more temperatures. Seeded: the same seed and provider give the
     * same bits.
     */
    public AisEstimate aisLogPartition(Tensor data, int chains, int temperatures, long seed) {
        if (config.visible() != Units.BERNOULLI) {
            throw new IllegalStateException("AIS is implemented for Bernoulli visible units");
        }
        if (chains < 2 || temperatures < 1) {
            throw new IllegalArgumentException("AIS needs >= 2 chains and >= 1 temperature, got " + chains + ", " + temperatures);
        }
        requireRows(data);
        double[] bA = new double[v];
        int n = data.dim(0);
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < v; i++) {
                bA[i] += data.get((long) r * v + i);
            }
        }
        double logZA = h * Math.log(2);
        for (int i = 0; i < v; i++) {
            double p = Math.min(Math.max(bA[i] / n, 1e-3), 1 - 1e-3);
            bA[i] = Math.log(p / (1 - p));
            logZA += softplus(bA[i]);
        }
        SplittableRandom r = new SplittableRandom(seed);
        double[] logw = new double[chains];
        try (Workspace aw = new Workspace("rbm-ais")) {
            Tensor x = aw.allocate(chains, v);
            Tensor z = aw.allocate(chains, h);
            Tensor hid = aw.allocate(chains, h);
            for (long i = 0; i < x.size(); i++) {
                double p = 1 / (1 + Math.exp(-bA[(int) (i % v)]));
                x.set(i, r.nextDouble() < p ? 1f : 0f);
            }
            for (int k = 1; k <= temperatures; k++) {
                double prev = (double) (k - 1) / temperatures;
                double beta = (double) k / temperatures;
                preActivation(x.segment(), x.offset(), z.segment(), z.offset(), chains);
                for (int m = 0; m < chains; m++) {
                    double d = 0;
                    for (int i = 0; i < v; i++) {
                        float xi = x.get((long) m * v + i);
                        if (xi != 0) {
                            d += (beta - prev) * (b.get(i) - bA[i]);
                        }
                    }
                    for (int j = 0; j < h; j++) {
                        double zj = z.get((long) m * h + j);
                        d += softplus(beta * zj) - softplus(prev * zj);
                    }
                    logw[m] += d;
                }
                if (k == temperatures) {
                    break;
                }
                // one Gibbs sweep at beta_k: h ~ sigm(beta z), then v ~ sigm((1 - beta) b_A + beta (b + W^T h))
                for (long i = 0; i < hid.size(); i++) {
                    double p = 1 / (1 + Math.exp(-beta * z.get(i)));
                    hid.set(i, r.nextDouble() < p ? 1f : 0f);
                }
                kernels.gemm().gemm(Transpose.N, Transpose.N, chains, v, h, 1f, hid.segment(), hid.offset(), h, w.segment(), w.offset(), v,
                        0f, x.segment(), x.offset(), v);
                for (long i = 0; i < x.size(); i++) {
                    int col = (int) (i % v);
                    double a = (1 - beta) * bA[col] + beta * (b.get(col) + x.get(i));
                    x.set(i, r.nextDouble() < 1 / (1 + Math.exp(-a)) ? 1f : 0f);
                }
            }
        }
        double max = Double.NEGATIVE_INFINITY;
        for (double lw : logw) {
            max = Math.max(max, lw);
        }
        double mean = 0;
        double sq = 0;
        for (double lw : logw) {
            double e = Math.exp(lw - max);
            mean += e / chains;
            sq += e * e / chains;
        }
        double var = Math.max(0, sq - mean * mean) * chains / (chains - 1);
        return new AisEstimate(logZA + max + Math.log(mean), Math.sqrt(var / chains) / mean, chains, temperatures);
    }

    /** The mean log-likelihood (log-density for Gaussian units) of the rows of x: -mean F(x) - log Z, exact. */
    public double logLikelihood(Tensor x) {
        return -freeEnergy(x) - logPartition();
    }

    /** log(1 + e^z), stable for large |z|. */
    static double softplus(double z) {
        return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
    }

    private void requireRows(Tensor x) {
        if (x.rank() < 1 || x.rowSize() != v) {
            throw new IllegalArgumentException("rbm: rows of " + v + " expected, got " + Tensor.format(x.shape()));
        }
    }

    /** Writes a model file without extra config fields: see {@link #save(Path, Map, ObjectNode)}. */
    public void save(Path file, Map<String, String> provenance) throws IOException {
        save(file, provenance, JSON.createObjectNode());
    }

    /**
     * Writes a model file (kind rbm): float32 tensors weight (H, V), visible_bias (V), hidden_bias (H);
     * {@code __metadata__.config} is {@code extraConfig} (the caller's training settings, e.g. epochs)
     * with every key of {@link #HYPERPARAMETERS} and {@code updates} set; {@code input_shape} beside it.
     */
    public void save(Path file, Map<String, String> provenance, ObjectNode extraConfig) throws IOException {
        ObjectNode config = extraConfig.deepCopy();
        this.config.writeTo(config);
        config.put("updates", updates);
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("weight", w);
        t.put("visible_bias", b);
        t.put("hidden_bias", c);
        SafeTensors.write(file, t, ModelFile.metadata(KIND, config.toString(), Map.of("input_shape", ModelFile.shape(inputShape)), provenance));
    }

    /**
     * Loads a model file written by {@link #save}: the parameters are the file's float32 values (copied;
     * the file is not kept open), the config its {@link #HYPERPARAMETERS}. Defects are
     * {@link BadInputException}s naming the file and the field.
     */
    public static Rbm load(Path file, Kernels kernels) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.Loaded l = SafeTensors.read(file, arena);
            ModelFile.requireKind(l, KIND);
            JsonNode json = ModelFile.json(l, "config");
            String where = file + ": __metadata__.config";
            if (!json.isObject()) {
                throw new BadInputException(where + " must be a JSON object");
            }
            Config config;
            try {
                config = Config.of(HYPERPARAMETERS.read(json, file.toString()));
            } catch (IllegalArgumentException e) {
                throw new BadInputException(where + ": " + e.getMessage(), e);
            }
            JsonNode upd = json.get("updates");
            if (upd == null || !upd.isIntegralNumber() || !upd.canConvertToLong() || upd.asLong() < 0) {
                throw new BadInputException(where + ".updates must be an integer >= 0, got " + upd);
            }
            int[] shape = inputShape(l, file);
            int vis = java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact);
            Tensor weight = l.tensor("weight", config.hidden(), vis);
            Tensor vb = l.tensor("visible_bias", vis);
            Tensor hb = l.tensor("hidden_bias", config.hidden());
            ModelFile.requireOnly(l, Set.of("weight", "visible_bias", "hidden_bias"), KIND);
            Rbm m = new Rbm(config, shape, 0, kernels);
            m.w.copyFrom(weight);
            m.b.copyFrom(vb);
            m.c.copyFrom(hb);
            m.updates = upd.asLong();
            return m;
        }
    }

    private static int[] inputShape(SafeTensors.Loaded l, Path file) {
        JsonNode s = ModelFile.json(l, "input_shape");
        if (!s.isArray() || s.isEmpty() || s.size() > 4) {
            throw new BadInputException(file + ": __metadata__.input_shape must be an array of 1 to 4 positive integers, got " + s);
        }
        int[] shape = new int[s.size()];
        long size = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = s.get(i);
            if (!d.isInt() || d.asInt() < 1) {
                throw new BadInputException(file + ": __metadata__.input_shape[" + i + "] must be a positive integer, got " + d);
            }
            shape[i] = d.asInt();
            size *= shape[i];
        }
        if (size > 1 << 24) {
            throw new BadInputException(file + ": __metadata__.input_shape " + s + " has more than 2^24 values");
        }
        return shape;
    }

    @Override
    public void close() {
        if (scratch != null) {
            scratch.close();
            scratch = null;
        }
        ws.close();
    }
}
