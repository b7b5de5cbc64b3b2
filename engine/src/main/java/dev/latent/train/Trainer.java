package dev.latent.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.loss.Loss;
import dev.latent.loss.WeightDecay;
import dev.latent.nn.Param;
import dev.latent.nn.Sequential;
import dev.latent.optim.Optimizer;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.IOException;
import java.io.Writer;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The training loop: epochs of seeded, shuffled mini-batches; forward, loss and gradient in one pass,
 * backward (with activity penalties), weight decay, optimizer step; validation loss; early stopping;
 * metrics as JSON lines; a checkpoint after every epoch written atomically, and resume from it.
 *
 * <p>Reproducible: the order of epoch e is a Fisher-Yates shuffle drawn from a generator seeded by
 * (seed, e), so the same seed and kernel provider give the same bits, with or without a resume.
 * Steady state allocates nothing: batch buffers are sized once; rows are copied segment to segment.
 */
public final class Trainer {

    /**
     * What to run. {@code patience} 0 disables early stopping; null paths disable metrics / checkpoints.
     * {@code firstEpoch} (default 1) starts at a later epoch of the same schedule: epochs firstEpoch ..
     * epochs run, each shuffled as in a run from epoch 1, so a caller that keeps the network and the
     * optimizer between calls (data-parallel rounds) continues one run exactly.
     */
    public record Config(int epochs, int batchSize, long seed, int patience, Path metrics, Path checkpoint, boolean resume,
                         int firstEpoch) {
        public Config {
            if (firstEpoch < 1 || firstEpoch > Math.max(epochs, 1)) {
                throw new IllegalArgumentException("first epoch must be in [1, " + epochs + "], got " + firstEpoch);
            }
            if (epochs < 1) {
                throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            }
            if (patience < 0) {
                throw new IllegalArgumentException("patience must be >= 0, got " + patience);
            }
        }

        public static Config of(int epochs, int batchSize, long seed) {
            return new Config(epochs, batchSize, seed, 0, null, null, false, 1);
        }

        public Config withPatience(int p) {
            return new Config(epochs, batchSize, seed, p, metrics, checkpoint, resume, firstEpoch);
        }

        public Config withMetrics(Path p) {
            return new Config(epochs, batchSize, seed, patience, p, checkpoint, resume, firstEpoch);
        }

        public Config withCheckpoint(Path p, boolean resumeFromIt) {
            return new Config(epochs, batchSize, seed, patience, metrics, p, resumeFromIt, firstEpoch);
        }

        /** Only epoch {@code epoch} of this schedule (1-based), shuffled as it would be in the whole run. */
        public Config onlyEpoch(int epoch) {
            return new Config(epoch, batchSize, seed, patience, metrics, checkpoint, resume, epoch);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Config config;
    private final TrainingListener listener;

    public Trainer(Config config, TrainingListener listener) {
        this.config = config;
        this.listener = listener == null ? TrainingListener.NONE : listener;
    }

    /**
     * Trains {@code net} to map rows of {@code x} (N, input...) to rows of {@code y} (N, output...);
     * for an autoencoder pass the same tensor twice. {@code valX}/{@code valY} may be null.
     */
    public History fit(Sequential net, Loss loss, Optimizer opt, WeightDecay decay,
                       Tensor x, Tensor y, Tensor valX, Tensor valY) throws IOException {
        int n = x.dim(0);
        if (y.dim(0) != n) {
            throw new IllegalArgumentException("inputs have " + n + " rows but targets have " + y.dim(0));
        }
        if (n == 0) {
            throw new IllegalArgumentException("no training rows");
        }
        int batch = Math.min(config.batchSize(), net.maxBatch());
        int batches = (n + batch - 1) / batch;
        List<EpochResult> results = new ArrayList<>();
        int firstEpoch = config.firstEpoch();
        double best = Double.POSITIVE_INFINITY;
        int sinceBest = 0;
        if (config.checkpoint() != null && config.resume() && Files.exists(config.checkpoint())) {
            Resumed r = restore(net, opt);
            firstEpoch = r.epoch + 1;
            best = r.best;
            sinceBest = r.sinceBest;
        }
        try (Workspace ws = new Workspace("trainer")) {
            Tensor bx = ws.allocate(withBatch(batch, x));
            Tensor by = ws.allocate(withBatch(batch, y));
            Tensor[] bxViews = new Tensor[batch + 1];
            Tensor[] byViews = new Tensor[batch + 1];
            int[] order = new int[n];
            listener.onStart(firstEpoch, config.epochs(), batches, n);
            boolean stopped = false;
            for (int epoch = firstEpoch; epoch <= config.epochs(); epoch++) {
                shuffle(order, config.seed(), epoch);
                long t0 = System.nanoTime();
                double sum = 0;
                for (int bi = 0; bi < batches; bi++) {
                    int from = bi * batch;
                    int size = Math.min(batch, n - from);
                    if (bxViews[size] == null) {
                        bxViews[size] = bx.rows(0, size);
                        byViews[size] = by.rows(0, size);
                    }
                    Tensor xb = bxViews[size];
                    Tensor yb = byViews[size];
                    gather(x, order, from, size, xb);
                    gather(y, order, from, size, yb);
                    double l = step(net, loss, opt, decay, xb, yb);
                    if (!Double.isFinite(l)) {
                        throw new IllegalStateException("training diverged: loss " + l + " at epoch " + epoch + ", batch " + (bi + 1)
                                + " (lower the learning rate or check the input for NaN)");
                    }
                    sum += l;
                    double secs = (System.nanoTime() - t0) * 1e-9;
                    listener.onBatch(epoch, bi + 1, sum / (bi + 1), (from + size) / Math.max(secs, 1e-9));
                }
                double secs = (System.nanoTime() - t0) * 1e-9;
                double val = valX == null ? Double.NaN : evaluate(net, loss, valX, valY, ws, batch);
                double score = Double.isNaN(val) ? sum / batches : val;
                boolean improved = score < best;
                if (improved) {
                    best = score;
                    sinceBest = 0;
                } else {
                    sinceBest++;
                }
                EpochResult r = new EpochResult(epoch, sum / batches, val, secs, n / secs, improved);
                results.add(r);
                // Checkpoint before the metrics line: a kill between the two loses a log line, never
                // an epoch, and a resumed run never logs an epoch twice.
                if (config.checkpoint() != null) {
                    checkpoint(net, opt, epoch, best, sinceBest);
                }
                writeMetrics(r);
                listener.onEpoch(r);
                if (config.patience() > 0 && sinceBest >= config.patience()) {
                    stopped = true;
                    break;
                }
            }
            History h = new History(results, stopped);
            listener.onEnd(h);
            return h;
        }
    }

    /**
     * One training step on a batch: forward, loss and dL/dy in one pass, backward (with activity
     * penalties), weight decay, optimizer step. Returns the objective before the step. Allocates
     * nothing in steady state (the allocation test in tests/ measures it).
     */
    public static double step(Sequential net, Loss loss, Optimizer opt, WeightDecay decay, Tensor x, Tensor y) {
        double l = objective(net, loss, decay, x, y);
        opt.step();
        return l;
    }

    /**
     * The training objective on a batch (loss + activity penalties + weight decay) with its gradient
     * left in the network's parameter gradients: forward, loss and dL/dy, backward, decay.
     */
    public static double objective(Sequential net, Loss loss, WeightDecay decay, Tensor x, Tensor y) {
        Tensor out = net.forward(x, true);
        net.zeroGrad();
        double l = loss.valueAndGradient(out, y, net.outputGrad());
        l += net.backward(x, net.outputGrad());
        if (decay != null) {
            l += decay.addGradient(net.kernels(), net.params());
        }
        return l;
    }

    /** Mean data loss of {@code net} over (x, y) in inference mode. */
    public static double evaluate(Sequential net, Loss loss, Tensor x, Tensor y, Workspace ws, int batch) {
        int n = x.dim(0);
        double sum = 0;
        for (int from = 0; from < n; from += batch) {
            int size = Math.min(batch, n - from);
            Tensor out = net.forward(x.rows(from, from + size), false);
            sum += loss.value(out, y.rows(from, from + size)) * size;
        }
        return sum / n;
    }

    private static int[] withBatch(int b, Tensor t) {
        int[] s = t.shape();
        s[0] = b;
        return s;
    }

    /** Fisher-Yates shuffle of 0..n-1 from a generator seeded by (seed, epoch). */
    public static void shuffle(int[] order, long seed, int epoch) {
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
        for (int i = order.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }

    /** Copies rows order[from], ..., order[from + size - 1] of src into rows 0..size-1 of dst. */
    public static void gather(Tensor src, int[] order, int from, int size, Tensor dst) {
        long row = src.rowSize();
        MemorySegment s = src.segment();
        MemorySegment d = dst.segment();
        for (int i = 0; i < size; i++) {
            MemorySegment.copy(s, (src.offset() + order[from + i] * row) * Float.BYTES,
                    d, (dst.offset() + i * row) * Float.BYTES, row * Float.BYTES);
        }
    }

    private void writeMetrics(EpochResult r) throws IOException {
        if (config.metrics() == null) {
            return;
        }
        ObjectNode o = JSON.createObjectNode();
        o.put("epoch", r.epoch());
        o.put("train_loss", r.trainLoss());
        if (!Double.isNaN(r.valLoss())) {
            o.put("val_loss", r.valLoss());
        }
        o.put("seconds", r.seconds());
        o.put("samples_per_s", r.samplesPerSecond());
        Path parent = config.metrics().toAbsolutePath().getParent();
        Files.createDirectories(parent);
        try (Writer w = Files.newBufferedWriter(config.metrics(), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            w.write(o.toString());
            w.write('\n');
        } catch (IOException e) {
            throw dev.latent.io.AtomicFiles.cannotWrite(config.metrics(), e);
        }
    }

    private void checkpoint(Sequential net, Optimizer opt, int epoch, double best, int sinceBest) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("seed", Long.toString(config.seed()));
        meta.put("best", Double.toString(best));
        meta.put("since_best", Integer.toString(sinceBest));
        Checkpoint.write(config.checkpoint(), epoch, paramTensors(net), Map.of("optimizer", opt), meta);
    }

    private static Map<String, Tensor> paramTensors(Sequential net) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Param p : net.params()) {
            tensors.put("param." + p.name(), p.value());
        }
        return tensors;
    }

    private record Resumed(int epoch, double best, int sinceBest) {
    }

    private Resumed restore(Sequential net, Optimizer opt) throws IOException {
        Checkpoint.Restored r = Checkpoint.restore(config.checkpoint(), paramTensors(net), Map.of("optimizer", opt));
        return new Resumed(r.epoch(), r.doubleMeta("best"), r.intMeta("since_best"));
    }
}
