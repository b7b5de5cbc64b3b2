package dev.latent.bench.harness;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The tables {@code latent bench} prints for people: notes and a title, then a header and rows whose
 * columns are as wide as their widest cell; the first {@code textColumns} columns are left-aligned
 * (names), the rest right-aligned (numbers).
 */
public final class Table {

    private final List<String> notes = new ArrayList<>();
    private final String title;
    private final int textColumns;
    private final List<String[]> lines = new ArrayList<>();
    private final List<String> footer = new ArrayList<>();

    public Table(String title, int textColumns, String... header) {
        this.title = title;
        this.textColumns = textColumns;
        lines.add(header);
    }

    /** A line printed before the title. */
    public Table note(String line) {
        notes.add(line);
        return this;
    }

    /** A line printed after the rows. */
    public Table footer(String line) {
        footer.add(line);
        return this;
    }

    public Table add(String... cells) {
        lines.add(cells);
        return this;
    }

    /** {@code value} in {@code format}, or "-" when it is NaN (not measured). */
    public static String cell(String format, double value) {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, format, value);
    }

    /** A median with the range of the timed groups, e.g. "49612 (48100..50230)". */
    public static String spread(String format, double median, double min, double max) {
        if (Double.isNaN(min) || Double.isNaN(max)) {
            return cell(format, median);
        }
        return cell(format, median) + " (" + cell(format, min) + ".." + cell(format, max) + ")";
    }

    void print(PrintWriter out) {
        notes.forEach(out::println);
        out.println(title);
        int columns = lines.stream().mapToInt(l -> l.length).max().orElse(0);
        int[] width = new int[columns];
        for (String[] l : lines) {
            for (int c = 0; c < l.length; c++) {
                width[c] = Math.max(width[c], l[c].length());
            }
        }
        for (String[] l : lines) {
            StringBuilder b = new StringBuilder();
            for (int c = 0; c < l.length; c++) {
                String pad = " ".repeat(width[c] - l[c].length());
                b.append(c == 0 ? "" : "  ").append(c < textColumns ? l[c] + pad : pad + l[c]);
            }
            out.println(b.toString().stripTrailing());
        }
        footer.forEach(out::println);
    }
}
