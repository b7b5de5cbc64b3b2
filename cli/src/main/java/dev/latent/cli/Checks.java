package dev.latent.cli;

import dev.latent.io.BadInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Checks of command-line values that every command runs first, before it reads data or trains: counts,
 * sizes and budgets in range, and outputs that can neither overwrite an input nor land where they
 * cannot be written. Each failure is a {@link BadInputException} naming the option, the value and what
 * is allowed (one line and exit code 2 in {@link Main}).
 */
final class Checks {

    private Checks() {
    }

    /** {@code option} (a count or size) must be at least {@code min}. */
    static void atLeast(String option, long value, long min) {
        if (value < min) {
            throw new BadInputException(option + " must be >= " + min + ", got " + value);
        }
    }

    /** Every value of a list option must be at least {@code min}, and the list not empty. */
    static void allAtLeast(String option, Collection<Integer> values, int min) {
        if (values == null || values.isEmpty()) {
            throw new BadInputException(option + " needs at least one value");
        }
        for (Integer v : values) {
            if (v == null || v < min) {
                throw new BadInputException(option + " values must be >= " + min + ", got " + v + " in " + values);
            }
        }
    }

    /** Every value of an int[] option must be at least {@code min}, and the array not empty. */
    static void allAtLeast(String option, int[] values, int min) {
        allAtLeast(option, values == null ? List.of() : java.util.Arrays.stream(values).boxed().toList(), min);
    }

    /** A finite number strictly between {@code lo} and {@code hi} (exclusive). */
    static void between(String option, double value, double lo, double hi) {
        if (!(value > lo && value < hi)) {
            throw new BadInputException(option + " must be a number > " + lo + " and < " + hi + ", got " + value);
        }
    }

    /** A finite number > 0. */
    static void positive(String option, double value) {
        if (!(value > 0 && Double.isFinite(value))) {
            throw new BadInputException(option + " must be a finite number > 0, got " + value);
        }
    }

    /**
     * Refuses to write {@code output} (option {@code outOption}) over any of {@code inputs}: the same path,
     * or the same file through another path (a link, "./x" and "x"). Null inputs are skipped.
     */
    static void notAnInput(String outOption, Path output, Path... inputs) throws IOException {
        for (Path in : inputs) {
            if (in == null || output == null) {
                continue;
            }
            if (same(output, in)) {
                throw new BadInputException(outOption + " " + output + " is the input file " + in
                        + "; refusing to overwrite an input (choose another output path)");
            }
        }
    }

    /**
     * Checks an output file ({@code option}) before any work: not one of {@code inputs} (see
     * {@link #notAnInput}), not a directory, and in a directory that exists or can be created, writable.
     */
    static void outputFile(String option, Path file, Path... inputs) throws IOException {
        notAnInput(option, file, inputs);
        if (Files.isDirectory(file)) {
            throw new BadInputException(option + " " + file + " is a directory; give a file name");
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            outputDirectory(option, parent, List.of());
        }
    }

    /**
     * Checks an output directory ({@code option}) before any work: it is a directory or can be created
     * in a writable place, and none of {@code inputs} is a file in it with one of the names the command
     * writes there ({@code writes}: file names, or "*.png" for any name with that ending), which the run
     * would replace.
     */
    static void outputDirectory(String option, Path dir, List<String> writes, Path... inputs) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new BadInputException(option + " " + dir + " exists and is not a directory");
        }
        Path existing = dir.toAbsolutePath();
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing != null && (!Files.isDirectory(existing) || !Files.isWritable(existing))) {
            throw new BadInputException(option + " " + dir + ": " + existing + (Files.isDirectory(existing)
                    ? " is not writable" : " is not a directory"));
        }
        if (!Files.isDirectory(dir)) {
            return; // a new directory holds no input
        }
        Path real = dir.toRealPath();
        for (Path in : inputs) {
            if (in == null || !Files.exists(in) || in.getFileName() == null) {
                continue;
            }
            Path parent = in.toRealPath().getParent();
            if (real.equals(parent) && written(writes, in.getFileName().toString())) {
                throw new BadInputException(option + " " + dir + " holds the input " + in + ", which this command writes over;"
                        + " choose another " + option + " or move the input");
            }
        }
    }

    private static boolean written(List<String> writes, String name) {
        for (String w : writes) {
            if (w.startsWith("*") ? name.endsWith(w.substring(1)) : name.equals(w)) {
                return true;
            }
        }
        return name.startsWith(".") && name.endsWith(".tmp");
    }

    /**
     * Refuses to write a model of kind {@code kind} to {@code file} (option {@code option}) over a file that
     * holds something else, unless {@code force}: a latent model of another kind, or a file that is not a
     * latent model (codes, a checkpoint, another program's file). A model of the same kind is replaced, as
     * a new run of the same command would.
     */
    static void replacesOnlyItsKind(String option, Path file, String kind, boolean force) {
        if (force || !Files.exists(file)) {
            return;
        }
        String held = holds(file);
        if (!held.equals("a latent model of kind " + kind)) {
            throw new BadInputException(option + ": " + file + " is " + held + "; refusing to replace it with a " + kind
                    + " model (add --force to replace it, or choose another " + option + ")");
        }
    }

    /** Refuses to write codes to {@code file} (option {@code option}) over a latent model, unless {@code force}. */
    static void notOverAModel(String option, Path file, boolean force) {
        if (force || !Files.exists(file)) {
            return;
        }
        String held = holds(file);
        if (held.startsWith("a latent model")) {
            throw new BadInputException(option + " " + file + " is " + held + "; refusing to replace it with codes (add --force"
                    + " to replace it, or choose another " + option + ")");
        }
    }

    /** What an existing file holds, in words: "a latent model of kind K", "a latent-checkpoint-1 file", ... */
    private static String holds(Path file) {
        if (Files.isDirectory(file)) {
            return "a directory";
        }
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            java.util.Map<String, String> meta = dev.latent.io.SafeTensors.read(file, a, true).metadata();
            String format = meta.get("format");
            if (dev.latent.io.ModelFile.FORMAT.equals(format)) {
                return "a latent model of kind " + meta.get("kind");
            }
            return format == null ? "a safetensors file that is not a latent model" : "a " + format + " file, not a latent model";
        } catch (IOException | RuntimeException e) {
            return "a file that is not a latent model";
        }
    }

    /** What {@code latent train} writes in --out (every kind). */
    static final List<String> TRAIN_WRITES = List.of("model.safetensors", "checkpoint.safetensors", "metrics.jsonl", "*.json", "*.png");

    private static boolean same(Path a, Path b) throws IOException {
        if (a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize())) {
            return true;
        }
        if (Files.exists(a) && Files.exists(b)) {
            return Files.isSameFile(a, b);
        }
        // a dangling or missing output whose real parent is the input's directory: compare real paths
        Path pa = a.toAbsolutePath().getParent();
        Path pb = b.toAbsolutePath().getParent();
        if (pa != null && pb != null && Files.exists(pa, LinkOption.NOFOLLOW_LINKS) && Files.exists(pb)) {
            return Objects.equals(pa.toRealPath().resolve(a.getFileName()), pb.toRealPath().resolve(b.getFileName()));
        }
        return false;
    }

    /**
     * Refuses to report a result that is not a number: each accuracy of every row must be finite, or the
     * command fails naming the row and the budget instead of printing a table of NaN with exit code 0.
     */
    static List<dev.latent.eval.FewLabel.Result> finite(List<dev.latent.eval.FewLabel.Result> results) {
        for (dev.latent.eval.FewLabel.Result r : results) {
            for (double a : r.accuracies()) {
                if (!Double.isFinite(a)) {
                    throw new IllegalStateException("the accuracy of '" + r.name() + "' at " + r.labelsPerClass()
                            + " labels per class is " + a + " (no test image scored, or the model's features are not numbers);"
                            + " nothing was reported");
                }
            }
            if (r.accuracies().length == 0) {
                throw new IllegalStateException("'" + r.name() + "' at " + r.labelsPerClass() + " labels per class has no draws");
            }
        }
        return results;
    }
}
