package dev.latent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.data.Dataset;
import dev.latent.data.NaturalPatches;
import dev.latent.eval.FewLabel;
import dev.latent.io.BadInputException;
import dev.latent.io.ModelFile;
import dev.latent.kernel.Kernels;
import dev.latent.model.Hyperparameters;
import dev.latent.model.Hyperparameters.Param;
import dev.latent.model.selfsup.SelfSupervised;
import dev.latent.model.selfsup.SelfSupervised.Pretext;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.History;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code latent train --kind contrastive|exemplar|patch-position}: a self-supervised conv encoder
 * ({@link SelfSupervised}; hyperparameters {@link SelfSupervised#hyperparameters}). On labelled data a
 * stratified 20% test split (seed --seed) is held out first and the model learns from the pool only;
 * with {@code fewlabel=true} the few-label table (raw pixels vs the features) follows. With
 * {@code natural=N} it learns instead from N grey 32x32 patches of the shared natural photographs.
 * Writes model.safetensors, metrics.jsonl (one line per epoch), filters.png, loss.png and, after a
 * few-label run, fewlabel.json, neighbours.png and pca.png (see {@link SelfSupervisedPictures}).
 */
final class SelfSupervisedJob implements TrainJob {

    static final Param<Boolean> FEWLABEL = Param.bool("fewlabel", true, "labelled data: print the few-label table after training");
    static final Param<Integer> DRAWS = Param.integer("draws", 5, 1, 100, "few-label draws per budget");
    static final Param<Integer> NATURAL = Param.integer("natural", 0, 0, 1 << 20,
            "learn from this many 32x32 grey patches of shared/data/natural-images instead of the data set (0: off)");

    private final Pretext pretext;

    SelfSupervisedJob(Pretext pretext) {
        this.pretext = pretext;
    }

    @Override
    public String name() {
        return pretext.kind();
    }

    @Override
    public String description() {
        return switch (pretext) {
            case CONTRASTIVE -> "SimCLR-style contrastive conv encoder (NT-Xent between two augmentations of each image)";
            case EXEMPLAR -> "Exemplar-CNN: each of N images its own surrogate class under random augmentation";
            case PATCH_POSITION -> "relative position of two patches (Doersch 2015), features of a 3x3 patch grid";
        };
    }

    @Override
    public List<String> writes() {
        return List.of("model.safetensors", "metrics.jsonl", "filters.png", "loss.png", "neighbours.png, pca.png, fewlabel.json (with labels)");
    }

    @Override
    public Hyperparameters hyperparameters() {
        return SelfSupervised.hyperparameters(pretext).plus(FEWLABEL, DRAWS, NATURAL);
    }

    /** The tour: a narrow encoder (8 and 16 channels, a 64-unit head), no few-label table of its own. */
    @Override
    public Tour tour() {
        return switch (pretext) {
            case CONTRASTIVE -> new Tour(3, 128, Map.of("channels", "8,16", "hidden", "64", "dim", "32", "fewlabel", "false"), 16);
            case EXEMPLAR -> new Tour(3, 128, Map.of("channels", "8,16", "hidden", "64", "classes", "2000", "fewlabel", "false"), 6);
            case PATCH_POSITION -> new Tour(4, 128, Map.of("channels", "8,16", "hidden", "64", "fewlabel", "false"), 5);
        };
    }

    @Override
    public int run(TrainCommand.Options o, PrintWriter out) throws Exception {
        Files.createDirectories(o.out());
        Kernels k = Kernels.current();
        int natural = o.get(NATURAL);
        try (Dataset data = natural > 0 ? null : o.data(); Workspace ws = new Workspace(pretext.kind() + "-job")) {
            Tensor train;
            int side;
            FewLabel.Split split = null;
            String what;
            if (natural > 0) {
                side = 32;
                train = NaturalPatches.sample(NaturalPatches.images(NaturalImages.find()), side, natural, o.seed(), ws);
                what = natural + " natural 32x32 patches";
            } else {
                if (data.height() != data.width()) {
                    throw new BadInputException(pretext.kind() + " needs square images, got " + data.height() + "x" + data.width());
                }
                side = data.height();
                if (data.hasLabels()) {
                    split = FewLabel.split(data.labels(), 0.2, o.seed());
                    train = FewLabel.gather(data.images(), split.pool(), ws);
                    what = split.pool().length + " unlabeled pool images of " + data.name() + " (" + split.test().length + " held out)";
                } else {
                    train = data.images();
                    what = data.size() + " images of " + data.name();
                }
            }
            SelfSupervised.Config cfg = new SelfSupervised.Config(pretext, new int[] {1, side, side}, o.set(), o.batch());
            long t0 = System.nanoTime();
            try (SelfSupervised m = new SelfSupervised(cfg, k).init(o.seed())) {
                History h = m.fit(train, o.epochs(), o.lr(), o.seed(), new ConsoleProgress(pretext.kind()));
                double seconds = (System.nanoTime() - t0) * 1e-9;
                writeMetrics(o.out().resolve("metrics.jsonl"), h);
                Path model = o.out().resolve("model.safetensors");
                Map<String, String> prov = ModelFile.provenance(Main.version(), o.seed(), ModelFile.sha256(train));
                m.save(model, prov);
                SelfSupervisedPictures.filters(o.out().resolve("filters.png"), m);
                Map<String, double[]> series = new LinkedHashMap<>();
                series.put(pretext.kind() + " loss", h.epochs().stream().mapToDouble(e -> e.trainLoss()).toArray());
                Plots.lines(o.out().resolve("loss.png"), pretext.kind() + " on " + what, "epoch", "pretext loss", series);
                out.printf(Locale.ROOT, "trained %s on %s in %.0f s: loss %.4f -> %.4f, %d features; wrote %s%n", pretext.kind(), what,
                        seconds, h.epochs().get(0).trainLoss(), h.last().trainLoss(), m.featureSize(), model);
                if (split != null && o.get(FEWLABEL)) {
                    fewLabel(m, data, split, o, k, out);
                }
            }
        }
        return 0;
    }

    private static void writeMetrics(Path file, History h) throws java.io.IOException {
        ObjectMapper json = new ObjectMapper();
        StringBuilder b = new StringBuilder();
        for (var e : h.epochs()) {
            ObjectNode n = json.createObjectNode();
            n.put("epoch", e.epoch());
            n.put("train_loss", e.trainLoss());
            n.put("seconds", e.seconds());
            b.append(n).append('\n');
        }
        dev.latent.io.AtomicFiles.writeString(file, b);
    }

    private void fewLabel(SelfSupervised m, Dataset data, FewLabel.Split split, TrainCommand.Options o, Kernels k, PrintWriter out)
            throws Exception {
        int[] budgets = {1, 10, 100};
        List<FewLabel.Result> results;
        try (Workspace ws = new Workspace(pretext.kind() + "-fewlabel")) {
            Tensor pool = FewLabel.gather(data.images(), split.pool(), ws);
            Tensor test = FewLabel.gather(data.images(), split.test(), ws);
            int[] poolLabels = FewLabel.labelsOf(data, split.pool());
            int[] testLabels = FewLabel.labelsOf(data, split.test());
            Tensor testFeatures = m.features(test, ws);
            SelfSupervisedPictures.neighbours(o.out().resolve("neighbours.png"), m, test, testFeatures, data.height(), 8, 8, ws);
            SelfSupervisedPictures.pca(o.out().resolve("pca.png"), testFeatures, testLabels, pretext.kind() + " features of "
                    + test.dim(0) + " test images, first two principal components");
            List<FewLabel.Row> rows = List.of(
                    new FewLabel.Row("softmax on raw pixels", "raw", FewLabel.pixels(pool, test, testLabels, data.classes(), k, ws)),
                    new FewLabel.Row("softmax on " + pretext.kind() + " features (" + m.featureSize() + ")", pretext.kind(),
                            FewLabel.frozen(m, pool, test, testLabels, data.classes(), k, ws)));
            results = FewLabel.run(poolLabels, budgets, o.get(DRAWS), rows, System.err::println);
        }
        out.println("few-label test accuracy (" + split.test().length + " test images):");
        FewLabel.printTable(out, Checks.finite(results));
        ObjectMapper json = new ObjectMapper();
        ObjectNode a = json.createObjectNode();
        a.set("methods", FewLabel.json(results));
        a.put("pool", split.pool().length);
        a.put("test", split.test().length);
        dev.latent.io.AtomicFiles.writeString(o.out().resolve("fewlabel.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(a));
    }
}
