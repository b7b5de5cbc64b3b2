package dev.latent.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.viz.ImageGrid;
import java.io.IOException;
import java.io.Writer;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

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
 * only warns, if {@code stopOnFailure} is off); a non-finite loss stops it at once.
 */
public final class GanTrainer {

    /** What to run and where to write (null paths and scorer: skip). */
    public record Options(int epochs, int batch, long seed, Path metrics, Path samplesDir, FrechetScorer scorer,
                          int fdSamples, boolean stopOnFailure) {
        public static Options of(int epochs, int batch, long seed) {
            return new Options(epochs, batch, seed, null, null, null, 1000, true);
        }

        public Options withMetrics(Path p) {
            return new Options(epochs, batch, seed, p, samplesDir, scorer, fdSamples, stopOnFailure);
        }

        public Options withSamples(Path dir) {
            return new Options(epochs, batch, seed, metrics, dir, scorer, fdSamples, stopOnFailure);
        }

        public Options withFrechet(FrechetScorer s, int samples) {
            return new Options(epochs, batch, seed, metrics, samplesDir, s, samples, stopOnFailure);
        }

        public Options withStopOnFailure(boolean stop) {
            return new Options(epochs, batch, seed, metrics, samplesDir, scorer, fdSamples, stop);
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
        if (o.metrics() != null) {
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
            for (int epoch = 1; epoch <= o.epochs() && stop == null; epoch++) {
                shuffle(order, o.seed(), epoch);
                long t0 = System.nanoTime();
                double dSum = 0, gSum = 0, pReal = 0, pFake = 0, aReal = 0, aFake = 0;
                for (int it = 0; it < iterations; it++) {
                    double dIt = 0;
                    for (int j = 0; j < k; j++) {
                        gather(data, order, (it * k + j) * batch, batch, real);
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
                if (o.samplesDir() != null) {
                    ImageGrid.images(o.samplesDir().resolve(String.format(Locale.ROOT, "samples-epoch-%03d.png", epoch)), grid,
                            c.size(), c.size() * c.channels(), 8, 2);
                }
                double fd = Double.NaN;
                if (o.scorer() != null && stop == null) {
                    try (Workspace fw = new Workspace("gan-fd")) {
                        fd = o.scorer().distance(gan.sample(o.fdSamples(), FD_NOISE, fw));
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
                writeMetrics(o.metrics(), e, stop);
                l.onEpoch(e);
            }
        }
        return new Result(List.copyOf(epochs), stop);
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
        }
    }

    /** Fisher-Yates shuffle of 0..n-1 from a generator seeded by (seed, epoch). */
    static void shuffle(int[] order, long seed, int epoch) {
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

    private static void gather(Tensor src, int[] order, int from, int size, Tensor dst) {
        long row = src.rowSize();
        MemorySegment s = src.segment();
        MemorySegment d = dst.segment();
        for (int i = 0; i < size; i++) {
            MemorySegment.copy(s, (src.offset() + order[from + i] * row) * Float.BYTES,
                    d, (dst.offset() + i * row) * Float.BYTES, row * Float.BYTES);
        }
    }
}
