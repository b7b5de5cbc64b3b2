package dev.latent.cli;

import dev.latent.model.selfsup.SelfSupervised;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.viz.ImageGrid;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Pictures of a self-supervised encoder: its first-layer filters, the nearest neighbours of a few test
 * images in feature space (cosine similarity), and a 2-D PCA map of the test features coloured by class.
 */
final class SelfSupervisedPictures {

    private SelfSupervisedPictures() {
    }

    /** The first conv layer's filters (one tile per output channel, k x k, each scaled to its own range). */
    static void filters(Path file, SelfSupervised m) throws IOException {
        Tensor w = m.firstLayer().weight().value();
        int units = w.dim(0);
        int per = w.rowSize();
        int inC = m.inputShape()[0];
        int k = (int) Math.round(Math.sqrt(per / (double) inC));
        ImageGrid.filters(file, w.reshape(units * inC, k * k), k, k, 16, 12);
    }

    /**
     * For each of the first {@code queries} rows of test: the image, then its {@code shown - 1} nearest
     * other test images by cosine similarity of their features (one row of the grid per query).
     */
    static void neighbours(Path file, SelfSupervised m, Tensor test, Tensor features, int side, int queries, int shown, Workspace ws)
            throws IOException {
        int n = features.dim(0);
        int d = features.rowSize();
        float[][] f = new float[n][];
        for (int i = 0; i < n; i++) {
            f[i] = features.row(i).toArray();
            double s = 0;
            for (float v : f[i]) {
                s += (double) v * v;
            }
            float inv = (float) (1 / Math.max(Math.sqrt(s), 1e-12));
            for (int j = 0; j < d; j++) {
                f[i][j] *= inv;
            }
        }
        int q = Math.min(queries, n);
        Tensor grid = ws.allocate(q * shown, test.rowSize());
        for (int a = 0; a < q; a++) {
            double[] sim = new double[n];
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int j = 0; j < d; j++) {
                    s += f[a][j] * f[i][j];
                }
                sim[i] = i == a ? Double.NEGATIVE_INFINITY : s;
            }
            grid.row(a * shown).copyFrom(test.row(a));
            for (int r = 1; r < shown; r++) {
                int best = 0;
                for (int i = 1; i < n; i++) {
                    if (sim[i] > sim[best]) {
                        best = i;
                    }
                }
                grid.row(a * shown + r).copyFrom(test.row(best));
                sim[best] = Double.NEGATIVE_INFINITY;
            }
        }
        ImageGrid.images(file, grid, side, side, shown, 3);
    }

    /** Scatter of the features' projections on their first two principal components, one colour per class. */
    static void pca(Path file, Tensor features, int[] labels, String title) throws IOException {
        double[][] p = project2(features);
        XYChart chart = new XYChartBuilder().width(800).height(700).title(title).xAxisTitle("PC 1").yAxisTitle("PC 2").build();
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setMarkerSize(4);
        int classes = java.util.Arrays.stream(labels).max().orElse(0) + 1;
        for (int c = 0; c < classes; c++) {
            int cls = c;
            int[] idx = java.util.stream.IntStream.range(0, labels.length).filter(i -> labels[i] == cls).toArray();
            if (idx.length == 0) {
                continue;
            }
            double[] xs = java.util.Arrays.stream(idx).mapToDouble(i -> p[i][0]).toArray();
            double[] ys = java.util.Arrays.stream(idx).mapToDouble(i -> p[i][1]).toArray();
            chart.addSeries("class " + c, xs, ys).setMarker(SeriesMarkers.CIRCLE);
        }
        dev.latent.io.AtomicFiles.write(file, tmp -> {
            try (java.io.OutputStream os = Files.newOutputStream(tmp)) {
                BitmapEncoder.saveBitmap(chart, os, BitmapEncoder.BitmapFormat.PNG);
            }
        });
    }

    /**
     * Rows of x (N, D), centred, projected on the top two eigenvectors of their covariance, found by
     * power iteration with deflation (200 steps each, seeded start).
     */
    static double[][] project2(Tensor x) {
        int n = x.dim(0);
        int d = x.rowSize();
        double[][] a = new double[n][d];
        double[] mean = new double[d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                a[i][j] = x.get((long) i * d + j);
                mean[j] += a[i][j] / n;
            }
        }
        for (double[] row : a) {
            for (int j = 0; j < d; j++) {
                row[j] -= mean[j];
            }
        }
        double[][] out = new double[n][2];
        double[][] comps = new double[2][];
        SplittableRandom rnd = new SplittableRandom(7);
        for (int c = 0; c < 2; c++) {
            double[] v = new double[d];
            for (int j = 0; j < d; j++) {
                v[j] = rnd.nextDouble(-1, 1);
            }
            for (int it = 0; it < 200; it++) {
                double[] nv = new double[d];
                for (double[] row : a) {
                    double s = 0;
                    for (int j = 0; j < d; j++) {
                        s += row[j] * v[j];
                    }
                    for (int j = 0; j < d; j++) {
                        nv[j] += s * row[j];
                    }
                }
                for (int k = 0; k < c; k++) {
                    double s = 0;
                    for (int j = 0; j < d; j++) {
                        s += nv[j] * comps[k][j];
                    }
                    for (int j = 0; j < d; j++) {
                        nv[j] -= s * comps[k][j];
                    }
                }
                double norm = 0;
                for (double t : nv) {
                    norm += t * t;
                }
                norm = Math.sqrt(norm);
                if (norm == 0) {
                    break;
                }
                for (int j = 0; j < d; j++) {
                    v[j] = nv[j] / norm;
                }
            }
            comps[c] = v;
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int j = 0; j < d; j++) {
                    s += a[i][j] * v[j];
                }
                out[i][c] = s;
            }
        }
        return out;
    }
}
