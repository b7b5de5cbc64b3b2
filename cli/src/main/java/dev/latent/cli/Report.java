package dev.latent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latent.io.SafeTensors;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * {@code report.html}: one static page (no network, no script) that shows what a run wrote into its
 * directory, rebuilt from the files alone, so {@code latent report DIR} and the commands that train or
 * evaluate make the same page. It shows, when present: the model's config (model.safetensors'
 * {@code __metadata__.config}) and the run's settings (results.json / fewlabel.json), the few-label
 * table and a plot of test accuracy against labels per class (one line per method, error bars of one
 * standard deviation over the draws), the per-epoch curves of metrics.jsonl, every picture (filters,
 * reconstructions labelled input / reconstruction, GAN samples, interpolation and arithmetic grids with
 * their column headers, the last of the per-epoch samples), and benchmark rows. Plots are inline SVG.
 */
final class Report {

    static final String FILE = "report.html";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

    /** Captions of the pictures latent writes, in page order; other PNGs follow under their file names. */
    private static final Map<String, String> PICTURES = new LinkedHashMap<>();

    static {
        PICTURES.put("filters.png", "First-layer filters: for each hidden unit the input of norm 1 that activates it most, x = w_i / ||w_i||");
        PICTURES.put("layer2-units.png", "Second-layer units");
        PICTURES.put("reconstructions.png", "Top row: input. Bottom row: reconstruction");
        PICTURES.put("loss.png", "Training objective and test reconstruction loss per epoch");
        PICTURES.put("samples.png", "Generated samples");
        PICTURES.put("interpolation.png", "Interpolation between two latent points, one row per pair");
        PICTURES.put("arithmetic.png", "Latent arithmetic, columns: thick a | thin a | thin b | result = thick a - thin a + thin b");
        PICTURES.put("centroids.png", "k-means centroids");
    }

    private Report() {
    }

    /** Writes DIR/report.html from the files in DIR (atomically) and returns its path. */
    static Path write(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new dev.latent.io.BadInputException(dir + ": not a directory");
        }
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>latent: ").append(esc(dir.getFileName()))
                .append("</title>\n<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
                        + "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
                        + "td:first-child,th:first-child{text-align:left}figure{margin:1em 0}figcaption{color:#555}"
                        + "img{image-rendering:pixelated;max-width:100%;border:1px solid #ddd}pre{background:#f6f6f6;padding:8px;"
                        + "overflow-x:auto}</style></head><body>\n");
        h.append("<h1>latent: ").append(esc(dir.toAbsolutePath().normalize())).append("</h1>\n");
        JsonNode results = firstJson(dir, "results.json", "fewlabel.json");
        config(dir, results, h);
        if (results != null && results.has("methods")) {
            fewLabel(results.get("methods"), h);
        }
        curves(dir.resolve("metrics.jsonl"), h);
        pictures(dir, h);
        bench(dir, h);
        h.append("</body></html>\n");
        Path out = dir.resolve(FILE);
        dev.latent.io.AtomicFiles.writeString(out, h);
        return out;
    }

    private static JsonNode firstJson(Path dir, String... names) throws IOException {
        for (String n : names) {
            Path p = dir.resolve(n);
            if (Files.isRegularFile(p)) {
                try {
                    return JSON.readTree(p.toFile());
                } catch (IOException e) {
                    throw new dev.latent.io.BadInputException(p + ": not valid JSON: " + e.getMessage(), e);
                }
            }
        }
        return null;
    }

    private static void config(Path dir, JsonNode results, StringBuilder h) throws IOException {
        Path model = dir.resolve("model.safetensors");
        if (Files.isRegularFile(model)) {
            try (Arena arena = Arena.ofConfined()) {
                SafeTensors.Loaded l = SafeTensors.read(model, arena);
                h.append("<h2>Model</h2>\n<p>kind <b>").append(esc(l.metadata().getOrDefault("kind", "?"))).append("</b>, ")
                        .append(l.tensors().size()).append(" tensors</p>\n");
                String c = l.metadata().get("config");
                if (c != null) {
                    h.append("<pre>").append(esc(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(JSON.readTree(c)))).append("</pre>\n");
                }
            }
        }
        if (results != null) {
            Map<String, JsonNode> settings = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = results.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getKey().equals("methods")) {
                    settings.put(e.getKey(), e.getValue());
                }
            }
            if (!settings.isEmpty()) {
                h.append("<h2>Run</h2>\n<pre>").append(esc(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(settings))).append("</pre>\n");
            }
        }
    }

    /** The few-label table and the accuracy plot (x: labels per class on a log axis). */
    private static void fewLabel(JsonNode methods, StringBuilder h) {
        Map<String, Map<Integer, double[]>> by = new LinkedHashMap<>();
        TreeSet<Integer> ns = new TreeSet<>();
        for (JsonNode m : methods) {
            int n = m.path("labels_per_class").asInt();
            ns.add(n);
            by.computeIfAbsent(m.path("name").asText(), k -> new LinkedHashMap<>())
                    .put(n, new double[] {m.path("accuracy_mean").asDouble(), m.path("accuracy_std").asDouble()});
        }
        h.append("<h2>Few-label test accuracy</h2>\n<table id=\"fewlabel\"><tr><th>method</th>");
        for (int n : ns) {
            h.append("<th>").append(n).append(" labels/class</th>");
        }
        h.append("</tr>\n");
        for (Map.Entry<String, Map<Integer, double[]>> e : by.entrySet()) {
            h.append("<tr><td>").append(esc(e.getKey())).append("</td>");
            for (int n : ns) {
                double[] v = e.getValue().get(n);
                h.append("<td>").append(v == null ? "" : String.format(Locale.ROOT, "%.1f &plusmn; %.1f", 100 * v[0], 100 * v[1])).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
        double lo = 100;
        double hi = 0;
        for (Map<Integer, double[]> m : by.values()) {
            for (double[] v : m.values()) {
                lo = Math.min(lo, 100 * (v[0] - v[1]));
                hi = Math.max(hi, 100 * (v[0] + v[1]));
            }
        }
        lo = Math.max(0, Math.floor(lo / 10) * 10);
        hi = Math.min(100, Math.ceil(hi / 10) * 10);
        Svg s = new Svg(760, 360, Math.log10(Math.max(1, ns.first())), Math.log10(Math.max(ns.first() + 1, ns.last())), lo, hi);
        for (int n : ns) {
            s.xTick(Math.log10(Math.max(1, n)), Integer.toString(n));
        }
        for (double y = lo; y <= hi + 1e-9; y += 10) {
            s.yTick(y, String.format(Locale.ROOT, "%.0f%%", y));
        }
        int i = 0;
        for (Map.Entry<String, Map<Integer, double[]>> e : by.entrySet()) {
            String colour = COLOURS[i++ % COLOURS.length];
            List<double[]> pts = new ArrayList<>();
            for (Map.Entry<Integer, double[]> p : e.getValue().entrySet()) {
                double x = Math.log10(Math.max(1, p.getKey()));
                pts.add(new double[] {x, 100 * p.getValue()[0]});
                s.errorBar(x, 100 * (p.getValue()[0] - p.getValue()[1]), 100 * (p.getValue()[0] + p.getValue()[1]), colour);
            }
            s.line(pts, colour, e.getKey());
        }
        h.append("<figure>").append(s.render("labels per class (log scale)", "test accuracy"))
                .append("<figcaption>Mean test accuracy over the draws; bars: one standard deviation.</figcaption></figure>\n");
    }

    /** One plot per run of metrics.jsonl: every numeric field (but time and rate) per epoch. */
    private static void curves(Path metrics, StringBuilder h) throws IOException {
        if (!Files.isRegularFile(metrics)) {
            return;
        }
        Map<String, List<double[]>> series = new LinkedHashMap<>();
        int row = 0;
        for (String line : Files.readAllLines(metrics)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode j;
            try {
                j = JSON.readTree(line);
            } catch (IOException e) {
                throw new dev.latent.io.BadInputException(metrics + ": line " + (row + 1) + " is not JSON: " + e.getMessage(), e);
            }
            row++;
            double x = j.path("epoch").asDouble(row);
            for (Iterator<Map.Entry<String, JsonNode>> it = j.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String k = e.getKey();
                if (e.getValue().isNumber() && !k.equals("epoch") && !k.contains("second") && !k.contains("per_s")
                        && Double.isFinite(e.getValue().asDouble())) {
                    series.computeIfAbsent(k, q -> new ArrayList<>()).add(new double[] {x, e.getValue().asDouble()});
                }
            }
        }
        if (series.isEmpty()) {
            return;
        }
        h.append("<h2>Training curves (metrics.jsonl)</h2>\n");
        for (Map.Entry<String, List<double[]>> e : series.entrySet()) {
            List<double[]> p = e.getValue();
            double x0 = p.stream().mapToDouble(v -> v[0]).min().orElse(0);
            double x1 = p.stream().mapToDouble(v -> v[0]).max().orElse(1);
            double y0 = p.stream().mapToDouble(v -> v[1]).min().orElse(0);
            double y1 = p.stream().mapToDouble(v -> v[1]).max().orElse(1);
            Svg s = new Svg(520, 240, x0, Math.max(x1, x0 + 1), y0, y1 > y0 ? y1 : y0 + 1);
            s.xTick(x0, fmt(x0));
            s.xTick(x1, fmt(x1));
            s.yTick(y0, fmt(y0));
            s.yTick(y1, fmt(y1));
            s.line(p, COLOURS[0], null);
            h.append("<figure style=\"display:inline-block\">").append(s.render("epoch", e.getKey()))
                    .append("<figcaption>").append(esc(e.getKey())).append("</figcaption></figure>\n");
        }
    }

    private static void pictures(Path dir, StringBuilder h) throws IOException {
        List<String> order = pictures(dir);
        if (order.isEmpty()) {
            return;
        }
        h.append("<h2>Pictures</h2>\n");
        for (String n : order) {
            String caption = caption(n);
            h.append("<figure><img src=\"").append(esc(n)).append("\" alt=\"").append(esc(caption)).append("\"><figcaption>")
                    .append(esc(caption)).append("</figcaption></figure>\n");
        }
    }

    /**
     * The PNGs of {@code dir} as the page shows them: latent's known pictures in page order, the last of the
     * per-epoch samples, then the others by name.
     */
    static List<String> pictures(Path dir) throws IOException {
        List<String> pngs;
        try (Stream<Path> s = Files.list(dir)) {
            pngs = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".png") && !n.equals("report.png")).sorted().toList();
        }
        List<String> epochSamples = pngs.stream().filter(n -> n.startsWith("samples-epoch-")).toList();
        List<String> order = new ArrayList<>();
        PICTURES.keySet().stream().filter(pngs::contains).forEach(order::add);
        if (!epochSamples.isEmpty()) {
            order.add(epochSamples.getLast());
        }
        pngs.stream().filter(n -> !order.contains(n) && !n.startsWith("samples-epoch-")).forEach(order::add);
        return order;
    }

    /** The caption of a picture latent writes (its file name for one it does not know). */
    static String caption(String png) {
        return PICTURES.getOrDefault(png, png.startsWith("samples-epoch-") ? "Fixed-noise samples after the last epoch (" + png + ")" : png);
    }

    /** Benchmark rows (bench.jsonl, JSON lines of `latent bench --json`): samples/s as bars. */
    private static void bench(Path dir, StringBuilder h) throws IOException {
        Path p = dir.resolve("bench.jsonl");
        if (!Files.isRegularFile(p)) {
            return;
        }
        List<String[]> rows = new ArrayList<>();
        double max = 0;
        for (String line : Files.readAllLines(p)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode j = JSON.readTree(line);
            double v = j.path("samples_per_s").asDouble(Double.NaN);
            if (Double.isFinite(v)) {
                rows.add(new String[] {j.path("engine").asText("?") + " " + j.path("provider").asText("") + " " + j.path("workload").asText("")
                        + " batch " + j.path("batch").asText(""), Double.toString(v)});
                max = Math.max(max, v);
            }
        }
        if (rows.isEmpty()) {
            return;
        }
        h.append("<h2>Benchmarks (samples/s)</h2>\n<svg width=\"760\" height=\"").append(24 * rows.size() + 10)
                .append("\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"12\">");
        for (int i = 0; i < rows.size(); i++) {
            double v = Double.parseDouble(rows.get(i)[1]);
            double w = 400 * v / max;
            h.append(String.format(Locale.ROOT, "<text x=\"0\" y=\"%d\">%s</text><rect x=\"330\" y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"%s\"/>"
                    + "<text x=\"%.1f\" y=\"%d\">%s</text>", 24 * i + 17, esc(rows.get(i)[0]), 24 * i + 5, w, COLOURS[0], 335 + w, 24 * i + 17,
                    fmt(v)));
        }
        h.append("</svg>\n");
    }

    private static String fmt(double v) {
        return Math.abs(v) >= 100 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%.3g", v);
    }

    static String esc(Object o) {
        String s = String.valueOf(o);
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /** A small SVG chart: data coordinates mapped into a plot area with margins for ticks and labels. */
    private static final class Svg {
        private final int w;
        private final int hgt;
        private final double x0;
        private final double x1;
        private final double y0;
        private final double y1;
        private final StringBuilder body = new StringBuilder();
        private final StringBuilder legend = new StringBuilder();
        private int legendRows;
        private static final int LEFT = 60;
        private static final int RIGHT = 20;
        private static final int TOP = 10;
        private static final int BOTTOM = 40;

        Svg(int w, int h, double x0, double x1, double y0, double y1) {
            this.w = w;
            this.hgt = h;
            this.x0 = x0;
            this.x1 = x1 == x0 ? x0 + 1 : x1;
            this.y0 = y0;
            this.y1 = y1 == y0 ? y0 + 1 : y1;
        }

        double px(double x) {
            return LEFT + (x - x0) / (x1 - x0) * (w - LEFT - RIGHT);
        }

        double py(double y) {
            return hgt - BOTTOM - (y - y0) / (y1 - y0) * (hgt - TOP - BOTTOM);
        }

        void xTick(double x, String label) {
            body.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>"
                    + "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>", px(x), TOP, px(x), hgt - BOTTOM, px(x), hgt - BOTTOM + 15, esc(label)));
        }

        void yTick(double y, String label) {
            body.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>", LEFT, py(y), w - RIGHT, py(y), LEFT - 5, py(y) + 4, esc(label)));
        }

        void errorBar(double x, double lo, double hi, String colour) {
            body.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\"/>",
                    px(x), py(Math.max(lo, y0)), px(x), py(Math.min(hi, y1)), colour));
        }

        void line(List<double[]> pts, String colour, String name) {
            StringBuilder p = new StringBuilder();
            for (double[] v : pts) {
                p.append(String.format(Locale.ROOT, "%.1f,%.1f ", px(v[0]), py(v[1])));
                body.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>", px(v[0]), py(v[1]), colour));
            }
            body.append("<polyline fill=\"none\" stroke=\"").append(colour).append("\" stroke-width=\"2\" points=\"").append(p).append("\"/>");
            if (name != null) {
                int y = TOP + 14 * legendRows++ + 10;
                legend.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"3\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>",
                        LEFT + 10, y, colour, LEFT + 28, y + 4, esc(name)));
            }
        }

        String render(String xLabel, String yLabel) {
            return String.format(Locale.ROOT, "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">"
                            + "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>%s%s"
                            + "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>"
                            + "<text x=\"12\" y=\"%d\" transform=\"rotate(-90 12 %d)\" text-anchor=\"middle\">%s</text></svg>",
                    w, hgt, LEFT, TOP, w - LEFT - RIGHT, hgt - TOP - BOTTOM, body, legend, (LEFT + w - RIGHT) / 2, hgt - 5, esc(xLabel),
                    (TOP + hgt - BOTTOM) / 2, (TOP + hgt - BOTTOM) / 2, esc(yLabel));
        }
    }
}
