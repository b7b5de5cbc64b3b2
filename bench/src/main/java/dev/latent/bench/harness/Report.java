package dev.latent.bench.harness;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;

/**
 * Where a {@code latent bench} command sends its rows: with {@code --json} each row is printed as one
 * JSON line the moment it exists (so a child JVM's parent, or a script, sees rows as they come);
 * without it, progress lines go to stderr and the command prints its {@link Table} at the end.
 */
public final class Report {

    private final PrintWriter out;
    private final boolean json;
    private final boolean progress;
    private final String name;
    private final List<Row> rows = new ArrayList<>();
    private UnaryOperator<Row> decorate = Environment::put;

    /**
     * {@code name} prefixes progress lines, e.g. "bench gemm"; {@code progress} says whether to print
     * them (a child JVM prints JSON rows, and progress when its parent prints a table).
     */
    public Report(PrintWriter out, boolean json, boolean progress, String name) {
        this.out = out;
        this.json = json;
        this.progress = progress;
        this.name = name;
    }

    /** A report of JSON rows without progress, or of a table with progress. */
    public Report(PrintWriter out, boolean json, String name) {
        this(out, json, !json, name);
    }

    /**
     * Adds fields every row gets before it is kept and printed (after those of earlier calls, and after the
     * {@link Environment}'s, which every row gets), also the rows of peers and child JVMs (e.g. the fraction of
     * the FMA ceiling, from the row's own rate).
     */
    public void decorate(UnaryOperator<Row> fields) {
        UnaryOperator<Row> before = decorate;
        this.decorate = r -> fields.apply(before.apply(r));
    }

    public void emit(Row row) {
        row = decorate.apply(row);
        rows.add(row);
        if (json) {
            out.println(row);
            out.flush();
        }
    }

    public void emitAll(List<Row> more) {
        more.forEach(this::emit);
    }

    /** A progress line on stderr, by default only in table mode (JSON consumers want a quiet run). */
    public void progress(String format, Object... args) {
        if (progress) {
            System.err.printf(Locale.ROOT, name + ": " + format + "%n", args);
        }
    }

    /** A warning on stderr in both modes: something the numbers' reader must know. */
    public void warn(String format, Object... args) {
        System.err.printf(Locale.ROOT, name + ": " + format + "%n", args);
    }

    public List<Row> rows() {
        return rows;
    }

    public boolean json() {
        return json;
    }

    /** Whether any row failed its result check. */
    public boolean anyWrong() {
        return rows.stream().anyMatch(r -> !r.correct());
    }

    /** Prints {@code table} unless rows went out as JSON; the exit code: 1 if a result check failed, else 0. */
    public int finish(Table table) {
        if (!json) {
            table.print(out);
        }
        out.flush();
        return anyWrong() ? 1 : 0;
    }

    /** The OpenBLAS core line tables print first when an openblas row names its core. */
    public void coreLine(Table table) {
        rows.stream().filter(r -> r.has("core")).findFirst().ifPresent(r -> table.note(String.format(Locale.ROOT,
                "OpenBLAS core: %s (OPENBLAS_CORETYPE=%s)", r.text("core"), System.getenv().getOrDefault("OPENBLAS_CORETYPE", "unset"))));
    }
}
