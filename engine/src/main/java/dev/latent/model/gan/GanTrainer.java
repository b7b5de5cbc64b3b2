package dev.latent.model.gan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.io.BadInputException;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.Checkpoint;
import dev.latent.train.Trainer;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/**
 * The training loop of a {@link Gan} and what lets a person watch it. Images are rows (N, C*S*S) in
 * [0, 1], scaled once to [-1, 1] (tanh's range). An epoch is a seeded shuffle of the images cut into
 * floor(N / (k B)) iterations of k discriminator steps (each on its own real batch of B) and one
 * generator step; the remainder is dropped so batch norm always sees full batches.
 *
 * <p>After each epoch: mean losses of D and G, D's mean outputs D(x), D(G(z)) and its accuracy on real
 * and fake (logit &gt; 0 and &lt; 0); optionally a PNG grid of samples from fixed noise
 * ({@code samples-epoch-NNN.png}), the Frechet distance of {@code fdSamples} generated images (noise
 * from a fixed seed, so epochs compare), the samples' spread relative to real images; the
 * {@link GanHealth} findings; one JSON line in the metrics file. A fatal finding stops training (or
 * only warns, if {@code stopOnFailure} is off); a non-finite loss stops it at once. Optionally a
 * {@link Checkpoint} (G, D, batch-norm statistics, both Adam states, the epoch) after every epoch, and
 * resume from it. The shuffle and the noise of epoch e come from generators seeded by (seed, e), so a
 * resumed run continues bit for bit.
 */
public final class GanTrainer {

    /**
     * What to run and where to write (null paths and scorer: skip). With {@code checkpoint}, a checkpoint
     * is written atomically after every epoch; with {@code resume} too, training continues from it when
     * it exists (bit-identical to an uninterrupted run with the same seed and kernel provider).
     */
    public record Options(int epochs, int batch, long seed, Path metrics, ToDoubleFunction<Tensor> scorer,
                          int fdSamples, boolean stopOnFailure, Path checkpoint, boolean resume) {
        public static Options of(int epochs, int batch, long seed) {
            return new Options(epochs, batch, seed, null, null, 1000, true, null, false);
        }

        public Options withMetrics(Path p) {
            return new Options(epochs, batch, seed, p, scorer, fdSamples, stopOnFailure, checkpoint, resume);
        }

        /**
         * Scores {@code samples} generated images (in [0, 1], one per row) after every epoch, e.g. the
         * Frechet distance of {@code eval.FrechetScorer::distance}; lower is better.
         */
        public Options withFrechet(ToDoubleFunction<Tensor> s, int samples) {
            return new Options(epochs, batch, seed, metrics, s, samples, stopOnFailure, checkpoint, resume);
        }

        public Options withStopOnFailure(boolean stop) {
            return new Options(epochs, batch, seed, metrics, scorer, fdSamples, stop, checkpoint, resume);
        }

        public Options withCheckpoint(Path file, boolean resumeFromIt) {
            return new Options(epochs, batch, seed, metrics, scorer, fdSamples, stopOnFailure, file, resumeFromIt);
        }
    }

    /** One epoch's numbers; {@code frechet} is NaN without a scorer. */
    public record Epoch(int epoch, double dLoss, double gLoss, double dReal, double dFake, double dAccReal, double dAccFake,
                        double frechet, double diversity, double seconds, double samplesPerSecond, List<GanHealth.Finding> findings) {
    }

    /** Every epoch run, and why training stopped early (null if it ran all epochs). */
    public record Result(List<Epoch> epochs, String stopReason) {
        public Epoch last() {
            return epochs.getLast();
        }

        public double[] frechet() {
            return epochs.stream().mapToDouble(Epoch::frechet).toArray();
        }
    }

    /** Progress callbacks; all optional. */
    public interface Listener {
        default void onIteration(int epoch, int iteration, int iterations, double dLoss, double gLoss) {
        }

        default void onEpoch(Epoch e) {
        }

        /**
         * After every epoch: {@link #GRID} samples of the fixed noise, one image in [0, 1] per row
         * (channels x size x size), e.g. to draw them; the tensor is reused, copy what you keep.
         */
        default void onSamples(int epoch, Tensor grid01) {
        }
    }

    /** Fixed-noise grid: 8 x 8 samples. */
    public static final int GRID = 64;
    private static final long FIXED_NOISE = 0x6A09E667F3BCC908L;
    private static final long FD_NOISE = 0xBB67AE8584CAA73BL;
    private static final ObjectMapper JSON = new ObjectMapper();

    private GanTrainer() {
    }

    public static Result fit(Gan gan, Tensor images01, Options o, Listener listener) throws IOException {
        Gan.Config c = gan.config();
        int n = images01.dim(0);
        int k = c.dSteps();
        int batch = Math.min(o.batch(), c.maxBatch());
        if (images01.rowSize() != c.pixels()) {
            throw new IllegalArgumentException("gan: images have " + images01.rowSize() + " values per row, the model expects "
                    + c.channels() + "x" + c.size() + "x" + c.size());
        }
        int iterations = n / (k * batch);
        if (iterations < 1 || batch < 2) {
            throw new IllegalArgumentException("gan: " + n + " images are too few for one iteration of k=" + k + " batches of " + batch);
        }
        Listener l = listener != null ? listener : new Listener() {
        };
        GanHealth health = GanHealth.standard();
        List<Epoch> epochs = new ArrayList<>();
        String stop = null;
        int first = 1;
        if (o.checkpoint() != null && o.resume() && Files.exists(o.checkpoint())) {
            first = restore(gan, o, batch) + 1;
            epochs.addAll(earlierEpochs(o.metrics(), first - 1, health));
        } else if (o.metrics() != null) {
            Files.deleteIfExists(o.metrics());
        }
        try (Workspace ws = new Workspace("gan-train")) {
            Tensor data = ws.allocate(n, c.channels(), c.size(), c.size());
            for (long i = 0; i < data.size(); i++) {
                data.set(i, images01.get(i) * 2f - 1f);
            }
            Tensor real = ws.allocate(batch, c.channels(), c.size(), c.size());
            Tensor fixed = ws.allocate(GRID, c.z());
            Gan.fillGaussian(fixed, new SplittableRandom(FIXED_NOISE));
            Tensor grid = ws.allocate(GRID, c.pixels());
            double realSpread = GanHealth.spread(images01.rows(0, Math.min(n, GRID)));
            int[] order = new int[n];
            for (int epoch = first; epoch <= o.epochs() && stop == null; epoch++) {
                Trainer.shuffle(order, o.seed(), epoch);
                gan.reseed(noiseSeed(o.seed(), epoch));
                long t0 = System.nanoTime();
                double dSum = 0, gSum = 0, pReal = 0, pFake = 0, aReal = 0, aFake = 0;
                for (int it = 0; it < iterations; it++) {
                    double dIt = 0;
                    for (int j = 0; j < k; j++) {
                        Trainer.gather(data, order, (it * k + j) * batch, batch, real);
                        Gan.DStep s = gan.discriminatorStep(real);
                        dIt += s.loss();
                        pReal += s.realProb();
                        pFake += s.fakeProb();
                        aReal += s.realAccuracy();
                        aFake += s.fakeAccuracy();
                    }
                    double gIt = gan.generatorStep(batch);
                    dSum += dIt / k;
                    gSum += gIt;
                    if (!Double.isFinite(dIt) || !Double.isFinite(gIt)) {
                        stop = String.format(Locale.ROOT, "non-finite loss at epoch %d, iteration %d (D %s, G %s): training diverged;"
                                + " lower the learning rate", epoch, it + 1, dIt / k, gIt);
                        break;
                    }
                    l.onIteration(epoch, it + 1, iterations, dIt / k, gIt);
                }
                double seconds = (System.nanoTime() - t0) * 1e-9;
                double steps = (double) iterations * k;
                gan.generate(fixed, grid);
                double diversity = GanHealth.spread(grid) / Math.max(realSpread, 1e-12);
                l.onSamples(epoch, grid);
                double fd = Double.NaN;
                if (o.scorer() != null && stop == null) {
                    try (Workspace fw = new Workspace("gan-fd")) {
                        fd = o.scorer().applyAsDouble(gan.sample(o.fdSamples(), FD_NOISE, fw));
                    }
                }
                List<GanHealth.Finding> findings = health.check(epoch, dSum / iterations, gSum / iterations, diversity);
                Epoch e = new Epoch(epoch, dSum / iterations, gSum / iterations, pReal / steps, pFake / steps, aReal / steps,
                        aFake / steps, fd, diversity, seconds, iterations * (k + 1.0) * batch / seconds, findings);
                epochs.add(e);
                for (GanHealth.Finding f : findings) {
                    if (f.fatal() && (o.stopOnFailure() || f.kind().equals("non_finite")) && stop == null) {
                        stop = f.message();
                    }
                }
                // Checkpoint before the metrics line (as Trainer does): a kill between the two loses a
                // log line, never an epoch, and a resumed run never logs an epoch twice. A diverged
                // epoch is not checkpointed: resuming starts from the last finite state.
                if (o.checkpoint() != null && Double.isFinite(e.dLoss()) && Double.isFinite(e.gLoss())) {
                    checkpoint(gan, o, batch, epoch);
                }
                writeMetrics(o.metrics(), e, stop);
                l.onEpoch(e);
            }
        }
        return new Result(List.copyOf(epochs), stop);
    }

    /** The noise generator's seed for an epoch: with the shuffle's (seed, epoch), the whole random state of a run. */
    static long noiseSeed(long seed, int epoch) {
        return (seed ^ 0x5DEECE66DL) * 0xD1B54A32D192ED03L + epoch;
    }

    private static void checkpoint(Gan gan, Options o, int batch, int epoch) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("kind", Gan.KIND);
        meta.put("config", gan.config().toJson().toString());
        meta.put("seed", Long.toString(o.seed()));
        meta.put("batch", Integer.toString(batch));
        Checkpoint.write(o.checkpoint(), epoch, gan.stateTensors(), gan.optimizers(), meta);
    }

    /** Loads the checkpoint into gan after checking it belongs to this run; returns its epoch. */
    private static int restore(Gan gan, Options o, int batch) throws IOException {
        Path file = o.checkpoint();
        String cfg = gan.config().toJson().toString();
        return Checkpoint.restore(file, gan.stateTensors(), gan.optimizers(), r -> {
            if (!Gan.KIND.equals(r.meta("kind"))) {
                throw new BadInputException(file + ": __metadata__.kind is " + r.meta("kind") + ", not a " + Gan.KIND + " checkpoint");
            }
            if (!cfg.equals(r.meta("config")) || r.intMeta("batch") != batch || !Long.toString(o.seed()).equals(r.meta("seed"))) {
                throw new BadInputException(file + ": the checkpoint was written by a run with config " + r.meta("config") + ", batch "
                        + r.meta("batch") + ", seed " + r.meta("seed") + "; this run has " + cfg + ", batch " + batch + ", seed "
                        + o.seed() + " (resume with the same settings, or use a new --out)");
            }
        }).epoch();
    }

    /**
     * The epochs 1..last of the metrics log (replayed through health so its patience counters carry
     * over); the log is cut after epoch {@code last}, so it never holds an epoch twice.
     */
    private static List<Epoch> earlierEpochs(Path metrics, int last, GanHealth health) throws IOException {
        List<Epoch> out = new ArrayList<>();
        if (metrics == null || !Files.exists(metrics)) {
            return out;
        }
        List<String> kept = new ArrayList<>();
        for (String line : Files.readAllLines(metrics, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode j;
            try {
                j = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                throw new BadInputException(metrics + ": a line is not JSON (" + e.getOriginalMessage() + "): " + line, e);
            }
            int epoch = j.path("epoch").asInt(-1);
            if (epoch < 1 || epoch > last) {
                continue;
            }
            kept.add(line);
            double dLoss = j.path("d_loss").asDouble(Double.NaN);
            double gLoss = j.path("g_loss").asDouble(Double.NaN);
            double diversity = j.path("diversity").asDouble(Double.NaN);
            out.add(new Epoch(epoch, dLoss, gLoss, j.path("d_real").asDouble(Double.NaN), j.path("d_fake").asDouble(Double.NaN),
                    j.path("d_acc_real").asDouble(Double.NaN), j.path("d_acc_fake").asDouble(Double.NaN),
                    j.path("frechet").asDouble(Double.NaN), diversity, j.path("seconds").asDouble(Double.NaN),
                    j.path("samples_per_s").asDouble(Double.NaN), health.check(epoch, dLoss, gLoss, diversity)));
        }
        dev.latent.io.AtomicFiles.write(metrics, tmp -> Files.write(tmp, kept, StandardCharsets.UTF_8));
        return out;
    }

    private static void writeMetrics(Path file, Epoch e, String stop) throws IOException {
        if (file == null) {
            return;
        }
        ObjectNode j = JSON.createObjectNode();
        j.put("epoch", e.epoch());
        j.put("d_loss", e.dLoss());
        j.put("g_loss", e.gLoss());
        j.put("d_real", e.dReal());
        j.put("d_fake", e.dFake());
        j.put("d_acc_real", e.dAccReal());
        j.put("d_acc_fake", e.dAccFake());
        if (Double.isFinite(e.frechet())) {
            j.put("frechet", e.frechet());
        }
        j.put("diversity", e.diversity());
        j.put("seconds", e.seconds());
        j.put("samples_per_s", e.samplesPerSecond());
        ArrayNode w = j.putArray("warnings");
        for (GanHealth.Finding f : e.findings()) {
            w.add(f.kind() + ": " + f.message());
        }
        if (stop != null) {
            j.put("stopped", stop);
        }
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            out.write(j.toString());
            out.write('\n');
        } catch (IOException x) {
            throw dev.latent.io.AtomicFiles.cannotWrite(file, x);
        }
    }
}
