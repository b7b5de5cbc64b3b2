package dev.latent.viz;

import dev.latent.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * Grey-level image grids as PNG: filters (the input that maximally activates each hidden unit,
 * x = w_i / ||w_i||, seed 003), digits, reconstructions, samples. Tiles are separated by a 1-pixel
 * dark border and scaled up by an integer factor so 28x28 tiles are visible.
 */
public final class ImageGrid {

    /** How a tile's values map to grey: fixed [0, 1], or each tile stretched symmetric around 0. */
    public enum Scaling { UNIT, SYMMETRIC_PER_TILE }

    private ImageGrid() {
    }

    /**
     * The filters of a layer with weight W (units, h*w): tile i shows w_i / ||w_i||, the input of norm
     * 1 that activates unit i most, each tile stretched so that -max|x| is black and +max|x| white.
     */
    public static void filters(Path file, Tensor weight, int h, int w, int columns, int scale) throws IOException {
        int units = weight.dim(0);
        int d = weight.rowSize();
        if (d != h * w) {
            throw new IllegalArgumentException("filters: weight rows have " + d + " values, not " + h + "x" + w);
        }
        float[][] tiles = new float[units][];
        for (int i = 0; i < units; i++) {
            float[] row = weight.row(i).toArray();
            double norm = 0;
            for (float v : row) {
                norm += (double) v * v;
            }
            norm = Math.sqrt(norm);
            for (int j = 0; j < d; j++) {
                row[j] = norm == 0 ? 0 : (float) (row[j] / norm);
            }
            tiles[i] = row;
        }
        write(file, tiles, h, w, columns, scale, Scaling.SYMMETRIC_PER_TILE);
    }

    /** Rows of x (N, h*w) with values in [0, 1] as a grid. */
    public static void images(Path file, Tensor x, int h, int w, int columns, int scale) throws IOException {
        float[][] tiles = new float[x.dim(0)][];
        for (int i = 0; i < tiles.length; i++) {
            tiles[i] = x.row(i).toArray();
        }
        write(file, tiles, h, w, columns, scale, Scaling.UNIT);
    }

    /** Writes tiles (each h*w values, row-major) in a grid of {@code columns} columns. */
    public static void write(Path file, float[][] tiles, int h, int w, int columns, int scale, Scaling scaling) throws IOException {
        if (tiles.length == 0) {
            throw new IllegalArgumentException("no tiles to draw");
        }
        int cols = Math.max(1, Math.min(columns, tiles.length));
        int rows = (tiles.length + cols - 1) / cols;
        int tw = w * scale + 1;
        int th = h * scale + 1;
        BufferedImage img = new BufferedImage(cols * tw + 1, rows * th + 1, BufferedImage.TYPE_BYTE_GRAY);
        var raster = img.getRaster();
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                raster.setSample(x, y, 0, 40);
            }
        }
        for (int t = 0; t < tiles.length; t++) {
            float[] v = tiles[t];
            double lo = 0;
            double hi = 1;
            if (scaling == Scaling.SYMMETRIC_PER_TILE) {
                double m = 1e-12;
                for (float f : v) {
                    m = Math.max(m, Math.abs(f));
                }
                lo = -m;
                hi = m;
            }
            int ox = (t % cols) * tw + 1;
            int oy = (t / cols) * th + 1;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double g = (v[y * w + x] - lo) / (hi - lo);
                    int grey = (int) Math.round(255 * Math.min(1, Math.max(0, g)));
                    for (int sy = 0; sy < scale; sy++) {
                        for (int sx = 0; sx < scale; sx++) {
                            raster.setSample(ox + x * scale + sx, oy + y * scale + sy, 0, grey);
                        }
                    }
                }
            }
        }
        dev.latent.io.AtomicFiles.write(file, tmp -> {
            try (java.io.OutputStream os = Files.newOutputStream(tmp)) {
                if (!ImageIO.write(img, "png", os)) {
                    throw new IOException("no PNG writer available");
                }
            }
        });
    }
}
