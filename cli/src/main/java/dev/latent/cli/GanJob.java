package dev.latent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.data.Dataset;
import dev.latent.eval.FewLabel;
import dev.latent.io.ModelFile;
import dev.latent.kernel.Kernels;
import dev.latent.model.Hyperparameters;
import dev.latent.model.Hyperparameters.Param;
import dev.latent.eval.FrechetScorer;
import dev.latent.model.gan.Gan;
import dev.latent.eval.GanArithmetic;
import dev.latent.model.gan.GanHealth;
import dev.latent.model.gan.GanTrainer;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.viz.ImageGrid;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code latent train --kind dcgan}: a DCGAN ({@link Gan}). Hyperparameters ({@code --set}):
 * {@link Gan#HYPERPARAMETERS} ({@code z=100}, {@code g1=128}, {@code g2=64}, {@code d1=64}, {@code d2=128},
 * {@code k=1} (D steps per G step), {@code generator_loss=non_saturating|minimax}, {@code lr=2e-4},
 * {@code beta1=0.5}, {@code beta2=0.999}: lr from --set, because --lr's default belongs to the
 * autoencoders), and the job's {@code frechet=true}, {@code frechet_samples=2000}, {@code fewlabel=true},
 * {@code draws=5}, {@code stop_on_failure=true}.
 * With labels and {@code fewlabel}, a stratified 20% test split is held out first and the GAN (and
 * the Frechet classifier) see only the pool. Writes model.safetensors, metrics.jsonl,
 * samples-epoch-NNN.png, samples.png, interpolation.png, arithmetic.png (with labels: {@link GanArithmetic},
 * {@code arithmetic_candidates=2000}) and arithmetic.json, frechet.png, fewlabel.json and, after every
 * epoch, checkpoint.safetensors ({@code --resume} continues from it, bit for bit).
 */
final class GanJob implements TrainJob {

    static final Param<Boolean> FRECHET = Param.bool("frechet", true, "with labels: Frechet distance of samples per epoch");
    static final Param<Integer> FRECHET_SAMPLES = Param.integer("frechet_samples", 2000, 2, Integer.MAX_VALUE,
            "samples per Frechet distance");
    static final Param<Boolean> FEWLABEL = Param.bool("fewlabel", true, "with labels: hold out 20% and run the few-label protocol");
    static final Param<Integer> DRAWS = Param.integer("draws", 5, 1, 1000, "few-label draws per budget");
    static final Param<Boolean> STOP_ON_FAILURE = Param.bool("stop_on_failure", true, "stop when GanHealth sees a failed run");
    static final Param<Integer> ARITHMETIC_CANDIDATES = Param.integer("arithmetic_candidates", 2000, 1, Integer.MAX_VALUE,
            "samples searched for the latent arithmetic");
    private static final Hyperparameters KEYS = Gan.HYPERPARAMETERS.plus(FRECHET, FRECHET_SAMPLES, FEWLABEL, DRAWS, STOP_ON_FAILURE,
            ARITHMETIC_CANDIDATES);

    @Override
    public Hyperparameters hyperparameters() {
        return KEYS;
    }

    @Override
    public String name() {
        return "dcgan";
    }

    @Override
    public String description() {
        return "deep convolutional GAN (generator + discriminator; D's features for few-label)";
    }

    @Override
    public List<String> writes() {
        return List.of("model.safetensors", "checkpoint.safetensors", "metrics.jsonl", "samples.png",
                "samples-epoch-NNN.png (every epoch)", "interpolation.png", "losses.png",
                "frechet.png, arithmetic.png, arithmetic.json, fewlabel.json (with labels)");
    }

    @Override
    public boolean checkpoints() {
        return true;
    }

    /** The tour: half-width networks, 3 epochs, no Frechet distance or few-label table of its own. */
    @Override
    public Tour tour() {
        return new Tour(3, 128, Map.of("z", "32", "g1", "64", "g2", "32", "d1", "32", "d2", "64", "frechet", "false", "fewlabel", "false"), 36);
    }

    @Override
    public int run(TrainCommand.Options o, PrintWriter out) throws Exception {
        Files.createDirectories(o.out());
        Kernels kernels = Kernels.current();
        Gan.Config cfg = Gan.Config.dcgan28().with(o.set()).withMaxBatch(o.batch());
        try (Dataset data = o.data()) {
            if (data.height() != data.width() || data.height() != cfg.size()) {
                throw new IllegalArgumentException("dcgan: images are " + data.height() + "x" + data.width()
                        + ", the networks expect " + cfg.size() + "x" + cfg.size());
            }
            boolean fewLabel = data.hasLabels() && o.get(FEWLABEL);
            FewLabel.Split split = fewLabel ? FewLabel.split(data.labels(), 0.2, o.seed()) : null;
            try (Dataset pool = split != null ? data.subset(data.name() + "-pool", split.pool()) : null) {
                Dataset train = pool != null ? pool : data;
                FrechetScorer scorer = null;
                try {
                    if (train.hasLabels() && o.get(FRECHET)) {
                        System.err.printf(Locale.ROOT, "dcgan: training the Frechet feature classifier on %d labelled images%n", train.size());
                        scorer = FrechetScorer.train(train.images(), train.labels(), train.classes(), FrechetScorer.Settings.standard(),
                                o.seed(), kernels);
                        System.err.printf(Locale.ROOT, "dcgan: feature classifier accuracy %.4f (on its training images)%n",
                                scorer.trainAccuracy());
                    }
                    try (Gan gan = new Gan(cfg, kernels).init(o.seed())) {
                        GanTrainer.Options opts = GanTrainer.Options.of(o.epochs(), o.batch(), o.seed())
                                .withMetrics(o.out().resolve("metrics.jsonl"))
                                .withFrechet(scorer == null ? null : scorer::distance, o.get(FRECHET_SAMPLES))
                                .withStopOnFailure(o.get(STOP_ON_FAILURE))
                                .withCheckpoint(o.out().resolve("checkpoint.safetensors"), o.resume());
                        System.err.printf(Locale.ROOT, "dcgan: %s on %d images (%s), %s kernels%n", cfg.toJson(), train.size(),
                                train.name(), kernels.name());
                        GanTrainer.Result r = GanTrainer.fit(gan, train.images(), opts, new Progress(o.epochs(), o.out(), cfg));
                        Path model = o.out().resolve("model.safetensors");
                        gan.save(model, ModelFile.provenance(Main.version(), o.seed(), ModelFile.sha256(train.images())));
                        try (Workspace ws = new Workspace("dcgan-pictures")) {
                            ImageGrid.images(o.out().resolve("samples.png"), gan.sample(GanTrainer.GRID, o.seed(), ws),
                                    cfg.size(), cfg.size(), 8, 2);
                            ImageGrid.images(o.out().resolve("interpolation.png"), gan.interpolate(8, 10, o.seed() + 1, ws),
                                    cfg.size(), cfg.size(), 10, 2);
                            if (scorer != null) {
                                writeArithmetic(gan, scorer, o, ws, out);
                            }
                        }
                        Map<String, double[]> curves = new LinkedHashMap<>();
                        curves.put("D loss", r.epochs().stream().mapToDouble(GanTrainer.Epoch::dLoss).toArray());
                        curves.put("G loss", r.epochs().stream().mapToDouble(GanTrainer.Epoch::gLoss).toArray());
                        Plots.lines(o.out().resolve("losses.png"), "DCGAN losses", "epoch", "loss", curves);
                        if (scorer != null) {
                            Plots.lines(o.out().resolve("frechet.png"), "Frechet distance (classifier features)", "epoch", "d^2",
                                    Map.of("frechet", r.frechet()));
                        }
                        out.printf(Locale.ROOT, "trained dcgan on %d images: %d epochs, D loss %.4f, G loss %.4f, D(x) %.3f, D(G(z)) %.3f%s%n",
                                train.size(), r.epochs().size(), r.last().dLoss(), r.last().gLoss(), r.last().dReal(), r.last().dFake(),
                                scorer == null ? "" : ", Frechet per epoch " + Arrays.toString(Arrays.stream(r.frechet())
                                        .mapToObj(v -> String.format(Locale.ROOT, "%.1f", v)).toArray()));
                        if (r.stopReason() != null) {
                            out.println("STOPPED: " + r.stopReason());
                        }
                        if (fewLabel) {
                            writeFewLabel(gan, data, split, o, kernels, out);
                        }
                        out.printf("wrote %s, samples.png, interpolation.png, arithmetic.png, samples-epoch-*.png, metrics.jsonl,"
                                + " checkpoint.safetensors in %s%n", model, o.out());
                        return r.stopReason() == null ? 0 : 3;
                    }
                } finally {
                    if (scorer != null) {
                        scorer.close();
                    }
                }
            }
        }
    }

    /** arithmetic.png and arithmetic.json: stroke-thickness vectors, checked by the classifier and ink mass. */
    private static void writeArithmetic(Gan gan, FrechetScorer scorer, TrainCommand.Options o, Workspace ws, PrintWriter out)
            throws Exception {
        GanArithmetic.Result a;
        try {
            a = GanArithmetic.thickness(gan, scorer.classifier(), o.get(ARITHMETIC_CANDIDATES), 3, 0.9, o.seed() + 2,
                    true, ws);
        } catch (IllegalStateException e) {
            out.println("no arithmetic.png: " + e.getMessage());
            return;
        }
        Gan.Config cfg = gan.config();
        ImageGrid.images(o.out().resolve("arithmetic.png"), a.images(), cfg.size(), cfg.size(), GanArithmetic.COLUMNS, 2);
        ObjectMapper m = new ObjectMapper();
        ObjectNode j = m.createObjectNode();
        j.put("columns", "thick(a), thin(a), thin(b), thick(a) - thin(a) + thin(b); z = sqrt(3) x mean of 3 samples per concept");
        j.put("label_kept", a.labelKeptFraction());
        j.put("ink_rose", a.inkRoseFraction());
        j.put("mean_ink_ratio", a.meanInkRatio());
        ArrayNode rows = j.putArray("rows");
        for (GanArithmetic.Row r : a.rows()) {
            ObjectNode row = rows.addObject();
            row.put("a", r.from());
            row.put("b", r.to());
            row.put("result_label", r.resultLabel());
            row.put("result_confidence", r.resultConfidence());
            row.put("ink_thick_a", r.inkThickFrom());
            row.put("ink_thin_a", r.inkThinFrom());
            row.put("ink_thin_b", r.inkThinTo());
            row.put("ink_result", r.inkResult());
        }
        dev.latent.io.AtomicFiles.writeString(o.out().resolve("arithmetic.json"), m.writerWithDefaultPrettyPrinter().writeValueAsString(j));
        out.printf(Locale.ROOT, "latent arithmetic thick(a) - thin(a) + thin(b), %d rows: classifier still sees b in %.0f%%,"
                + " ink above thin(b) in %.0f%%, mean ink ratio %.2f%n", a.rows().size(), 100 * a.labelKeptFraction(),
                100 * a.inkRoseFraction(), a.meanInkRatio());
    }

    private static void writeFewLabel(Gan gan, Dataset data, FewLabel.Split split, TrainCommand.Options o, Kernels kernels,
                                      PrintWriter out) throws Exception {
        int[] budgets = {1, 10, 100};
        System.err.printf(Locale.ROOT, "dcgan: few-label protocol, D features (%d) vs pixels, n = %s per class%n",
                gan.featureSize(), Arrays.toString(budgets));
        List<FewLabel.Result> results;
        try (Workspace ws = new Workspace("dcgan-fewlabel")) {
            Tensor pool = FewLabel.gather(data.images(), split.pool(), ws);
            Tensor test = FewLabel.gather(data.images(), split.test(), ws);
            int[] poolLabels = FewLabel.labelsOf(data, split.pool());
            int[] testLabels = FewLabel.labelsOf(data, split.test());
            List<FewLabel.Row> rows = List.of(
                    new FewLabel.Row("softmax on raw pixels", "raw",
                            FewLabel.pixels(pool, test, testLabels, data.classes(), kernels, ws)),
                    new FewLabel.Row("softmax on D features (gan-d, " + gan.featureSize() + ")", "gan-d",
                            FewLabel.frozen(gan, pool, test, testLabels, data.classes(), kernels, ws)));
            results = FewLabel.run(poolLabels, budgets, o.get(DRAWS), rows, System.err::println);
        }
        out.println("few-label test accuracy (" + split.test().length + " test images):");
        FewLabel.printTable(out, Checks.finite(results));
        ObjectMapper m = new ObjectMapper();
        ObjectNode a = m.createObjectNode();
        a.set("methods", FewLabel.json(results));
        a.put("pool", split.pool().length);
        a.put("test", split.test().length);
        dev.latent.io.AtomicFiles.writeString(o.out().resolve("fewlabel.json"), m.writerWithDefaultPrettyPrinter().writeValueAsString(a));
    }

    /** One stderr line per epoch, with the findings of {@link GanHealth} as warnings. */
    private static final class Progress implements GanTrainer.Listener {
        private final int epochs;
        private final Path out;
        private final Gan.Config cfg;

        Progress(int epochs, Path out, Gan.Config cfg) {
            this.epochs = epochs;
            this.out = out;
            this.cfg = cfg;
        }

        @Override
        public void onSamples(int epoch, Tensor grid01) {
            try {
                ImageGrid.images(out.resolve(String.format(Locale.ROOT, "samples-epoch-%03d.png", epoch)), grid01,
                        cfg.size(), cfg.size() * cfg.channels(), 8, 2);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        @Override
        public void onIteration(int epoch, int iteration, int iterations, double dLoss, double gLoss) {
            Interruption.progress("dcgan", epoch, epochs, iteration, iterations);
        }

        @Override
        public void onEpoch(GanTrainer.Epoch e) {
            Interruption.epochDone();
            System.err.printf(Locale.ROOT, "dcgan epoch %d/%d  D %.4f  G %.4f  D(x) %.3f  D(G(z)) %.3f  acc real %.3f fake %.3f%s"
                            + "  spread %.2f  %.1fs%n", e.epoch(), epochs, e.dLoss(), e.gLoss(), e.dReal(), e.dFake(), e.dAccReal(),
                    e.dAccFake(), Double.isNaN(e.frechet()) ? "" : String.format(Locale.ROOT, "  Frechet %.2f", e.frechet()),
                    e.diversity(), e.seconds());
            for (GanHealth.Finding f : e.findings()) {
                System.err.println("WARNING " + f.kind() + ": " + f.message());
            }
        }
    }
}
