package dev.latent.data;

import dev.latent.io.BadInputException;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A labelled image set: images (N, H*W) scaled to [0, 1] in an off-heap tensor owned by this data set,
 * and labels 0..classes-1 (or none, for unlabelled data). Close it to free the images.
 */
public final class Dataset implements AutoCloseable {

    private final String name;
    private final Workspace ws;
    private final Tensor images;
    private final int[] labels;
    private final int height;
    private final int width;
    private final int classes;

    private Dataset(String name, Workspace ws, Tensor images, int[] labels, int height, int width) {
        this.name = name;
        this.ws = ws;
        this.images = images;
        this.labels = labels;
        this.height = height;
        this.width = width;
        this.classes = labels == null ? 0 : Arrays.stream(labels).max().orElse(-1) + 1;
    }

    /**
     * The 10,000 MNIST digits embedded in latent: resources dev/latent/data/mnist-10k of the
     * {@code dev.latent:latent-data} artifact, which must be on the class path (the CLI has it).
     */
    public static Dataset embeddedMnist() {
        String base = "/dev/latent/data/mnist-10k/";
        try (InputStream im = Dataset.class.getResourceAsStream(base + "images-idx3-ubyte.gz");
             InputStream lb = Dataset.class.getResourceAsStream(base + "labels-idx1-ubyte.gz")) {
            if (im == null || lb == null) {
                throw new IllegalStateException("the embedded MNIST digits (" + base + ") are not on the class path: add the"
                        + " artifact dev.latent:latent-data");
            }
            return of("mnist-10k", Idx.read(im, "embedded mnist-10k images"), Idx.read(lb, "embedded mnist-10k labels"),
                    "embedded mnist-10k");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the embedded MNIST digits: " + e.getMessage(), e);
        }
    }

    /** An IDX image file and its IDX label file (raw or gzip), e.g. Fashion-MNIST. */
    public static Dataset readIdx(Path images, Path labels) throws IOException {
        if (!Files.isRegularFile(images)) {
            throw new BadInputException(images + (Files.isDirectory(images) ? ": is a directory, not an IDX image file"
                    : ": no such file (IDX images)"));
        }
        if (labels != null && !Files.isRegularFile(labels)) {
            throw new BadInputException(labels + (Files.isDirectory(labels) ? ": is a directory, not an IDX label file"
                    : ": no such file (IDX labels)"));
        }
        return of(images.getFileName().toString(), Idx.read(images), labels == null ? null : Idx.read(labels),
                images + (labels == null ? "" : " + " + labels));
    }

    private static Dataset of(String name, Idx.Array im, Idx.Array lb, String source) {
        if (im.dims().length != 3) {
            throw new BadInputException(source + ": images must have 3 dimensions (count, rows, cols), got "
                    + Arrays.toString(im.dims()));
        }
        int n = im.count();
        int[] labels = null;
        if (lb != null) {
            if (lb.dims().length != 1) {
                throw new BadInputException(source + ": labels must have 1 dimension, got " + Arrays.toString(lb.dims()));
            }
            if (lb.count() != n) {
                throw new BadInputException(source + ": " + n + " images but " + lb.count() + " labels");
            }
            labels = new int[n];
            for (int i = 0; i < n; i++) {
                labels[i] = lb.data()[i] & 0xff;
                if (labels[i] > 255) {
                    throw new BadInputException(source + ": label " + i + " out of range");
                }
            }
        }
        int h = im.dims()[1];
        int w = im.dims()[2];
        Workspace ws = new Workspace(name);
        Tensor t = ws.allocate(n, h * w);
        float[] row = new float[h * w];
        byte[] px = im.data();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < row.length; j++) {
                row[j] = (px[i * row.length + j] & 0xff) / 255f;
            }
            t.row(i).copyFrom(row);
        }
        return new Dataset(name, ws, t, labels, h, w);
    }

    /** A new data set of the rows {@code index} (copied), e.g. one side of a split. */
    public Dataset subset(String subsetName, int[] index) {
        Workspace w = new Workspace(subsetName);
        Tensor t = w.allocate(index.length, images.dim(1));
        int[] lab = labels == null ? null : new int[index.length];
        for (int i = 0; i < index.length; i++) {
            t.row(i).copyFrom(images.row(index[i]));
            if (lab != null) {
                lab[i] = labels[index[i]];
            }
        }
        return new Dataset(subsetName, w, t, lab, height, width);
    }

    public String name() {
        return name;
    }

    /** Images (N, H*W) in [0, 1]. */
    public Tensor images() {
        return images;
    }

    /** Labels (a copy), or null for unlabelled data. */
    public int[] labels() {
        return labels == null ? null : labels.clone();
    }

    public int label(int i) {
        return labels[i];
    }

    public boolean hasLabels() {
        return labels != null;
    }

    public int size() {
        return images.dim(0);
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** Pixels per image. */
    public int features() {
        return images.dim(1);
    }

    /** Number of classes (max label + 1), 0 without labels. */
    public int classes() {
        return classes;
    }

    @Override
    public void close() {
        ws.close();
    }
}
