package dev.latent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.data.Dataset;
import dev.latent.data.MovingMnist;
import dev.latent.eval.FewLabel;
import dev.latent.kernel.Kernels;
import dev.latent.model.sequence.FramePredictor;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.viz.ImageGrid;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latent frames}: learning by predicting the next frames. Trains the LSTM encoder-predictor
 * ({@link FramePredictor}) on Moving MNIST made from the training digits, reports the squared error
 * of every predicted frame against the copy-last-frame baseline on held-out sequences made from the
 * test digits, draws input, predicted and true frames, and puts the encoder's state of one-digit
 * sequences into the few-label table beside raw pixels.
 */
@Command(name = "frames", mixinStandardHelpOptions = true,
        description = {"Train the LSTM encoder-predictor of Srivastava et al. (2015) on Moving MNIST and compare its predicted frames",
                "with the copy-last-frame baseline; its sequence features in the few-label table.",
                "Writes frames.json and frames.png to --out."})
final class FramesCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "out/frames", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--input", paramLabel = "FILE", description = "IDX digit images (default: the embedded 10,000 MNIST digits).")
    Path images;

    @Option(names = "--labels", paramLabel = "FILE", description = "IDX labels matching --input.")
    Path labels;

    /** The old spelling of --input, kept hidden so scripts keep working. */
    @Option(names = "--images", hidden = true)
    void images(Path file) {
        images = file;
    }

    @Option(names = "--frame-size", defaultValue = "16", description = "Frame side in pixels (default: ${DEFAULT-VALUE}; the paper: 64).")
    int frameSize;

    @Option(names = "--digit-size", defaultValue = "10", description = "Digits resized to this side (default: ${DEFAULT-VALUE}; the paper: 28).")
    int digitSize;

    @Option(names = "--digits", defaultValue = "2", description = "Digits per sequence (default: ${DEFAULT-VALUE}).")
    int digits;

    @Option(names = "--speed", defaultValue = "1.5", description = "Pixels a digit moves per frame (default: ${DEFAULT-VALUE}).")
    double speed;

    @Option(names = "--input-frames", defaultValue = "6", description = "Frames the encoder reads (default: ${DEFAULT-VALUE}).")
    int inputFrames;

    @Option(names = "--output-frames", defaultValue = "4", description = "Future frames predicted (default: ${DEFAULT-VALUE}).")
    int outputFrames;

    @Option(names = "--hidden", defaultValue = "256", description = "LSTM units (default: ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--epochs", defaultValue = "10", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--sequences", defaultValue = "8000", description = "Fresh training sequences per epoch (default: ${DEFAULT-VALUE}).")
    int sequences;

    @Option(names = "--test-sequences", defaultValue = "1000", description = "Held-out sequences scored (default: ${DEFAULT-VALUE}).")
    int testSequences;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--budgets", split = ",", defaultValue = "1,10,100",
            description = "Few-label budgets, labels per class (default: ${DEFAULT-VALUE}); 0 skips the table.")
    List<Integer> budgets;

    @Option(names = "--draws", defaultValue = "5", description = "Few-label draws per budget (default: ${DEFAULT-VALUE}).")
    int draws;

    @Option(names = "--seed", defaultValue = "1", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        if ((images == null) != (labels == null)) {
            throw new IllegalArgumentException("--input and --labels go together");
        }
        Checks.atLeast("--frame-size", frameSize, 1);
        Checks.atLeast("--digit-size", digitSize, 1);
        if (digitSize > frameSize) {
            throw new IllegalArgumentException("--digit-size " + digitSize + " is larger than --frame-size " + frameSize);
        }
        Checks.atLeast("--digits", digits, 1);
        Checks.atLeast("--input-frames", inputFrames, 1);
        Checks.atLeast("--output-frames", outputFrames, 1);
        Checks.atLeast("--hidden", hidden, 1);
        Checks.atLeast("--epochs", epochs, 1);
        Checks.atLeast("--sequences", sequences, 1);
        Checks.atLeast("--test-sequences", testSequences, 1);
        Checks.atLeast("--draws", draws, 1);
        if (!(speed >= 0 && speed <= frameSize)) {
            throw new IllegalArgumentException("--speed must be in [0, " + frameSize + "], got " + speed);
        }
        if (!(lr > 0 && lr < 1)) {
            throw new IllegalArgumentException("--lr must be in (0, 1), got " + lr);
        }
        for (int b : budgets) {
            if (b < 0) {
                throw new IllegalArgumentException("--budgets: labels per class must be >= 0, got " + b);
            }
        }
        Checks.outputDirectory("--out", out, List.of("frames.json", "frames.png"), images, labels);
        Files.createDirectories(out);
        PrintWriter stdout = spec.commandLine().getOut();
        Kernels k = Kernels.current();
        long t0 = System.nanoTime();
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        int frames = inputFrames + outputFrames;
        MovingMnist.Config mc = new MovingMnist.Config(frames, digits, frameSize, digitSize, speed);
        int p = mc.pixels();
        try (Dataset all = images == null ? Dataset.embeddedMnist() : Dataset.readIdx(images, labels)) {
            if (!all.hasLabels()) {
                throw new IllegalArgumentException("--labels: the few-label table needs labels");
            }
            FewLabel.Split split = FewLabel.split(all.labels(), 0.2, seed);
            try (Dataset pool = all.subset("pool", split.pool()); Dataset test = all.subset("test", split.test());
                 FramePredictor model = new FramePredictor(new FramePredictor.Config(inputFrames, outputFrames, p, hidden, 64, lr), k, seed);
                 Workspace ws = new Workspace("frames")) {
                root.put("data", all.name());
                root.put("kernels", k.name());
                root.put("moving_mnist", mc.toString());
                MovingMnist trainGen = MovingMnist.of(pool, mc);
                MovingMnist testGen = MovingMnist.of(test, mc);
                long tTrain = System.nanoTime();
                ArrayNode curve = root.putArray("epochs");
                model.fit(trainGen, seed, sequences, epochs, (e, n, loss, s) -> {
                    System.err.printf(Locale.ROOT, "frame predictor epoch %d/%d  cross-entropy %.4f  %.1fs%n", e, n, loss, s);
                    curve.addObject().put("epoch", e).put("loss", loss).put("seconds", s);
                });
                double trainSeconds = (System.nanoTime() - tTrain) * 1e-9;
                Tensor seqs = testGen.generate(seed + 1_000_003L, 0, testSequences, ws);
                Tensor input = ws.allocate(testSequences, inputFrames, p);
                for (int i = 0; i < testSequences; i++) {
                    input.row(i).copyFrom(seqs.row(i).rows(0, inputFrames));
                }
                Tensor pred = ws.allocate(testSequences, outputFrames, p);
                model.predict(input, pred);
                double[] lstmErr = new double[outputFrames];
                double[] copyErr = new double[outputFrames];
                double[] meanErr = new double[outputFrames];
                for (int i = 0; i < testSequences; i++) {
                    Tensor s = seqs.row(i);
                    for (int f = 0; f < outputFrames; f++) {
                        for (int j = 0; j < p; j++) {
                            double truth = s.get((long) (inputFrames + f) * p + j);
                            double dm = pred.get(((long) i * outputFrames + f) * p + j) - truth;
                            double dc = s.get((long) (inputFrames - 1) * p + j) - truth;
                            double avg = 0;
                            for (int g = 0; g < inputFrames; g++) {
                                avg += s.get((long) g * p + j);
                            }
                            double da = avg / inputFrames - truth;
                            meanErr[f] += da * da;
                            lstmErr[f] += dm * dm;
                            copyErr[f] += dc * dc;
                        }
                    }
                }
                ArrayNode perFrame = root.putArray("per_frame");
                stdout.printf(Locale.ROOT, "squared error per predicted frame (sum over %d pixels, mean over %d test sequences)%n", p, testSequences);
                stdout.printf(Locale.ROOT, "%-8s %-12s %-12s %-16s %s%n", "frame", "LSTM", "copy-last", "mean of inputs", "LSTM / copy-last");
                double sm = 0;
                double sc = 0;
                double sa = 0;
                for (int f = 0; f < outputFrames; f++) {
                    lstmErr[f] /= testSequences;
                    copyErr[f] /= testSequences;
                    meanErr[f] /= testSequences;
                    sm += lstmErr[f];
                    sc += copyErr[f];
                    sa += meanErr[f];
                    stdout.printf(Locale.ROOT, "t+%-6d %-12.3f %-12.3f %-16.3f %.3f%n", f + 1, lstmErr[f], copyErr[f], meanErr[f],
                            lstmErr[f] / copyErr[f]);
                    perFrame.addObject().put("frame", f + 1).put("lstm", lstmErr[f]).put("copy_last", copyErr[f])
                            .put("mean_of_inputs", meanErr[f]);
                }
                stdout.printf(Locale.ROOT, "%-8s %-12.3f %-12.3f %-16.3f %.3f%n", "mean", sm / outputFrames, sc / outputFrames,
                        sa / outputFrames, sm / sc);
                root.put("mean_of_inputs_mean", sa / outputFrames);
                root.put("lstm_mean", sm / outputFrames);
                root.put("copy_last_mean", sc / outputFrames);
                root.put("train_seconds", trainSeconds);
                writeFrames(seqs, pred, mc);
                List<Integer> bs = budgets.stream().filter(b -> b > 0).toList();
                if (!bs.isEmpty()) {
                    // one-digit sequences of every pool and test digit; features: the encoder's final state
                    MovingMnist one = MovingMnist.of(pool, mc.withDigits(1));
                    MovingMnist oneTest = MovingMnist.of(test, mc.withDigits(1));
                    Tensor poolSeq = one.single(java.util.stream.IntStream.range(0, pool.size()).toArray(), seed + 7, ws);
                    Tensor testSeq = oneTest.single(java.util.stream.IntStream.range(0, test.size()).toArray(), seed + 8, ws);
                    Tensor poolF = ws.allocate(pool.size(), hidden);
                    Tensor testF = ws.allocate(test.size(), hidden);
                    model.encode(poolSeq, poolF);
                    model.encode(testSeq, testF);
                    Tensor poolLast = lastInputFrame(poolSeq, ws);
                    Tensor testLast = lastInputFrame(testSeq, ws);
                    int classes = all.classes();
                    List<FewLabel.Row> rows = new ArrayList<>();
                    rows.add(new FewLabel.Row("pixels of the digit (28x28)", "pixels", FewLabel.pixels(pool.images(), test.images(),
                            test.labels(), classes, k, ws)));
                    rows.add(new FewLabel.Row("pixels of the sequence's last input frame", "frame", FewLabel.pixels(poolLast, testLast,
                            test.labels(), classes, k, ws)));
                    rows.add(new FewLabel.Row("LSTM encoder state of a one-digit sequence", "lstm", FewLabel.frozen(poolF, testF,
                            test.labels(), classes, k)));
                    List<FewLabel.Result> results = FewLabel.run(pool.labels(), bs.stream().mapToInt(Integer::intValue).toArray(), draws,
                            rows, System.err::println);
                    FewLabel.printTable(stdout, results);
                    root.set("few_label", FewLabel.json(results));
                }
            }
        }
        root.put("seconds", (System.nanoTime() - t0) * 1e-9);
        dev.latent.io.AtomicFiles.write(out.resolve("frames.json"), tmp -> json.writeValue(tmp.toFile(), root));
        stdout.printf(Locale.ROOT, "wrote %s/frames.json and frames.png in %.0f s%n", out, (System.nanoTime() - t0) * 1e-9);
        stdout.flush();
        return 0;
    }

    private Tensor lastInputFrame(Tensor seqs, Workspace ws) {
        int n = seqs.dim(0);
        Tensor t = ws.allocate(n, seqs.dim(2));
        for (int i = 0; i < n; i++) {
            t.row(i).copyFrom(seqs.row(i).row(inputFrames - 1));
        }
        return t;
    }

    /** Per sequence three rows: the input and true future frames, then the inputs again with the predicted future. */
    private void writeFrames(Tensor seqs, Tensor pred, MovingMnist.Config mc) throws Exception {
        int shown = Math.min(4, seqs.dim(0));
        int frames = inputFrames + outputFrames;
        int p = mc.pixels();
        try (Workspace ws = new Workspace("frames-picture")) {
            Tensor grid = ws.allocate(shown * 3 * frames, p);
            int at = 0;
            for (int i = 0; i < shown; i++) {
                for (int f = 0; f < frames; f++) {
                    grid.row(at++).copyFrom(seqs.row(i).row(f));
                }
                for (int f = 0; f < frames; f++) {
                    if (f < inputFrames) {
                        grid.row(at++).copyFrom(seqs.row(i).row(f));
                    } else {
                        grid.row(at++).copyFrom(pred.row(i).row(f - inputFrames));
                    }
                }
                for (int f = 0; f < frames; f++) {
                    Tensor r = grid.row(at++);
                    if (f < inputFrames) {
                        r.fill(0f);
                    } else {
                        r.copyFrom(seqs.row(i).row(inputFrames - 1));
                    }
                }
            }
            ImageGrid.images(out.resolve("frames.png"), grid, mc.size(), mc.size(), frames, 4);
        }
    }
}
