package dev.latent.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Line plots as PNG (XChart): loss curves and other per-epoch series. In the CLI, so that XChart (and
 * its PDF dependencies) stays off the class path of services that depend on latent-engine. */
final class Plots {

    private Plots() {
    }

    /**
     * One chart with a line per named series (x = 1, 2, ... per point), e.g. {"train": ..., "validation": ...}.
     * NaN points are dropped.
     */
    public static void lines(Path file, String title, String xLabel, String yLabel, Map<String, double[]> series) throws IOException {
        XYChart chart = new XYChartBuilder().width(800).height(500).title(title).xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setLegendVisible(series.size() > 1);
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            double[] ys = java.util.Arrays.stream(e.getValue()).filter(Double::isFinite).toArray();
            if (ys.length == 0) {
                continue;
            }
            double[] xs = new double[ys.length];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = i + 1;
            }
            chart.addSeries(e.getKey(), xs, ys).setMarker(ys.length > 40 ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
        }
        dev.latent.io.AtomicFiles.write(file, tmp -> {
            try (java.io.OutputStream os = Files.newOutputStream(tmp)) {
                BitmapEncoder.saveBitmap(chart, os, BitmapEncoder.BitmapFormat.PNG);
            }
        });
    }
}
