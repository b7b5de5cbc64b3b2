package dev.latent.cli;

import dev.latent.data.Dataset;
import dev.latent.eval.FewLabel;
import dev.latent.io.BadInputException;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The data options of the few-label commands (a picocli mixin): the labelled images, by default the
 * embedded digits, and either a test set of their own or a stratified, seeded split.
 */
final class DataOptions {

    @Option(names = "--input", paramLabel = "FILE", description = "IDX image file (default: the embedded 10,000 MNIST digits).")
    Path images;

    @Option(names = "--labels", paramLabel = "FILE", description = "IDX label file matching --input.")
    Path labels;

    @Option(names = "--test-input", paramLabel = "FILE", description = "IDX test images; then all of --input is the pool"
            + " (default: a stratified held-out fraction of --input).")
    Path testImages;

    @Option(names = "--test-labels", paramLabel = "FILE", description = "IDX labels matching --test-input.")
    Path testLabels;

    /** The old spelling of --input, kept hidden so scripts keep working. */
    @Option(names = "--images", hidden = true)
    void images(Path file) {
        images = file;
    }

    /** The old spelling of --test-input, kept hidden so scripts keep working. */
    @Option(names = "--test-images", hidden = true)
    void testImages(Path file) {
        testImages = file;
    }

    /** The whole labelled set, the pool (unlabeled for learning, labels drawn from it) and the test set. */
    record Data(Dataset all, Dataset pool, Dataset test) implements AutoCloseable {
        @Override
        public void close() {
            test.close();
            if (pool != all) {
                pool.close();
            }
            all.close();
        }
    }

    /** Checks before any work that the output directory {@code outOption} overwrites none of the inputs. */
    void check(String outOption, Path out, java.util.List<String> writes, Path... moreInputs) throws IOException {
        if ((images == null) != (labels == null) || (testImages == null) != (testLabels == null)) {
            throw new BadInputException("--input and --labels, --test-input and --test-labels go in pairs");
        }
        Path[] inputs = java.util.stream.Stream.concat(java.util.stream.Stream.of(images, labels, testImages, testLabels),
                java.util.Arrays.stream(moreInputs)).toArray(Path[]::new);
        Checks.outputDirectory(outOption, out, writes, inputs);
    }

    /** {@code d}, or a BadInputException naming it ({@code option}) when it holds no images; closes it then. */
    static Dataset nonEmpty(Dataset d, String option, Path file) {
        if (d.size() == 0) {
            d.close();
            throw new BadInputException(option + " " + (file == null ? d.name() : file) + ": holds 0 images; at least one is needed");
        }
        return d;
    }

    private String labelsName() {
        return labels == null ? "the embedded digits" : labels.toString();
    }

    /** Reads the data; without test files, {@code testFraction} of each class (drawn from {@code seed}) is held out. */
    Data open(double testFraction, long seed) throws IOException {
        if ((images == null) != (labels == null) || (testImages == null) != (testLabels == null)) {
            throw new IllegalArgumentException("--input and --labels, --test-input and --test-labels go in pairs");
        }
        Dataset all = nonEmpty(images == null ? Dataset.embeddedMnist() : Dataset.readIdx(images, labels), "--input", images);
        Dataset pool = null;
        try {
            if (testImages != null) {
                pool = all;
                Dataset test = nonEmpty(Dataset.readIdx(testImages, testLabels), "--test-input", testImages);
                if (test.classes() > all.classes()) {
                    int bad = java.util.Arrays.stream(test.labels()).filter(v -> v >= all.classes()).findFirst().orElse(-1);
                    test.close();
                    throw new BadInputException(testLabels + ": test label " + bad + " is outside the classes 0.."
                            + (all.classes() - 1) + " of " + labelsName() + "; the test labels must be classes the pool has");
                }
                if (test.features() != all.features()) {
                    test.close();
                    throw new BadInputException(testImages + ": test images have " + test.features() + " pixels, the images of "
                            + all.name() + " " + all.features());
                }
                return new Data(all, pool, test);
            }
            FewLabel.Split split = FewLabel.split(all.labels(), testFraction, seed);
            pool = all.subset("pool", split.pool());
            return new Data(all, pool, all.subset("test", split.test()));
        } catch (IOException | RuntimeException e) {
            if (pool != null && pool != all) {
                pool.close();
            }
            all.close();
            throw e;
        }
    }
}
