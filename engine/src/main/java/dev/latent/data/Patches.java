package dev.latent.data;

import dev.latent.io.BadInputException;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Images and the small square patches that clustering learning (Coates, Lee and Ng 2011) and the
 * Hebbian rules learn from. An {@link Image} is planar (channels, height, width) with values in
 * [0, 1]; a patch of size w from a c-channel image is a row of c * w * w values in the same planar
 * order (all of channel 0, then channel 1, ...). {@link #normalize} is the per-patch brightness and
 * contrast normalization: x <- (x - mean(x)) / sqrt(var(x) + eps).
 */
public final class Patches {

    /**
     * Coates et al.'s contrast regularizer, 10 for pixels in 0..255, rescaled to pixels in [0, 1]:
     * it keeps flat patches (var ~ 0) from being blown up to noise.
     */
    public static final double DEFAULT_EPS = 10.0 / (255.0 * 255.0);

    /** One image, planar CHW, values in [0, 1]. */
    public record Image(int channels, int height, int width, float[] pixels) {
        public Image {
            if (channels < 1 || height < 1 || width < 1 || pixels.length != channels * height * width) {
                throw new IllegalArgumentException("image " + channels + "x" + height + "x" + width + " with "
                        + pixels.length + " values");
            }
        }

        public float at(int c, int y, int x) {
            return pixels[(c * height + y) * width + x];
        }
    }

    private Patches() {
    }

    /** Reads a PNG or JPEG with ImageIO: grey (luma 0.299 R + 0.587 G + 0.114 B) or colour (RGB planes). */
    public static Image read(Path file, boolean colour) throws IOException {
        BufferedImage img = ImageIO.read(file.toFile());
        if (img == null) {
            throw new BadInputException(file + ": not an image ImageIO can read");
        }
        int h = img.getHeight();
        int w = img.getWidth();
        int c = colour ? 3 : 1;
        float[] px = new float[c * h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = img.getRGB(x, y);
                float r = ((rgb >> 16) & 0xff) / 255f;
                float g = ((rgb >> 8) & 0xff) / 255f;
                float b = (rgb & 0xff) / 255f;
                if (colour) {
                    px[y * w + x] = r;
                    px[(h + y) * w + x] = g;
                    px[(2 * h + y) * w + x] = b;
                } else {
                    px[y * w + x] = 0.299f * r + 0.587f * g + 0.114f * b;
                }
            }
        }
        return new Image(c, h, w, px);
    }

    /** Every .png, .jpg and .jpeg in {@code dir}, in file-name order (so that seeds mean the same thing everywhere). */
    public static List<Image> readDirectory(Path dir, boolean colour) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new BadInputException(dir + ": not a directory of images");
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
            }).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new BadInputException(dir + ": no .png or .jpg images");
        }
        List<Image> out = new ArrayList<>();
        for (Path f : files) {
            out.add(read(f, colour));
        }
        return out;
    }

    /** The rows of a data set (N, h*w) as grey images (copies). */
    public static List<Image> of(Dataset d) {
        List<Image> out = new ArrayList<>(d.size());
        for (int i = 0; i < d.size(); i++) {
            out.add(new Image(1, d.height(), d.width(), d.images().row(i).toArray()));
        }
        return out;
    }

    /**
     * {@code n} patches of size x size at uniformly random positions of uniformly random images
     * (seeded), as rows of a new (n, channels * size * size) tensor in {@code ws}.
     */
    public static Tensor random(List<Image> images, int n, int size, long seed, Workspace ws) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("no images to take patches from");
        }
        int c = images.getFirst().channels();
        for (Image im : images) {
            if (im.channels() != c) {
                throw new IllegalArgumentException("images mix " + c + " and " + im.channels() + " channels");
            }
            if (im.height() < size || im.width() < size) {
                throw new IllegalArgumentException("image " + im.height() + "x" + im.width() + " is smaller than a "
                        + size + "x" + size + " patch");
            }
        }
        int d = c * size * size;
        Tensor out = ws.allocate(n, d);
        MemorySegment seg = out.segment();
        long base = out.offset();
        SplittableRandom r = new SplittableRandom(seed);
        float[] row = new float[d];
        for (int i = 0; i < n; i++) {
            Image im = images.get(r.nextInt(images.size()));
            int y0 = r.nextInt(im.height() - size + 1);
            int x0 = r.nextInt(im.width() - size + 1);
            extract(im, y0, x0, size, row, 0);
            MemorySegment.copy(row, 0, seg, ValueLayout.JAVA_FLOAT, (base + (long) i * d) * Float.BYTES, d);
        }
        return out;
    }

    /** Copies the size x size patch at (y0, x0) of every channel into {@code out[at ..]}, planar. */
    public static void extract(Image im, int y0, int x0, int size, float[] out, int at) {
        int k = at;
        float[] px = im.pixels();
        for (int c = 0; c < im.channels(); c++) {
            for (int y = 0; y < size; y++) {
                System.arraycopy(px, (c * im.height() + y0 + y) * im.width() + x0, out, k, size);
                k += size;
            }
        }
    }

    /**
     * Per-patch brightness and contrast normalization, in place on every row of x (N, d):
     * x <- (x - mean(x)) / sqrt(var(x) + eps), var with the 1/d convention. Mean and variance in double.
     */
    public static void normalize(Tensor x, double eps) {
        int n = x.dim(0);
        int d = x.rowSize();
        MemorySegment seg = x.segment();
        long base = x.offset();
        java.util.stream.IntStream.range(0, (n + 1023) / 1024).parallel().forEach(block -> {
            float[] row = new float[d];
            for (int i = block * 1024; i < Math.min(n, block * 1024 + 1024); i++) {
                long off = (base + (long) i * d) * Float.BYTES;
                MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT, off, row, 0, d);
                normalizeRow(row, 0, d, eps);
                MemorySegment.copy(row, 0, seg, ValueLayout.JAVA_FLOAT, off, d);
            }
        });
    }

    /** {@link #normalize} of one run of d values in an array. */
    public static void normalizeRow(float[] v, int at, int d, double eps) {
        double s = 0;
        for (int j = 0; j < d; j++) {
            s += v[at + j];
        }
        double mean = s / d;
        double q = 0;
        for (int j = 0; j < d; j++) {
            double t = v[at + j] - mean;
            q += t * t;
        }
        double inv = 1 / Math.sqrt(q / d + eps);
        for (int j = 0; j < d; j++) {
            v[at + j] = (float) ((v[at + j] - mean) * inv);
        }
    }
}
