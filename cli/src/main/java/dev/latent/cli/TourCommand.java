package dev.latent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.data.Dataset;
import dev.latent.eval.FewLabel;
import dev.latent.io.BadInputException;
import dev.latent.kernel.Kernels;
import dev.latent.model.FeatureExtractor;
import dev.latent.serve.ModelKinds;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latent tour}: one small instance of every learner latent has, one after another, and one report.
 * Each kind of {@link TrainCommand#JOBS} is trained by {@code latent train}'s own code (a {@link TrainCommand}
 * given the options of its {@link TrainJob#tour}: few epochs, small widths, fewer patches) into
 * {@code --out}/KIND/, so a newly registered kind joins the tour; then the next-frame sequence model
 * ({@link FramesCommand}) small, into {@code --out}/frames/. With labels, the data is split 80/20
 * (stratified, {@code --seed}) first: every kind learns from the pool's images alone (no labels), and its
 * model file, read back through the feature interface ({@link ModelKinds#load}, as {@code latent fewlabel}
 * reads it), is scored by {@code latent fewlabel}'s head on the held-out images with 10 labels per class
 * (one draw), beside raw pixels. A kind that fails is one row saying why in one line; the others go on,
 * and the exit code is then {@value #EXIT_SOME_FAILED}. Progress with an ETA goes to stderr, the table to
 * stdout, and both to tour.json and report.html in {@code --out}.
 */
@Command(name = "tour", mixinStandardHelpOptions = true,
        description = {"Train one small instance of every model kind, and the next-frame sequence model, in a few minutes; one report.",
                "Each kind is trained as 'latent train --kind KIND' trains it, with small settings, into --out/KIND/ (its files, as train"
                        + " --help lists them, and output.txt, what train printed); the sequence model into --out/frames/ (frames.json,"
                        + " frames.png, report.html, output.txt). With labels, each model's features are scored with 10 labels per class"
                        + " (one draw) beside raw pixels.",
                "Writes tour.json and report.html (every kind's pictures and the table) to --out; prints the table.",
                "Exit code 1 when a kind failed (its row says why; the others' results are kept)."})
final class TourCommand implements Callable<Integer> {

    /** Exit code of a tour in which a kind failed (the others' results are written). */
    static final int EXIT_SOME_FAILED = 1;
    /** The name of the sequence model in --kinds and in the table. */
    static final String FRAMES = "frames";
    /** Labels per class of the few-label column (one draw). */
    static final int LABELS_PER_CLASS = 10;
    /** Images --quick keeps (the first ones). */
    static final int QUICK_IMAGES = 1000;
    private static final double FRAMES_SECONDS = 20;
    /** About the seconds of one few-label score (features of the pool and test images, one head). */
    private static final double FEWLABEL_SECONDS = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "tour", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--input", paramLabel = "FILE", description = "IDX image file (default: the embedded 10,000 MNIST digits).")
    Path images;

    @Option(names = "--labels", paramLabel = "FILE", description = "IDX label file matching --input (optional; without it, no few-label"
            + " column and no sequence model, which needs labels).")
    Path labels;

    @Option(names = "--kinds", paramLabel = "KIND", split = ",", splitSynopsisLabel = ",",
            description = "Only these, in this order: kinds of latent train --kind, and frames (default: all of them).")
    List<String> kinds;

    @Option(names = "--quick", description = "A smoke test in under a minute: the first " + QUICK_IMAGES + " images, one epoch of each kind,"
            + " a tiny sequence model.")
    boolean quick;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of the split and of every model (default: ${DEFAULT-VALUE}).")
    long seed;

    /**
     * One line of the table: a kind, how it went ({@code ok}, {@code failed}, {@code skipped}), its seconds,
     * its final loss or metric, its few-label accuracy (NaN: none).
     */
    record Row(String kind, String status, String note, double seconds, String metric, double accuracy, String settings) {
        boolean ok() {
            return !status.equals("failed");
        }
    }

    @Override
    public Integer call() throws Exception {
        List<String> chosen = chosenKinds();
        if (images == null && labels != null) {
            throw new BadInputException("--labels needs --input");
        }
        Checks.outputDirectory("--out", out, List.of(Report.FILE, "tour.json"), images, labels);
        PrintWriter stdout = spec.commandLine().getOut();
        Kernels k = Kernels.current();
        long t0 = System.nanoTime();
        List<Row> rows = new ArrayList<>();
        double pixels = Double.NaN;
        String pixelsNote = null;
        String what;
        Interruption.resumable(false); // a signal stops the whole tour: its line says to run the tour again, not --resume
        Path tmp = null;
        try (Dataset loaded = DataOptions.nonEmpty(images == null ? Dataset.embeddedMnist() : Dataset.readIdx(images, labels), "--input", images);
             Dataset all = quick ? loaded.subset("the first " + Math.min(QUICK_IMAGES, loaded.size()) + " of " + loaded.name(),
                     IntStream.range(0, Math.min(QUICK_IMAGES, loaded.size())).toArray()) : loaded;
             Workspace ws = new Workspace("tour")) {
            FewLabel.Split split = all.hasLabels() ? FewLabel.split(all.labels(), 0.2, seed) : null;
            int[] poolRows = split != null ? split.pool() : IntStream.range(0, all.size()).toArray();
            Tensor pool = FewLabel.gather(all.images(), poolRows, ws);
            Tensor test = split != null ? FewLabel.gather(all.images(), split.test(), ws) : null;
            int[] poolLabels = split != null ? FewLabel.labelsOf(all, split.pool()) : null;
            int[] testLabels = split != null ? FewLabel.labelsOf(all, split.test()) : null;
            what = split != null ? String.format(Locale.ROOT, "%d unlabeled pool images of %s (%d held out for the few-label column)",
                    pool.dim(0), all.name(), test.dim(0)) : all.size() + " unlabeled images of " + all.name();
            // the kinds read their data as train does, from IDX files: the pool's images (no labels); the
            // sequence model all of it with labels (it splits it as the tour did: the same seed, the same pool)
            Files.createDirectories(out);
            tmp = Files.createTempDirectory(out, ".tour-data-");
            Path poolImages = tmp.resolve("pool-images.idx");
            writeIdx(poolImages, null, pool, null, all.height(), all.width());
            Path allImages = images;
            Path allLabels = labels;
            if (quick) {
                allImages = tmp.resolve("images.idx");
                allLabels = all.hasLabels() ? tmp.resolve("labels.idx") : null;
                writeIdx(allImages, allLabels, all.images(), all.hasLabels() ? all.labels() : null, all.height(), all.width());
            }
            System.err.printf(Locale.ROOT, "tour: %d learners on %s, %s kernels%n", chosen.size(), what, k.name());
            if (split != null) {
                try {
                    pixels = fewLabel("raw pixels", FewLabel.pixels(pool, test, testLabels, all.classes(), k, ws), poolLabels);
                } catch (RuntimeException e) {
                    pixelsNote = Main.describe(e, false).line();
                    System.err.println("tour: no few-label column: " + pixelsNote);
                }
            }
            boolean scored = !Double.isNaN(pixels);
            double plan = 0;
            for (String c : chosen) {
                plan += estimate(c, scored);
            }
            double done = 0;
            for (int i = 0; i < chosen.size(); i++) {
                String c = chosen.get(i);
                System.err.printf(Locale.ROOT, "tour: %d/%d %s%n", i + 1, chosen.size(), c);
                Row r;
                if (c.equals(FRAMES)) {
                    r = frames(allImages, allLabels, all.hasLabels(), scored);
                } else {
                    TrainJob job = TrainCommand.JOBS.stream().filter(j -> j.name().equals(c)).findFirst().orElseThrow();
                    r = train(job, poolImages);
                    if (r.ok() && scored) {
                        r = score(r, pool, test, poolLabels, testLabels, all.classes(), k);
                    }
                }
                rows.add(r);
                done += estimate(c, scored);
                double elapsed = (System.nanoTime() - t0) * 1e-9;
                double eta = done >= plan ? 0 : elapsed * (plan - done) / done;
                System.err.printf(Locale.ROOT, "tour: %d/%d %s %s in %.1f s%s%s; tour: %s elapsed, ETA %s%n", i + 1, chosen.size(), c,
                        r.ok() ? r.status().equals("ok") ? "done" : r.status() : "FAILED", r.seconds(), r.metric().isEmpty() ? "" : ", " + r.metric(),
                        Double.isNaN(r.accuracy()) ? "" : String.format(Locale.ROOT, ", %d labels/class %.1f%%", LABELS_PER_CLASS,
                                100 * r.accuracy()), ConsoleProgress.duration(elapsed), ConsoleProgress.duration(eta));
                if (!r.ok()) {
                    System.err.println("tour: " + c + ": " + r.note());
                }
            }
        } finally {
            Interruption.resumable(true);
            deleteTree(tmp);
        }
        double seconds = (System.nanoTime() - t0) * 1e-9;
        writeJson(rows, what, pixels, pixelsNote, seconds, k);
        Path report = writeReport(rows, what, pixels, pixelsNote, seconds, k);
        printTable(stdout, rows, what, pixels, seconds, k);
        stdout.println("wrote " + report + ", " + out.resolve("tour.json") + " and a directory per kind");
        stdout.flush();
        return rows.stream().allMatch(Row::ok) ? 0 : EXIT_SOME_FAILED;
    }

    /** The --kinds, checked (each known, none twice), or every kind and then frames. */
    private List<String> chosenKinds() {
        List<String> known = Stream.concat(TrainCommand.JOBS.stream().map(TrainJob::name), Stream.of(FRAMES)).toList();
        if (kinds == null) {
            return known;
        }
        Set<String> seen = new LinkedHashSet<>();
        for (String c : kinds) {
            String n = c.strip();
            if (!known.contains(n)) {
                throw new BadInputException("--kinds: unknown kind '" + n + "'; known: " + String.join(", ", known));
            }
            if (!seen.add(n)) {
                throw new BadInputException("--kinds: " + n + " is listed twice");
            }
        }
        if (seen.isEmpty()) {
            throw new BadInputException("--kinds needs at least one kind; known: " + String.join(", ", known));
        }
        return List.copyOf(seen);
    }

    private double estimate(String kind, boolean scored) {
        double s = kind.equals(FRAMES) ? FRAMES_SECONDS
                : TrainCommand.JOBS.stream().filter(j -> j.name().equals(kind)).findFirst().orElseThrow().tour().seconds()
                        + (scored ? FEWLABEL_SECONDS : 0);
        return quick ? Math.max(1, s / 10) : s;
    }

    /** Trains {@code job} as {@code latent train} does, with its tour options; its stdout goes to KIND/output.txt. */
    private Row train(TrainJob job, Path poolImages) throws IOException {
        TrainJob.Tour t = job.tour();
        Path dir = out.resolve(job.name());
        List<String> args = new ArrayList<>(List.of("--kind", job.name(), "--out", dir.toString(), "--epochs",
                Integer.toString(quick ? 1 : t.epochs()), "--batch", Integer.toString(t.batch()), "--seed", Long.toString(seed),
                "--input", poolImages.toString()));
        t.set().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
                .forEach(e -> args.addAll(List.of("--set", e.getKey() + "=" + e.getValue())));
        String settings = String.join(" ", args.subList(4, 8)) + (args.size() > 12 ? " " + String.join(" ", args.subList(12, args.size())) : "");
        StringWriter printed = new StringWriter();
        long t0 = System.nanoTime();
        int code;
        String note = "";
        try {
            CommandLine cl = new CommandLine(new TrainCommand());
            cl.setOut(new PrintWriter(printed, true));
            cl.parseArgs(args.toArray(String[]::new));
            code = ((TrainCommand) cl.getCommand()).call();
            if (code != 0) {
                note = lastLine(printed.toString(), "exit code " + code);
            }
        } catch (Exception | OutOfMemoryError | StackOverflowError | LinkageError e) {
            code = -1;
            note = failure(e);
        }
        double seconds = (System.nanoTime() - t0) * 1e-9;
        saveOutput(dir, printed.toString());
        boolean ok = code == 0;
        return new Row(job.name(), ok ? "ok" : "failed", note, seconds, ok || Files.isDirectory(dir) ? metric(dir, printed.toString()) : "", Double.NaN, settings);
    }

    /** The row with the few-label accuracy of the model's features (a failure here fails the row, keeping the training's results). */
    private Row score(Row r, Tensor pool, Tensor test, int[] poolLabels, int[] testLabels, int classes, Kernels k) {
        Path model = out.resolve(r.kind()).resolve("model.safetensors");
        try {
            String kind = ModelKinds.kindOf(model);
            if (ModelKinds.KINDS.stream().noneMatch(x -> x.name().equals(kind))) {
                return r; // a kind that serves no features: no accuracy
            }
            try (FeatureExtractor f = ModelKinds.load(model, k); Workspace ws = new Workspace("tour-" + r.kind())) {
                double acc = fewLabel(r.kind(), FewLabel.frozen(f, pool, test, testLabels, classes, k, ws), poolLabels);
                return new Row(r.kind(), r.status(), r.note(), r.seconds(), r.metric(), acc, r.settings());
            }
        } catch (Exception | OutOfMemoryError | StackOverflowError | LinkageError e) {
            return new Row(r.kind(), "failed", "few-label: " + failure(e), r.seconds(), r.metric(), Double.NaN, r.settings());
        }
    }

    /** One draw of {@link #LABELS_PER_CLASS} labels per class: the test accuracy of {@code method}. */
    private static double fewLabel(String name, FewLabel.Method method, int[] poolLabels) {
        List<FewLabel.Result> r = FewLabel.run(poolLabels, new int[] {LABELS_PER_CLASS}, 1, List.of(new FewLabel.Row(name, name, method)),
                line -> System.err.println("tour: " + name + " " + line));
        return Checks.finite(r).getFirst().mean();
    }

    /** The next-frame sequence model, small, as {@code latent frames} trains it, with its own 10-label score of the encoder state. */
    private Row frames(Path allImages, Path allLabels, boolean labelled, boolean scored) throws IOException {
        Path dir = out.resolve(FRAMES);
        List<String> args = new ArrayList<>(List.of("--out", dir.toString(), "--seed", Long.toString(seed)));
        List<String> small = quick
                ? List.of("--frame-size", "12", "--digit-size", "8", "--hidden", "16", "--epochs", "1", "--sequences", "100",
                "--test-sequences", "50")
                : List.of("--epochs", "4", "--sequences", "4000", "--test-sequences", "500");
        args.addAll(small);
        args.addAll(List.of("--budgets", scored ? Integer.toString(LABELS_PER_CLASS) : "0", "--draws", "1"));
        if (allImages != null) {
            args.addAll(List.of("--input", allImages.toString()));
            if (allLabels != null) {
                args.addAll(List.of("--labels", allLabels.toString()));
            }
        }
        String settings = String.join(" ", small);
        if (!labelled) {
            return new Row(FRAMES, "skipped", "the sequence model needs labels (--labels)", 0, "", Double.NaN, settings);
        }
        StringWriter printed = new StringWriter();
        long t0 = System.nanoTime();
        boolean ok;
        String note = "";
        try {
            CommandLine cl = new CommandLine(new FramesCommand());
            cl.setOut(new PrintWriter(printed, true));
            cl.parseArgs(args.toArray(String[]::new));
            int code = ((FramesCommand) cl.getCommand()).call();
            ok = code == 0;
            if (!ok) {
                note = lastLine(printed.toString(), "exit code " + code);
            }
            Report.write(dir);
        } catch (Exception | OutOfMemoryError | StackOverflowError | LinkageError e) {
            ok = false;
            note = failure(e);
        }
        double seconds = (System.nanoTime() - t0) * 1e-9;
        saveOutput(dir, printed.toString());
        String metric = "";
        double acc = Double.NaN;
        double framePixels = Double.NaN;
        Path json = dir.resolve("frames.json");
        if (ok && Files.isRegularFile(json)) {
            JsonNode j = new ObjectMapper().readTree(json.toFile());
            metric = String.format(Locale.ROOT, "frame sq. error %s (copy-last %s)", fmt(j.path("lstm_mean").asDouble()),
                    fmt(j.path("copy_last_mean").asDouble()));
            for (JsonNode m : j.path("few_label")) {
                if (m.path("labels_per_class").asInt() == LABELS_PER_CLASS) {
                    if (m.path("name").asText().startsWith("LSTM")) {
                        acc = m.path("accuracy_mean").asDouble();
                    } else if (m.path("name").asText().contains("last input frame")) {
                        framePixels = m.path("accuracy_mean").asDouble();
                    }
                }
            }
        }
        if (ok && !Double.isNaN(framePixels)) {
            // its features are of small moving frames, not of the 28x28 digits: its own baseline is a frame's pixels
            note = "encoder state of a one-digit sequence; softmax on its last input frame's pixels: " + percent(framePixels);
        }
        return new Row(FRAMES, ok ? "ok" : "failed", note, seconds, metric, acc, settings);
    }

    /** The one line of a failure, as {@link Main} prints it; its stack trace too with --debug. */
    private static String failure(Throwable e) {
        if (Main.debugging) {
            e.printStackTrace();
        }
        return Main.describe(e, Main.debugging).line();
    }

    private static String lastLine(String text, String otherwise) {
        List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
        String stop = lines.stream().filter(l -> l.startsWith("STOPPED")).findFirst().orElse(null);
        return stop != null ? stop : lines.isEmpty() ? otherwise : otherwise + ": " + lines.getLast();
    }

    private static void saveOutput(Path dir, String printed) throws IOException {
        if (Files.isDirectory(dir)) {
            dev.latent.io.AtomicFiles.writeString(dir.resolve("output.txt"), printed);
        }
    }

    private static final Pattern FINAL_LOSS = Pattern.compile("final loss ([-+0-9.eE]+|NaN)");
    private static final Pattern INERTIA = Pattern.compile("mean squared distance ([-+0-9.eE]+|NaN)");
    private static final Pattern COSINES = Pattern.compile("principal component j:((?: [-+0-9.eE]+)+)");

    /**
     * The final loss or metric of a kind's run, from what it wrote: the last line of metrics.jsonl
     * (training loss; a GAN's D and G losses; an RBM's reconstruction error), else its summary on stdout
     * (final loss; k-means' mean squared distance; the mean |cos| of Hebbian units with the principal components).
     */
    static String metric(Path dir, String printed) throws IOException {
        Path metrics = dir.resolve("metrics.jsonl");
        if (Files.isRegularFile(metrics)) {
            List<String> lines = Files.readAllLines(metrics).stream().filter(l -> !l.isBlank()).toList();
            if (!lines.isEmpty()) {
                JsonNode j;
                try {
                    j = new ObjectMapper().readTree(lines.getLast());
                } catch (IOException e) {
                    return "";
                }
                if (j.has("d_loss") && j.has("g_loss")) {
                    return "D loss " + fmt(j.get("d_loss").asDouble()) + ", G loss " + fmt(j.get("g_loss").asDouble());
                }
                if (j.has("train_loss")) {
                    return "loss " + fmt(j.get("train_loss").asDouble());
                }
                if (j.has("reconstruction_error")) {
                    return "reconstruction error " + fmt(j.get("reconstruction_error").asDouble());
                }
            }
        }
        Matcher m = FINAL_LOSS.matcher(printed);
        if (m.find()) {
            return "loss " + fmt(Double.parseDouble(m.group(1)));
        }
        m = INERTIA.matcher(printed);
        if (m.find()) {
            return "mean sq. distance " + fmt(Double.parseDouble(m.group(1)));
        }
        m = COSINES.matcher(printed);
        if (m.find()) {
            double mean = Stream.of(m.group(1).strip().split(" ")).mapToDouble(Double::parseDouble).average().orElse(Double.NaN);
            return "mean |cos| with PCs " + fmt(mean);
        }
        return "";
    }

    private static String fmt(double v) {
        return Math.abs(v) >= 100 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.4g", v);
    }

    private static String percent(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }

    private static String versus(double v, double pixels) {
        return Double.isNaN(v) || Double.isNaN(pixels) ? "-" : String.format(Locale.ROOT, "%+.1f", 100 * (v - pixels));
    }

    private static void printTable(PrintWriter o, List<Row> rows, String what, double pixels, double seconds, Kernels k) {
        o.printf(Locale.ROOT, "latent tour: %d learners on %s, %s kernels, %s%n", rows.size(), what, k.name(), ConsoleProgress.duration(seconds));
        int w = Math.max(12, rows.stream().mapToInt(r -> r.kind().length()).max().orElse(0));
        int mw = Math.max(22, rows.stream().mapToInt(r -> r.metric().length()).max().orElse(0));
        String format = "%-" + w + "s  %-7s  %8s  %-" + mw + "s  %9s  %9s  %s%n";
        o.printf(Locale.ROOT, format, "kind", "status", "train s", "final loss / metric", LABELS_PER_CLASS + " labels", "vs pixels", "note");
        o.printf(Locale.ROOT, format, "raw pixels", "-", "-", "-", percent(pixels), "-", "softmax on the pixels, the baseline");
        for (Row r : rows) {
            o.printf(Locale.ROOT, format, r.kind(), r.ok() ? r.status() : "FAILED", String.format(Locale.ROOT, "%.1f", r.seconds()),
                    r.metric().isEmpty() ? "-" : r.metric(), percent(r.accuracy()), versus(r.accuracy(), pixels), r.note());
        }
    }

    private void writeJson(List<Row> rows, String what, double pixels, String pixelsNote, double seconds, Kernels k) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        root.put("data", what);
        root.put("quick", quick);
        root.put("seed", seed);
        root.put("kernels", k.name());
        root.put("seconds", seconds);
        root.put("labels_per_class", LABELS_PER_CLASS);
        if (!Double.isNaN(pixels)) {
            root.put("raw_pixels_accuracy", pixels);
        } else if (pixelsNote != null) {
            root.put("raw_pixels_note", pixelsNote);
        }
        ArrayNode a = root.putArray("kinds");
        for (Row r : rows) {
            ObjectNode n = a.addObject();
            n.put("kind", r.kind());
            n.put("status", r.status());
            n.put("seconds", r.seconds());
            n.put("metric", r.metric());
            if (!Double.isNaN(r.accuracy())) {
                n.put("accuracy", r.accuracy());
            }
            n.put("note", r.note());
            n.put("settings", r.settings());
            n.put("dir", r.kind());
        }
        dev.latent.io.AtomicFiles.write(out.resolve("tour.json"), tmp -> json.writeValue(tmp.toFile(), root));
    }

    /** report.html: the table, then per kind its settings, what it printed, and its pictures (linked to its own report). */
    private Path writeReport(List<Row> rows, String what, double pixels, String pixelsNote, double seconds, Kernels k) throws IOException {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>latent tour</title>\n<style>body{font-family:sans-serif;"
                + "max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;"
                + "text-align:right}td:first-child,th:first-child,td.l{text-align:left}figure{display:inline-block;margin:0.5em 1em 0.5em 0;"
                + "vertical-align:top}figcaption{color:#555;max-width:420px}img{image-rendering:pixelated;max-width:100%;border:1px solid #ddd}"
                + "pre{background:#f6f6f6;padding:8px;overflow-x:auto;white-space:pre-wrap}.failed{color:#b00}</style></head><body>\n");
        h.append("<h1>latent tour</h1>\n<p>").append(rows.size()).append(" learners on ").append(Report.esc(what)).append(", ")
                .append(Report.esc(k.name())).append(" kernels, ").append(ConsoleProgress.duration(seconds)).append(" in all")
                .append(quick ? " (--quick)" : "").append(". Each kind was trained as <code>latent train --kind KIND</code> trains it, with"
                        + " the small settings below; its features, read back from its model file, were scored on the held-out images by"
                        + " <code>latent fewlabel</code>'s head with ").append(LABELS_PER_CLASS).append(" labels per class (one draw).</p>\n");
        if (pixelsNote != null) {
            h.append("<p class=\"failed\">No few-label column: ").append(Report.esc(pixelsNote)).append("</p>\n");
        }
        h.append("<table id=\"tour\"><tr><th>kind</th><th>status</th><th>training s</th><th>final loss / metric</th><th>")
                .append(LABELS_PER_CLASS).append(" labels/class</th><th>vs raw pixels</th><th>note</th></tr>\n");
        h.append("<tr><td>raw pixels</td><td></td><td></td><td></td><td>").append(percent(pixels))
                .append("</td><td></td><td class=\"l\">softmax on the pixels, the baseline</td></tr>\n");
        for (Row r : rows) {
            h.append("<tr><td><a href=\"#").append(Report.esc(r.kind())).append("\">").append(Report.esc(r.kind())).append("</a></td><td")
                    .append(r.ok() ? ">" + r.status() : " class=\"failed\">failed").append("</td><td>").append(String.format(Locale.ROOT, "%.1f", r.seconds()))
                    .append("</td><td class=\"l\">").append(Report.esc(r.metric())).append("</td><td>").append(percent(r.accuracy()))
                    .append("</td><td>").append(versus(r.accuracy(), pixels)).append("</td><td class=\"l")
                    .append(r.ok() ? "" : " failed").append("\">").append(Report.esc(r.note())).append("</td></tr>\n");
        }
        h.append("</table>\n");
        for (Row r : rows) {
            Path dir = out.resolve(r.kind());
            h.append("<h2 id=\"").append(Report.esc(r.kind())).append("\">").append(Report.esc(r.kind())).append("</h2>\n<p>");
            if (Files.isRegularFile(dir.resolve(Report.FILE))) {
                h.append("<a href=\"").append(Report.esc(r.kind())).append("/report.html\">its report</a>, ");
            }
            h.append("settings <code>").append(Report.esc(r.settings())).append("</code></p>\n");
            if (!r.ok()) {
                h.append("<p class=\"failed\">").append(Report.esc(r.note())).append("</p>\n");
            }
            Path printed = dir.resolve("output.txt");
            if (Files.isRegularFile(printed)) {
                h.append("<pre>").append(Report.esc(Files.readString(printed).strip())).append("</pre>\n");
            }
            if (Files.isDirectory(dir)) {
                for (String png : Report.pictures(dir)) {
                    String src = r.kind() + "/" + png;
                    h.append("<figure><a href=\"").append(Report.esc(src)).append("\"><img src=\"").append(Report.esc(src)).append("\" alt=\"")
                            .append(Report.esc(Report.caption(png))).append("\"></a><figcaption>").append(Report.esc(Report.caption(png)))
                            .append("</figcaption></figure>\n");
                }
            }
        }
        h.append("</body></html>\n");
        Path file = out.resolve(Report.FILE);
        dev.latent.io.AtomicFiles.writeString(file, h);
        return file;
    }

    /** An IDX image file (ubyte, n x h x w: the images' values in [0, 1] as k/255) and, when labels is not null, its label file. */
    static void writeIdx(Path imageFile, Path labelFile, Tensor x, int[] labels, int h, int w) throws IOException {
        int n = x.dim(0);
        try (DataOutputStream im = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(imageFile)))) {
            im.writeInt(0x803);
            im.writeInt(n);
            im.writeInt(h);
            im.writeInt(w);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < h * w; j++) {
                    im.writeByte(Math.round(Math.clamp(x.get(i, j), 0f, 1f) * 255f));
                }
            }
        }
        if (labelFile != null) {
            try (DataOutputStream lb = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(labelFile)))) {
                lb.writeInt(0x801);
                lb.writeInt(n);
                for (int v : labels) {
                    lb.writeByte(v);
                }
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
