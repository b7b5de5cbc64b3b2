package dev.latent.model.gan;

import dev.latent.model.FeatureExtractor;
import dev.latent.model.FeatureGraph;
import dev.latent.model.Hyperparameters;
import dev.latent.nn.GanInputTap;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.io.BadInputException;
import dev.latent.io.ModelFile;
import dev.latent.io.SafeTensors;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.loss.Bce;
import dev.latent.nn.ActivationLayer;
import dev.latent.nn.BatchNorm;
import dev.latent.nn.Conv2d;
import dev.latent.nn.ConvTranspose2d;
import dev.latent.nn.Dense;
import dev.latent.nn.Flatten;
import dev.latent.nn.Layer;
import dev.latent.nn.Param;
import dev.latent.nn.Reshape;
import dev.latent.nn.Sequential;
import dev.latent.optim.Adam;
import dev.latent.optim.LearningRate;
import dev.latent.optim.Optimizer;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A deep convolutional generative adversarial network (Goodfellow et al. 2014; Radford, Metz, Chintala
 * 2015): a generator G maps noise z ~ N(0, I) to images in [-1, 1], a discriminator D maps an image
 * to one logit (real vs generated), trained in turn.
 *
 * <p>Networks for images (C, S, S), S divisible by 4, with Q = S / 4 (the 28x28 default in brackets):
 * <pre>
 * G: z (Z=100) -> Dense(Z -> g1*Q*Q) -> reshape (g1, Q, Q) -> BN -> ReLU
 *      -> ConvT(g1 -> g2, 4, s2, p1) -> BN -> ReLU -> ConvT(g2 -> C, 4, s2, p1) -> tanh    [g1 128, g2 64]
 * D: x (C, S, S) -> Conv(C -> d1, 4, s2, p1) -> LeakyReLU(0.2) -> Conv(d1 -> d2, 4, s2, p1) -> BN
 *      -> LeakyReLU(0.2) -> Flatten -> Dense(d2*Q*Q -> 1)                                    [d1 64, d2 128]
 * </pre>
 * Layers followed by batch norm carry no bias (the norm's shift replaces it). Weights start from
 * N(0, 0.02), batch-norm scales from N(1, 0.02) (DCGAN's initialization).
 *
 * <p>One iteration (seed 003's algorithm, with targets as BCE with logits): k times { draw a real batch
 * x and noise z; D ascends log D(x) + log(1 - D(G(z))), i.e. descends BCE(D(x), 1) + BCE(D(G(z)), 0),
 * each term over its own forward pass (separate batch statistics), with no gradient for the images
 * themselves }; then draw noise z and update G
 * on either the original minimax loss, descending mean log(1 - D(G(z))), or the non-saturating one
 * (default), descending BCE(D(G(z)), 1) = -mean log D(G(z)), which gives strong gradients early when
 * D rejects samples easily. G's gradient is dL/d(D's input) (D's first layer is a {@link GanInputTap}),
 * backpropagated through G. Both use Adam (lr 2e-4, beta1 0.5, beta2 0.999).
 *
 * <p>Sampling runs G with batch statistics (training-mode batch norm), as the reference DCGAN
 * implementations do: G changes too fast for running statistics to follow. Noise and data order come
 * from the seed; with the same seed and kernel provider a run repeats bit for bit.
 */
public final class Gan implements FeatureExtractor {

    /** The generator's objective. */
    public enum GeneratorLoss { NON_SATURATING, MINIMAX;

        public static GeneratorLoss parse(String s) {
            return switch (s.trim().toLowerCase(java.util.Locale.ROOT).replace('-', '_')) {
                case "non_saturating", "ns" -> NON_SATURATING;
                case "minimax", "mm" -> MINIMAX;
                default -> throw new IllegalArgumentException("unknown generator loss '" + s + "'; expected non_saturating or minimax");
            };
        }

        String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * Hyperparameters: noise size z, image channels and side, generator widths g1, g2, discriminator
     * widths d1, d2, D steps per G step k, generator loss, Adam settings, largest batch.
     */
    public record Config(int z, int channels, int size, int g1, int g2, int d1, int d2, int dSteps,
                         GeneratorLoss generatorLoss, double lr, double beta1, double beta2, int maxBatch) {
        public Config {
            if (z < 1 || channels < 1 || size < 4 || size % 4 != 0 || g1 < 1 || g2 < 1 || d1 < 1 || d2 < 1) {
                throw new IllegalArgumentException("gan: need z, channels, widths >= 1 and a size divisible by 4, got z=" + z
                        + " channels=" + channels + " size=" + size + " g=" + g1 + "," + g2 + " d=" + d1 + "," + d2);
            }
            if (dSteps < 1 || maxBatch < 2 || !(lr > 0)) {
                throw new IllegalArgumentException("gan: need k >= 1, maxBatch >= 2 (batch norm) and lr > 0, got k=" + dSteps
                        + " maxBatch=" + maxBatch + " lr=" + lr);
            }
            if (generatorLoss == null) {
                throw new IllegalArgumentException("gan: generator loss missing");
            }
        }

        /**
         * This config with the {@link #HYPERPARAMETERS} of {@code v} (given or defaulted); channels,
         * size and max batch are kept (they come from the data and the batch).
         */
        public Config with(Hyperparameters.Values v) {
            return new Config(v.get(Z), channels, size, v.get(G1), v.get(G2), v.get(D1), v.get(D2), v.get(K),
                    GeneratorLoss.parse(v.get(GENERATOR_LOSS)), v.get(LR), v.get(BETA1), v.get(BETA2), maxBatch);
        }

        /** The 28x28 DCGAN: z 100, G 128/64, D 64/128, k 1, non-saturating, Adam 2e-4 / 0.5, batch 64. */
        public static Config dcgan28() {
            return new Config(100, 1, 28, 128, 64, 64, 128, 1, GeneratorLoss.NON_SATURATING, 2e-4, 0.5, 0.999, 64);
        }

        public Config withWidths(int ng1, int ng2, int nd1, int nd2) {
            return new Config(z, channels, size, ng1, ng2, nd1, nd2, dSteps, generatorLoss, lr, beta1, beta2, maxBatch);
        }

        public Config withZ(int nz) {
            return new Config(nz, channels, size, g1, g2, d1, d2, dSteps, generatorLoss, lr, beta1, beta2, maxBatch);
        }

        public Config withTraining(int k, GeneratorLoss loss, double nlr, double nbeta1) {
            return new Config(z, channels, size, g1, g2, d1, d2, k, loss, nlr, nbeta1, beta2, maxBatch);
        }

        public Config withMaxBatch(int b) {
            return new Config(z, channels, size, g1, g2, d1, d2, dSteps, generatorLoss, lr, beta1, beta2, b);
        }

        public int pixels() {
            return channels * size * size;
        }

        public ObjectNode toJson() {
            ObjectNode o = JSON.createObjectNode();
            o.put("kind", KIND);
            o.put("z", z);
            o.put("channels", channels);
            o.put("size", size);
            o.put("g1", g1);
            o.put("g2", g2);
            o.put("d1", d1);
            o.put("d2", d2);
            o.put("k", dSteps);
            o.put("generator_loss", generatorLoss.id());
            o.put("lr", lr);
            o.put("beta1", beta1);
            o.put("beta2", beta2);
            o.put("max_batch", maxBatch);
            return o;
        }

        public static Config fromJson(JsonNode c, String source) {
            try {
                return new Config(req(c, "z", source).asInt(), req(c, "channels", source).asInt(), req(c, "size", source).asInt(),
                        req(c, "g1", source).asInt(), req(c, "g2", source).asInt(), req(c, "d1", source).asInt(),
                        req(c, "d2", source).asInt(), req(c, "k", source).asInt(),
                        GeneratorLoss.parse(req(c, "generator_loss", source).asText()), req(c, "lr", source).asDouble(),
                        req(c, "beta1", source).asDouble(), req(c, "beta2", source).asDouble(), req(c, "max_batch", source).asInt());
            } catch (BadInputException e) {
                throw e;
            } catch (IllegalArgumentException e) {
                throw new BadInputException(source + ": invalid dcgan config: " + e.getMessage(), e);
            }
        }

        private static JsonNode req(JsonNode c, String field, String source) {
            JsonNode v = c.get(field);
            if (v == null || v.isNull()) {
                throw new BadInputException(source + ": dcgan config field '" + field + "' is missing");
            }
            return v;
        }
    }

    /** Numbers of one discriminator step (means over the batch). */
    public record DStep(double loss, double realProb, double fakeProb, double realAccuracy, double fakeAccuracy) {
    }

    public static final String KIND = "dcgan";

    public static final Hyperparameters.Param<Integer> Z = Hyperparameters.Param.integer("z", 100, 1, 1 << 16, "noise size");
    public static final Hyperparameters.Param<Integer> G1 = Hyperparameters.Param.integer("g1", 128, 1, 1 << 14, "generator width after the dense layer");
    public static final Hyperparameters.Param<Integer> G2 = Hyperparameters.Param.integer("g2", 64, 1, 1 << 14, "generator width after the first transposed conv");
    public static final Hyperparameters.Param<Integer> D1 = Hyperparameters.Param.integer("d1", 64, 1, 1 << 14, "discriminator width after conv 1");
    public static final Hyperparameters.Param<Integer> D2 = Hyperparameters.Param.integer("d2", 128, 1, 1 << 14, "discriminator width after conv 2");
    public static final Hyperparameters.Param<Integer> K = Hyperparameters.Param.integer("k", 1, 1, 1 << 10, "discriminator steps per generator step");
    public static final Hyperparameters.Param<String> GENERATOR_LOSS = Hyperparameters.Param.choice("generator_loss", "non_saturating",
            List.of("non_saturating", "minimax"), "the generator's objective");
    public static final Hyperparameters.Param<Double> LR = Hyperparameters.Param.real("lr", 2e-4, Double.MIN_VALUE, 10, "Adam learning rate of G and D");
    public static final Hyperparameters.Param<Double> BETA1 = Hyperparameters.Param.real("beta1", 0.5, 0, 0.999999, "Adam beta1");
    public static final Hyperparameters.Param<Double> BETA2 = Hyperparameters.Param.real("beta2", 0.999, 0, 0.999999, "Adam beta2");
    /** The config keys a user chooses, with the defaults of {@link Config#dcgan28()}. */
    public static final Hyperparameters HYPERPARAMETERS = Hyperparameters.of(Z, G1, G2, D1, D2, K, GENERATOR_LOSS, LR, BETA1, BETA2);
    /** Index of D's first and second LeakyReLU outputs in {@link #discriminator()} (after the input tap). */
    public static final int D_ACT1 = 2;
    public static final int D_ACT2 = 5;
    /** Index of D's first convolution: D steps backpropagate down to it, not to the image (no dL/dx needed). */
    private static final int D_CONV1 = 1;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Config cfg;
    private final Sequential g;
    private final Sequential d;
    private final GanInputTap tap;
    private final List<BatchNorm> norms = new ArrayList<>();
    private final Workspace ws;
    private final Tensor noise;
    private final Tensor ones;
    private final Tensor zeros;
    private final Adam gOpt;
    private final Adam dOpt;
    private final Bce bce = Bce.withLogits();
    /** Input buffer of {@link #features(Tensor, Tensor)} (max batch images), made on first use. */
    private Tensor featureInput;
    private SplittableRandom rng;

    public Gan(Config cfg, Kernels kernels) {
        this.cfg = cfg;
        int q = cfg.size / 4;
        BatchNorm gn1 = new BatchNorm("g.bn1", cfg.g1);
        BatchNorm gn2 = new BatchNorm("g.bn2", cfg.g2);
        BatchNorm dn2 = new BatchNorm("d.bn2", cfg.d2);
        norms.addAll(List.of(gn1, gn2, dn2));
        List<Layer> gl = List.of(
                new Dense("g.fc", cfg.z, cfg.g1 * q * q, false),
                new Reshape("g.reshape", cfg.g1, q, q),
                gn1,
                new ActivationLayer("g.relu1", Activation.RELU),
                new ConvTranspose2d("g.convt1", cfg.g1, cfg.g2, 4, 2, 1, 0, false),
                gn2,
                new ActivationLayer("g.relu2", Activation.RELU),
                new ConvTranspose2d("g.convt2", cfg.g2, cfg.channels, 4, 2, 1, 0, true),
                new ActivationLayer("g.tanh", Activation.TANH));
        this.tap = new GanInputTap("d.input");
        List<Layer> dl = List.of(
                tap,
                new Conv2d("d.conv1", cfg.channels, cfg.d1, 4, 2, 1, true),
                new ActivationLayer("d.lrelu1", Activation.leakyRelu(0.2f)),
                new Conv2d("d.conv2", cfg.d1, cfg.d2, 4, 2, 1, false),
                dn2,
                new ActivationLayer("d.lrelu2", Activation.leakyRelu(0.2f)),
                new Flatten("d.flatten"),
                new Dense("d.fc", cfg.d2 * q * q, 1, true));
        Kernels k = kernels != null ? kernels : Kernels.current();
        this.g = new Sequential("generator", gl).build(new int[] {cfg.z}, cfg.maxBatch, k);
        Workspace w = null;
        Sequential disc = null;
        try {
            disc = new Sequential("discriminator", dl).build(new int[] {cfg.channels, cfg.size, cfg.size}, cfg.maxBatch, k);
            w = new Workspace("gan");
            this.noise = w.allocate(cfg.maxBatch, cfg.z);
            this.ones = w.allocate(cfg.maxBatch, 1);
            ones.fill(1f);
            this.zeros = w.allocate(cfg.maxBatch, 1);
            this.gOpt = new Adam(g.slab(), LearningRate.constant(cfg.lr), cfg.beta1, cfg.beta2, 1e-8, 0);
            this.dOpt = new Adam(disc.slab(), LearningRate.constant(cfg.lr), cfg.beta1, cfg.beta2, 1e-8, 0);
        } catch (RuntimeException e) {
            g.close();
            if (disc != null) {
                disc.close();
            }
            if (w != null) {
                w.close();
            }
            throw e;
        }
        this.d = disc;
        this.ws = w;
        this.rng = new SplittableRandom(0);
    }

    /**
     * Draws the initial weights from {@code seed} (DCGAN: weights N(0, 0.02), batch-norm scales
     * N(1, 0.02), biases and shifts 0) and seeds the noise generator.
     */
    public Gan init(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (Sequential net : List.of(g, d)) {
            net.init(r.nextLong());
            for (Param p : net.params()) {
                Tensor v = p.value();
                boolean weight = p.name().endsWith(".weight");
                boolean scale = p.name().endsWith(".gamma");
                for (long i = 0; i < v.size(); i++) {
                    v.set(i, weight ? (float) (0.02 * r.nextGaussian()) : scale ? (float) (1 + 0.02 * r.nextGaussian()) : 0f);
                }
            }
        }
        for (BatchNorm n : norms) {
            n.resetRunningStats();
        }
        this.rng = new SplittableRandom(seed ^ 0x5DEECE66DL);
        return this;
    }

    /** Re-seeds the noise generator only (e.g. on resume, or to make a benchmark repeatable). */
    public void reseed(long seed) {
        this.rng = new SplittableRandom(seed);
    }

    /** Fills rows of z with independent N(0, 1) draws from the training generator. */
    public void drawNoise(Tensor z) {
        fillGaussian(z, rng);
    }

    public static void fillGaussian(Tensor z, SplittableRandom r) {
        for (long i = 0; i < z.size(); i++) {
            z.set(i, (float) r.nextGaussian());
        }
    }

    /**
     * One discriminator step on a real batch (B, C, S, S) in [-1, 1] and B fresh generated images:
     * descends BCE(D(x), 1) + BCE(D(G(z)), 0). Returns D's loss and its outputs on both halves.
     */
    public DStep discriminatorStep(Tensor real) {
        int b = real.dim(0);
        Tensor z = noise.rows(0, b);
        drawNoise(z);
        Tensor fake = g.forward(z, true);
        d.zeroGrad();
        Tensor outReal = d.forward(real, true);
        double lossReal = bce.valueAndGradient(outReal, ones.rows(0, b), d.outputGrad());
        double realProb = meanSigmoid(outReal);
        double realAcc = fractionAbove(outReal, true);
        d.backward(real, d.outputGrad(), D_CONV1);
        Tensor outFake = d.forward(fake, true);
        double lossFake = bce.valueAndGradient(outFake, zeros.rows(0, b), d.outputGrad());
        double fakeProb = meanSigmoid(outFake);
        double fakeAcc = fractionAbove(outFake, false);
        d.backward(fake, d.outputGrad(), D_CONV1);
        dOpt.step();
        return new DStep(lossReal + lossFake, realProb, fakeProb, realAcc, fakeAcc);
    }

    /**
     * One generator step on B fresh noise vectors: G's loss (non-saturating: -mean log D(G(z)); minimax:
     * mean log(1 - D(G(z)))), its gradient through D (whose parameter gradients are computed but not
     * applied: the next D step zeroes them), backward through G, Adam. Returns G's loss.
     */
    public double generatorStep(int b) {
        Tensor z = noise.rows(0, b);
        drawNoise(z);
        double loss = generatorLossAndGradient(z);
        gOpt.step();
        return loss;
    }

    /**
     * G's loss on the noise rows z (B, Z) and, zeroed first, its parameter gradients in G's slab
     * (training-mode batch norm in both networks, as in a step; no optimizer step). D's parameter
     * gradients are left unspecified (D's step zeroes them before use).
     */
    public double generatorLossAndGradient(Tensor z) {
        int b = z.dim(0);
        Tensor fake = g.forward(z, true);
        Tensor out = d.forward(fake, true);
        Tensor dOut = d.outputGrad();
        double loss;
        if (cfg.generatorLoss == GeneratorLoss.NON_SATURATING) {
            loss = bce.valueAndGradient(out, ones.rows(0, b), dOut);
        } else {
            // log(1 - sigmoid(l)) = -softplus(l) = -BCE(l, 0): value and gradient of BCE(., 0), negated.
            loss = -bce.valueAndGradient(out, zeros.rows(0, b), dOut);
            d.kernels().elementwise().scale((int) dOut.size(), -1f, dOut.segment(), dOut.offset());
        }
        // D's weights are not updated in this step (its next step zeroes its gradients first): only
        // the gradient with respect to its input, the generated images, is needed.
        d.backwardInput(fake, dOut);
        g.zeroGrad();
        g.backward(z, tap.inputGradient());
        return loss;
    }

    private static double meanSigmoid(Tensor logits) {
        double s = 0;
        for (long i = 0; i < logits.size(); i++) {
            s += 1 / (1 + Math.exp(-logits.get(i)));
        }
        return s / logits.size();
    }

    private static double fractionAbove(Tensor logits, boolean real) {
        int right = 0;
        for (long i = 0; i < logits.size(); i++) {
            float v = logits.get(i);
            if (real ? v > 0 : v < 0) {
                right++;
            }
        }
        return (double) right / logits.size();
    }

    /**
     * Generates images for the rows of z (N, Z) into out (N, C*S*S) mapped to [0, 1], in chunks of at
     * most maxBatch (each chunk with its own batch statistics; chunks of one use running statistics).
     */
    public void generate(Tensor z, Tensor out) {
        int n = z.dim(0);
        int px = cfg.pixels();
        if (out.dim(0) != n || out.rowSize() != px) {
            throw new IllegalArgumentException("generate: output must be [" + n + ", " + px + "], got " + Tensor.format(out.shape()));
        }
        float[][] stats = runningStats();
        try {
            for (int from = 0; from < n; from += cfg.maxBatch) {
                int size = Math.min(cfg.maxBatch, n - from);
                Tensor y = g.forward(z.rows(from, from + size), size > 1);
                Tensor o = out.rows(from, from + size);
                for (long i = 0; i < y.size(); i++) {
                    o.set(i, (y.get(i) + 1f) * 0.5f);
                }
            }
        } finally {
            restoreRunningStats(stats);
        }
    }

    /**
     * G's batch-norm running statistics, copied: generating runs G in training mode (batch
     * statistics, as DCGAN samples), which also moves the running averages; {@link #generate}
     * puts them back so that looking at samples never changes the model (or its file).
     */
    private float[][] runningStats() {
        List<float[]> copies = new ArrayList<>();
        for (Layer l : g.layers()) {
            if (l instanceof BatchNorm bn) {
                copies.add(bn.runningMean().toArray());
                copies.add(bn.runningVar().toArray());
            }
        }
        return copies.toArray(float[][]::new);
    }

    private void restoreRunningStats(float[][] stats) {
        int i = 0;
        for (Layer l : g.layers()) {
            if (l instanceof BatchNorm bn) {
                bn.runningMean().copyFrom(stats[i++]);
                bn.runningVar().copyFrom(stats[i++]);
            }
        }
    }

    /**
     * Generates images for chosen rows of z (N, Z) into out (N, C*S*S) in [0, 1], each chunk of at most
     * maxBatch / 2 rows in a batch filled up with random noise drawn from {@code contextSeed}. Training-mode
     * batch norm normalizes over the batch, so a handful of hand-made vectors (say averages, whose norms
     * are smaller than a draw's) generated alone would set their own statistics; among random draws
     * they are rendered as they would be in a sample.
     */
    public void generateAmong(Tensor z, Tensor out, long contextSeed) {
        int n = z.dim(0);
        int px = cfg.pixels();
        if (z.rowSize() != cfg.z || out.dim(0) != n || out.rowSize() != px) {
            throw new IllegalArgumentException("generateAmong: need z [" + n + ", " + cfg.z + "] and out [" + n + ", " + px + "], got "
                    + Tensor.format(z.shape()) + " and " + Tensor.format(out.shape()));
        }
        int chunk = Math.max(1, cfg.maxBatch / 2);
        try (Workspace tmp = new Workspace("gan-among")) {
            Tensor batch = tmp.allocate(cfg.maxBatch, cfg.z);
            Tensor images = tmp.allocate(cfg.maxBatch, px);
            SplittableRandom r = new SplittableRandom(contextSeed);
            for (int from = 0; from < n; from += chunk) {
                int size = Math.min(chunk, n - from);
                fillGaussian(batch, r);
                batch.rows(0, size).copyFrom(z.rows(from, from + size));
                generate(batch, images);
                out.rows(from, from + size).copyFrom(images.rows(0, size));
            }
        }
    }

    /** N images from noise drawn from {@code seed} (not the training generator), in [0, 1], in ws. */
    public Tensor sample(int n, long seed, Workspace out) {
        Tensor z = out.allocate(n, cfg.z);
        fillGaussian(z, new SplittableRandom(seed));
        Tensor images = out.allocate(n, cfg.pixels());
        generate(z, images);
        return images;
    }

    /**
     * Rows walking linearly in noise space: row r goes from z_a(r) to z_b(r) (pairs drawn from
     * {@code seed}) in {@code steps} images, z_t = (1 - t) z_a + t z_b, t = j / (steps - 1).
     * Returns (rows*steps, C*S*S) in [0, 1], row-major (row r's images are consecutive).
     */
    public Tensor interpolate(int rows, int steps, long seed, Workspace out) {
        if (rows < 1 || steps < 2) {
            throw new IllegalArgumentException("interpolation needs rows >= 1 and steps >= 2, got " + rows + ", " + steps);
        }
        SplittableRandom r = new SplittableRandom(seed);
        Tensor z = out.allocate(rows * steps, cfg.z);
        float[] a = new float[cfg.z];
        float[] b = new float[cfg.z];
        for (int row = 0; row < rows; row++) {
            for (int i = 0; i < cfg.z; i++) {
                a[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < cfg.z; i++) {
                b[i] = (float) r.nextGaussian();
            }
            for (int j = 0; j < steps; j++) {
                double t = (double) j / (steps - 1);
                long base = (long) (row * steps + j) * cfg.z;
                for (int i = 0; i < cfg.z; i++) {
                    z.set(base + i, (float) ((1 - t) * a[i] + t * b[i]));
                }
            }
        }
        Tensor images = out.allocate(rows * steps, cfg.pixels());
        generate(z, images);
        return images;
    }

    /**
     * D's hidden activations as features, DCGAN style: both LeakyReLU maps (d1, S/2, S/2) and
     * (d2, S/4, S/4) max-pooled to a 4x4 grid per channel (adaptive windows
     * [floor(i H / 4), ceil((i + 1) H / 4))) and concatenated: (N, (d1 + d2) * 16). D runs in inference
     * mode (running batch-norm statistics). Images are rows (N, C*S*S) in [0, 1].
     */
    public Tensor discriminatorFeatures(Tensor images01, Workspace out) {
        Tensor f = out.allocate(images01.dim(0), featureSize());
        features(images01, f);
        return f;
    }

    @Override
    public String kind() {
        return KIND;
    }

    /** (channels, size, size): images in [0, 1], as the training data. */
    @Override
    public int[] inputShape() {
        return new int[] {cfg.channels, cfg.size, cfg.size};
    }

    /**
     * The discriminator's features ({@link #discriminatorFeatures}) of the images in the rows of
     * images01 (n, C*S*S) in [0, 1], into out (n, {@link #featureSize()}); batches of the max batch
     * through one input buffer made on first use.
     */
    @Override
    public void features(Tensor images01, Tensor out) {
        requireShapes(images01, out);
        int n = images01.dim(0);
        int dim = featureSize();
        if (featureInput == null) {
            featureInput = ws.allocate(cfg.maxBatch, cfg.channels, cfg.size, cfg.size);
        }
        for (int from = 0; from < n; from += cfg.maxBatch) {
            int size = Math.min(cfg.maxBatch, n - from);
            Tensor xb = featureInput.rows(0, size);
            Tensor src = images01.rows(from, from + size);
            for (long i = 0; i < xb.size(); i++) {
                xb.set(i, src.get(i) * 2f - 1f);
            }
            d.forward(xb, false, D_ACT2);
            for (int s = 0; s < size; s++) {
                long base = (long) (from + s) * dim;
                base = pool4(d.activation(D_ACT1), s, cfg.d1, cfg.size / 2, out, base);
                pool4(d.activation(D_ACT2), s, cfg.d2, cfg.size / 4, out, base);
            }
        }
    }

    /** Length of a {@link #discriminatorFeatures} row. */
    @Override
    public int featureSize() {
        return (cfg.d1 + cfg.d2) * 16;
    }

    /**
     * Pixels mapped to [-1, 1], then D's first level (conv, LeakyReLU) and, in two branches, its 4 x 4
     * grid maxima and D's second level (conv, batch norm, LeakyReLU) with its grid maxima.
     */
    @Override
    public FeatureGraph featureGraph() {
        List<Layer> layers = d.layers();
        List<FeatureGraph.Step> steps = new ArrayList<>();
        steps.add(new FeatureGraph.Affine(2f, -1f));
        steps.addAll(FeatureGraph.ofLayers(layers.subList(1, D_ACT1 + 1)));
        List<FeatureGraph.Step> second = new ArrayList<>(FeatureGraph.ofLayers(layers.subList(D_ACT1 + 1, D_ACT2 + 1)));
        second.add(new FeatureGraph.GridMax(4));
        second.add(new FeatureGraph.Flatten());
        steps.add(new FeatureGraph.Concat(List.of(List.of(new FeatureGraph.GridMax(4), new FeatureGraph.Flatten()), second)));
        return new FeatureGraph(inputShape(), steps);
    }

    private static long pool4(Tensor maps, int sample, int channels, int side, Tensor out, long at) {
        long plane = (long) side * side;
        long base = (long) sample * channels * plane;
        for (int c = 0; c < channels; c++) {
            long cb = base + c * plane;
            for (int i = 0; i < 4; i++) {
                int y0 = i * side / 4;
                int y1 = ((i + 1) * side + 3) / 4;
                for (int j = 0; j < 4; j++) {
                    int x0 = j * side / 4;
                    int x1 = ((j + 1) * side + 3) / 4;
                    float m = Float.NEGATIVE_INFINITY;
                    for (int y = y0; y < y1; y++) {
                        for (int x = x0; x < x1; x++) {
                            m = Math.max(m, maps.get(cb + (long) y * side + x));
                        }
                    }
                    out.set(at++, m);
                }
            }
        }
        return at;
    }

    /**
     * Writes G, D (parameters and batch-norm running statistics, names prefixed by the network) to a
     * safetensors model file: kind dcgan, the config as JSON, and the provenance.
     */
    public void save(Path file, Map<String, String> provenance) throws IOException {
        SafeTensors.write(file, tensors(), ModelFile.metadata(KIND, cfg.toJson().toString(),
                Map.of("input_shape", ModelFile.shape(cfg.channels, cfg.size, cfg.size)), provenance));
    }

    /**
     * Everything a checkpoint must hold besides the optimizers: G's and D's parameters and the
     * batch-norm running statistics, by the model file's tensor names (views, not copies).
     */
    public Map<String, Tensor> stateTensors() {
        return tensors();
    }

    /** The two Adam optimizers by checkpoint name: {@code g_optimizer}, {@code d_optimizer}. */
    public Map<String, Optimizer> optimizers() {
        Map<String, Optimizer> m = new LinkedHashMap<>();
        m.put("g_optimizer", gOpt);
        m.put("d_optimizer", dOpt);
        return m;
    }

    private Map<String, Tensor> tensors() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (Param p : g.params()) {
            t.put(p.name(), p.value());
        }
        for (Param p : d.params()) {
            t.put(p.name(), p.value());
        }
        for (BatchNorm n : norms) {
            t.put(n.name() + ".running_mean", n.runningMean());
            t.put(n.name() + ".running_var", n.runningVar());
        }
        return t;
    }

    /** Loads a model written by {@link #save} (bit-exact weights and running statistics). */
    public static Gan load(Path file, Kernels kernels) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.Loaded l = SafeTensors.read(file, arena);
            ModelFile.requireKind(l, KIND);
            Gan gan = new Gan(Config.fromJson(ModelFile.json(l, "config"), file.toString()), kernels);
            try {
                Set<String> expected = new HashSet<>();
                for (Map.Entry<String, Tensor> e : gan.tensors().entrySet()) {
                    e.getValue().copyFrom(l.tensor(e.getKey(), e.getValue().shape()));
                    expected.add(e.getKey());
                }
                ModelFile.requireOnly(l, expected, KIND);
                return gan;
            } catch (RuntimeException e) {
                gan.close();
                throw e;
            }
        }
    }

    public Config config() {
        return cfg;
    }

    public Sequential generator() {
        return g;
    }

    public Sequential discriminator() {
        return d;
    }

    @Override
    public void close() {
        gOpt.close();
        dOpt.close();
        ws.close();
        d.close();
        g.close();
    }
}
