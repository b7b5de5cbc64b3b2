package dev.latent.data;

import dev.latent.io.BadInputException;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * Grey-level patches from photographs with UFLDL's normalization for sparse autoencoders: remove each
 * patch's mean, clip at +-3 standard deviations (of all patch values), rescale to [0.1, 0.9] (so that
 * sigmoid outputs can reproduce them).
 */
public final class NaturalPatches {

    private NaturalPatches() {
    }

    /** Grey levels in [0, 1] of an image file (PNG, JPEG, ...), row-major (height, width). */
    public static float[][] readGrey(Path file) throws IOException {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new BadInputException(file + ": unreadable image: " + e.getMessage(), e);
        }
        if (img == null) {
            throw new BadInputException(file + ": not an image format this JVM can read (PNG, JPEG, GIF, BMP)");
        }
        float[][] g = new float[img.getHeight()][img.getWidth()];
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y);
                // ITU-R BT.601 luma.
                g[y][x] = (0.299f * ((rgb >> 16) & 0xff) + 0.587f * ((rgb >> 8) & 0xff) + 0.114f * (rgb & 0xff)) / 255f;
            }
        }
        return g;
    }

    /** The image files (png, jpg, jpeg) of a directory, sorted by name. */
    public static List<Path> images(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new BadInputException(dir + ": not a directory of images");
        }
        try (var s = Files.list(dir)) {
            List<Path> out = new ArrayList<>(s.filter(p -> p.toString().matches("(?i).*\\.(png|jpe?g)$")).sorted().toList());
            if (out.isEmpty()) {
                throw new BadInputException(dir + ": no .png or .jpg images");
            }
            return out;
        }
    }

    /**
     * {@code count} random size x size patches, drawn uniformly over the images (seeded), normalized as
     * UFLDL does; returns (count, size*size) in {@code ws}.
     */
    public static Tensor sample(List<Path> files, int size, int count, long seed, Workspace ws) throws IOException {
        List<float[][]> imgs = new ArrayList<>();
        for (Path f : files) {
            float[][] g = readGrey(f);
            if (g.length < size || g[0].length < size) {
                throw new BadInputException(f + ": image " + g[0].length + "x" + g.length + " smaller than a " + size + "x" + size + " patch");
            }
            imgs.add(g);
        }
        SplittableRandom r = new SplittableRandom(seed);
        int d = size * size;
        float[] v = new float[count * d];
        double sumSq = 0;
        for (int i = 0; i < count; i++) {
            float[][] g = imgs.get(r.nextInt(imgs.size()));
            int y0 = r.nextInt(g.length - size + 1);
            int x0 = r.nextInt(g[0].length - size + 1);
            double mean = 0;
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    mean += g[y0 + y][x0 + x];
                }
            }
            mean /= d;
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    float c = (float) (g[y0 + y][x0 + x] - mean);
                    v[i * d + y * size + x] = c;
                    sumSq += (double) c * c;
                }
            }
        }
        double limit = 3 * Math.sqrt(sumSq / v.length);
        for (int i = 0; i < v.length; i++) {
            double c = Math.max(-limit, Math.min(limit, v[i])) / limit;
            v[i] = (float) ((c + 1) * 0.4 + 0.1);
        }
        return ws.of(v, count, d);
    }
}
