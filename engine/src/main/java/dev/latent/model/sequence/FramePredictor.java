package dev.latent.model.sequence;

import dev.latent.data.MovingMnist;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.loss.Bce;
import dev.latent.nn.Dense;
import dev.latent.nn.Lstm;
import dev.latent.nn.ParamSlab;
import dev.latent.optim.Adam;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.SplittableRandom;

/**
 * The LSTM encoder-predictor of Srivastava, Mansimov &amp; Salakhutdinov (2015, "Unsupervised learning
 * of video representations using LSTMs"), future-predictor variant with an unconditioned decoder:
 * an encoder LSTM reads T_in frames (B, T_in, P); its final state (h, c) starts a predictor LSTM that
 * runs T_out steps on zero input, and a dense layer maps each predictor state to the logits of one
 * future frame (P pixels), trained by binary cross-entropy against the true future frames with Adam.
 * The gradient reaches the encoder through the predictor's initial state.
 *
 * <p>The encoder's final hidden state h_T (H values) is the sequence's representation
 * ({@link #encode}). Seeded: the same seed and kernels give the same bits.
 */
public final class FramePredictor implements AutoCloseable {

    /** Frames in and out, pixels per frame, LSTM units, batch and Adam learning rate. */
    public record Config(int inputFrames, int outputFrames, int pixels, int hidden, int batch, double lr) {
        public Config {
            if (inputFrames < 1 || outputFrames < 1 || pixels < 1 || hidden < 1 || batch < 1 || !(lr > 0)) {
                throw new IllegalArgumentException("frame predictor: frames, pixels, hidden units and batch must be >= 1 and lr > 0,"
                        + " got " + inputFrames + ", " + outputFrames + ", " + pixels + ", " + hidden + ", " + batch + ", " + lr);
            }
        }
    }

    private final Config cfg;
    private final Kernels k;
    private final Workspace ws = new Workspace("frame-predictor");
    private final Lstm encoder;
    private final Lstm predictor;
    private final Dense frames;
    private final ParamSlab slab;
    private final Adam adam;
    private final Bce bce = Bce.withLogits();
    private final Tensor xIn;
    private final Tensor target;
    private final Tensor zeros;
    private final Tensor encY;
    private final Tensor decY;
    private final Tensor logits;
    private final Tensor dLogits;
    private final Tensor dDecY;
    private final Tensor dEncY;

    public FramePredictor(Config cfg, Kernels k, long seed) {
        this.cfg = cfg;
        this.k = k;
        int b = cfg.batch();
        int h = cfg.hidden();
        encoder = new Lstm("encoder", cfg.inputFrames(), cfg.pixels(), h);
        predictor = new Lstm("predictor", cfg.outputFrames(), 1, h);
        frames = new Dense("frames", h, cfg.pixels());
        int[] encIn = {cfg.inputFrames(), cfg.pixels()};
        int[] decIn = {cfg.outputFrames(), 1};
        int[] headIn = {h};
        slab = new ParamSlab(ws, encoder.paramCount(encIn) + predictor.paramCount(decIn) + frames.paramCount(headIn));
        encoder.build(encIn, b, k, slab, ws);
        predictor.build(decIn, b, k, slab, ws);
        frames.build(headIn, b * cfg.outputFrames(), k, slab, ws);
        SplittableRandom r = new SplittableRandom(seed);
        encoder.init(r);
        predictor.init(r);
        frames.init(r);
        adam = Adam.of(slab, cfg.lr());
        xIn = ws.allocate(b, cfg.inputFrames(), cfg.pixels());
        target = ws.allocate(b * cfg.outputFrames(), cfg.pixels());
        zeros = ws.allocate(b, cfg.outputFrames(), 1);
        encY = ws.allocate(b, cfg.inputFrames(), h);
        decY = ws.allocate(b, cfg.outputFrames(), h);
        logits = ws.allocate(b * cfg.outputFrames(), cfg.pixels());
        dLogits = ws.allocate(b * cfg.outputFrames(), cfg.pixels());
        dDecY = ws.allocate(b * cfg.outputFrames(), h);
        dEncY = ws.allocate(b, cfg.inputFrames(), h);
    }

    public Config config() {
        return cfg;
    }

    /** Runs encoder, predictor and frame layer on the first n rows of xIn; the logits land in logits. */
    private void forward(int n) {
        int h = cfg.hidden();
        int tIn = cfg.inputFrames();
        Tensor x = xIn.rows(0, n);
        Tensor ey = encY.rows(0, n);
        encoder.forward(x, ey, true);
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < h; j++) {
                predictor.initialHidden().set(r, j, ey.get(((long) r * tIn + tIn - 1) * h + j));
                predictor.initialCell().set(r, j, encoder.finalCell(r, j));
            }
        }
        Tensor dy = decY.rows(0, n);
        predictor.forward(zeros.rows(0, n), dy, true);
        frames.forward(dy.reshape(n * cfg.outputFrames(), h), logits.rows(0, n * cfg.outputFrames()), true);
    }

    /**
     * One Adam step on sequences (n, T_in + T_out, P) (n up to the batch): the first T_in frames in,
     * the rest the targets. Returns the mean cross-entropy per pixel.
     */
    public double step(Tensor sequences) {
        double loss = lossAndGradient(sequences);
        adam.step();
        return loss;
    }

    /** Every parameter and its gradient (encoder, predictor, frame layer), in one slab. */
    public ParamSlab parameters() {
        return slab;
    }

    /**
     * The mean cross-entropy per pixel of sequences (n, T_in + T_out, P), with its gradient written into
     * {@link #parameters()}' gradients (overwritten, not added); the parameters are not changed.
     */
    public double lossAndGradient(Tensor sequences) {
        int n = sequences.dim(0);
        int tIn = cfg.inputFrames();
        int tOut = cfg.outputFrames();
        int p = cfg.pixels();
        int h = cfg.hidden();
        requireSequences(sequences, tIn + tOut);
        for (int r = 0; r < n; r++) {
            Tensor seq = sequences.row(r).reshape(tIn + tOut, p);
            xIn.reshape(cfg.batch(), tIn * p).row(r).copyFrom(seq.rows(0, tIn).reshape(tIn * p));
            target.rows(r * tOut, (r + 1) * tOut).copyFrom(seq.rows(tIn, tIn + tOut));
        }
        forward(n);
        int rows = n * tOut;
        double loss = bce.valueAndGradient(logits.rows(0, rows), target.rows(0, rows), dLogits.rows(0, rows));
        slab.grads().fill(0f);
        Tensor dy = decY.rows(0, n);
        frames.backward(dy.reshape(rows, h), logits.rows(0, rows), dLogits.rows(0, rows), dDecY.rows(0, rows));
        predictor.backward(zeros.rows(0, n), dy, dDecY.rows(0, rows).reshape(n, tOut, h), null);
        Tensor de = dEncY.rows(0, n);
        de.fill(0f);
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < h; j++) {
                de.set(((long) r * tIn + tIn - 1) * h + j, predictor.initialHiddenGrad().get(r, j));
                encoder.finalCellGrad().set(r, j, predictor.initialCellGrad().get(r, j));
            }
        }
        encoder.backward(xIn.rows(0, n), encY.rows(0, n), de, null);
        return loss;
    }

    private void requireSequences(Tensor s, int frames) {
        if (s.rank() != 3 || s.dim(1) != frames || s.dim(2) != cfg.pixels() || s.dim(0) < 1 || s.dim(0) > cfg.batch()) {
            throw new IllegalArgumentException("frame predictor: sequences (n <= " + cfg.batch() + ", " + frames + ", " + cfg.pixels()
                    + ") expected, got " + Tensor.format(s.shape()));
        }
    }

    /** The predicted future frames (probabilities) of input sequences (N, T_in, P) into out (N, T_out, P). */
    public void predict(Tensor input, Tensor out) {
        int tIn = cfg.inputFrames();
        int tOut = cfg.outputFrames();
        int p = cfg.pixels();
        for (int from = 0; from < input.dim(0); from += cfg.batch()) {
            int n = Math.min(cfg.batch(), input.dim(0) - from);
            load(input, from, n, tIn);
            forward(n);
            Tensor o = out.reshape(out.dim(0), tOut * p).rows(from, from + n).reshape(n * tOut, p);
            k.activations().forward(Activation.SIGMOID, n * tOut * p, logits.segment(), logits.offset(), o.segment(), o.offset());
        }
    }

    /** The encoder's final hidden state h_T of input sequences (N, >= T_in, P), from their first T_in frames, into out (N, H). */
    public void encode(Tensor input, Tensor out) {
        int tIn = cfg.inputFrames();
        int h = cfg.hidden();
        for (int from = 0; from < input.dim(0); from += cfg.batch()) {
            int n = Math.min(cfg.batch(), input.dim(0) - from);
            load(input, from, n, tIn);
            encoder.forward(xIn.rows(0, n), encY.rows(0, n), false);
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < h; j++) {
                    out.set(from + r, j, encY.get(((long) r * tIn + tIn - 1) * h + j));
                }
            }
        }
    }

    private void load(Tensor input, int from, int n, int tIn) {
        int p = cfg.pixels();
        if (input.rank() != 3 || input.dim(1) < tIn || input.dim(2) != p) {
            throw new IllegalArgumentException("frame predictor: sequences (N, >= " + tIn + ", " + p + ") expected, got "
                    + Tensor.format(input.shape()));
        }
        for (int r = 0; r < n; r++) {
            Tensor seq = input.row(from + r).reshape(input.dim(1), p);
            xIn.reshape(cfg.batch(), tIn * p).row(r).copyFrom(seq.rows(0, tIn).reshape(tIn * p));
        }
    }

    /** Called after every epoch with the mean training cross-entropy. */
    @FunctionalInterface
    public interface Listener {
        void epoch(int epoch, int epochs, double loss, double seconds);
    }

    /**
     * Trains on fresh sequences of {@code gen} (whose frames must be T_in + T_out): epoch e draws
     * {@code perEpoch} sequences [e perEpoch, (e+1) perEpoch) of the draw {@code seed}.
     */
    public void fit(MovingMnist gen, long seed, int perEpoch, int epochs, Listener listener) {
        if (gen.config().frames() != cfg.inputFrames() + cfg.outputFrames() || gen.config().pixels() != cfg.pixels()) {
            throw new IllegalArgumentException("frame predictor: the generator makes " + gen.config().frames() + " frames of "
                    + gen.config().pixels() + " pixels, the model needs " + (cfg.inputFrames() + cfg.outputFrames()) + " of " + cfg.pixels());
        }
        for (int e = 0; e < epochs; e++) {
            long t0 = System.nanoTime();
            double sum = 0;
            int batches = 0;
            for (int from = 0; from < perEpoch; from += cfg.batch()) {
                int n = Math.min(cfg.batch(), perEpoch - from);
                try (Workspace b = new Workspace("sequences")) {
                    sum += step(gen.generate(seed, (long) e * perEpoch + from, n, b));
                }
                batches++;
            }
            listener.epoch(e + 1, epochs, sum / batches, (System.nanoTime() - t0) * 1e-9);
        }
    }

    @Override
    public void close() {
        adam.close();
        ws.close();
    }
}
