package dev.latent.bench.cli;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.bench.harness.Ceiling;
import dev.latent.bench.harness.ChildJvm;
import dev.latent.bench.harness.Contention;
import dev.latent.bench.harness.EncodeCheck;
import dev.latent.bench.harness.Report;
import dev.latent.bench.harness.Row;
import dev.latent.bench.harness.Table;
import dev.latent.bench.harness.Timer;
import dev.latent.bench.harness.Timing;
import dev.latent.bench.peer.OrtPeer;
import dev.latent.bench.peer.PythonPeer;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.KernelThreads;
import dev.latent.kernel.Kernels;
import dev.latent.kernel.PackedDense;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.onnx.OnnxExport;
import dev.latent.serve.Encoder;
import dev.latent.workload.EncoderWorkload;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latent bench encode}: workload W5 ({@link EncoderWorkload}, the encoder 784-1000-500-250-30)
 * served through {@link Encoder}'s segment API: single-sample latency (us per call, batch 1) and
 * batch-256 throughput (samples/s), with the bytes the calling thread allocates per call. In the same
 * command the same model runs in ONNX Runtime (in-process, on latent's exported ONNX file, intra-op
 * threads 1 and 2; {@link OrtPeer}) and in PyTorch (bench/peers/encode_peers.py, on the same model
 * file); the table compares latent with each peer's best setting against the W5 targets. latent's and
 * ONNX Runtime's codes are checked once with {@link EncodeCheck} before timing: a wrong result is
 * reported as WRONG and fails the command. Kernel thread counts other than this JVM's run in a
 * {@link ChildJvm}.
 */
@Command(name = "encode", mixinStandardHelpOptions = true,
        description = "W5 encoder latency (batch 1) and throughput (batch 256), latent beside ONNX Runtime and PyTorch.")
final class EncodeCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--kernels", split = ",", description = "latent providers (default: every available one but scalar).")
    List<String> providers;

    @Option(names = "--threads", split = ",", description = "latent kernel thread counts (default: this JVM's).")
    List<Integer> threads;

    @Option(names = "--ort-threads", split = ",", defaultValue = "1,2", description = "ONNX Runtime intra-op threads (default: ${DEFAULT-VALUE}).")
    List<Integer> ortThreads;

    @Option(names = "--seconds", defaultValue = "2", description = "Timed seconds per measurement, after a warm-up until the rate is steady (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--no-peers", description = "Skip ONNX Runtime and PyTorch.")
    boolean noPeers;

    @Option(names = "--json", description = "One JSON object per line instead of a table.")
    boolean json;

    @Option(names = "--bf16", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Also time latent with bfloat16 weights (rows weights=bf16; their codes are checked against the"
                    + " model with rounded weights). Default: on; --no-bf16 skips them.")
    boolean bf16;

    @Option(names = "--contended", description = "Measure everything twice: quietly, then with one CPU-bound process"
            + " per core started by the command (yes > /dev/null); rows carry load=quiet|contended and the table what"
            + " each engine kept.")
    boolean contended;

    /** The load the rows being measured run under (a field of every row; a child JVM's rows get it from the parent). */
    private String load = "quiet";

    @Option(names = "--child", hidden = true, description = "Run as a child JVM of this command: JSON rows (progress unless --json), latent only, this JVM's threads.")
    boolean child;

    private static final int[] BATCHES = {1, EncoderWorkload.BATCH};

    @Override
    public Integer call() throws Exception {
        Report report = new Report(spec.commandLine().getOut(), json || child, !json, "bench encode");
        report.decorate(Ceiling.fromRate("samples_per_s", r -> EncoderWorkload.flopPerSample()));
        if (!child) {
            report.decorate(r -> r.has("load") ? r : r.put("load", load));
        }
        List<String> names = KernelOption.resolve(providers,
                KernelRegistry.availableNames().stream().filter(n -> !n.equals("scalar")).toList());
        List<Integer> counts = child || threads == null ? List.of(KernelThreads.count()) : threads;
        Path dir = Files.createTempDirectory("latent-bench-encode");
        try {
            Path model = dir.resolve("w5.safetensors");
            float[] x = EncoderWorkload.input();
            EncodeCheck check;
            EncodeCheck checkBf16;
            try (Autoencoder ae = EncoderWorkload.build(Kernels.current())) {
                ae.save(model, null);
                check = new EncodeCheck(ae, x);
                // bfloat16 rows are checked against the same model with its weights rounded to bfloat16,
                // whose float32 codes they must equal (PackedDense.Storage)
                for (var p : ae.network().params()) {
                    if (p.decay()) {
                        for (long i = 0; i < p.value().size(); i++) {
                            p.value().set(i, PackedDense.roundToBfloat16(p.value().get(i)));
                        }
                    }
                }
                checkBf16 = new EncodeCheck(ae, x);
            }
            measureAll(report, names, counts, model, x, check, checkBf16, dir);
            if (contended && !child) {
                int cores = Runtime.getRuntime().availableProcessors();
                report.progress("again with %d competing CPU-bound process(es)", cores);
                try (Contention c = Contention.start(cores)) {
                    load = "contended";
                    measureAll(report, names, counts, model, x, check, checkBf16, dir);
                }
            }
        } finally {
            try (var s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
        return child ? 0 : report.finish(table(report));
    }

    private void measureAll(Report report, List<String> names, List<Integer> counts, Path model, float[] x, EncodeCheck check,
            EncodeCheck checkBf16, Path dir) throws Exception {
        for (int t : counts) {
            if (t == KernelThreads.count()) {
                for (String p : names) {
                    measureLatent(report, KernelRegistry.load(p), model, x, check, PackedDense.Storage.FLOAT32);
                    if (bf16 && !p.equals("scalar")) {
                        measureLatent(report, KernelRegistry.load(p), model, x, checkBf16, PackedDense.Storage.BFLOAT16);
                    }
                }
            } else {
                report.progress("starting a JVM with %d kernel thread(s)", t);
                List<String> args = new ArrayList<>(List.of("encode", "--child", "--seconds=" + seconds, bf16 ? "--bf16" : "--no-bf16",
                        "--kernels=" + String.join(",", names)));
                if (json) {
                    args.add("--json");
                }
                ChildJvm.run(Map.of(KernelThreads.PROPERTY, Integer.toString(t)), BenchCommand.class, args, report::emit);
            }
        }
        if (!noPeers && !child) {
            Path onnx = dir.resolve("w5.onnx");
            if (!Files.exists(onnx)) {
                OnnxExport.write(model, onnx);
            }
            for (int t : ortThreads) {
                measureOrt(report, onnx, t, x, check);
            }
            PythonPeer.torch("encode_peers.py", List.of("--model", model.toString(), "--seconds", Double.toString(seconds)), report);
        }
    }

    private static Row row(String engine, int batch) {
        return Row.of("encode", engine).put("batch", batch);
    }

    /** The timing fields of an encode row: us per call and samples/s (medians with their ranges), then the stats. */
    private static Row timed(Row r, Timing t, int batch) {
        t.putTime(r, "us_per_call", 1e6, 1);
        t.putRate(r, "samples_per_s", batch, 1);
        return t.putStats(r.put("correct", true));
    }

    private void measureLatent(Report report, Kernels k, Path model, float[] x, EncodeCheck check, PackedDense.Storage weights)
            throws Exception {
        try (Encoder enc = Encoder.load(model, k, weights); Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate((long) x.length * Float.BYTES, 64);
            MemorySegment codes = arena.allocate((long) EncoderWorkload.BATCH * EncoderWorkload.CODE * Float.BYTES, 64);
            MemorySegment.copy(x, 0, in, JAVA_FLOAT, 0, x.length);
            for (int batch : BATCHES) {
                report.progress("latent %s (%d threads), batch %d", k.name(), KernelThreads.count(), batch);
                Row r = row("latent", batch).put("provider", k.name()).put("threads", KernelThreads.count())
                        .put("weights", weights == PackedDense.Storage.BFLOAT16 ? "bf16" : "f32");
                String core = k.details().get("blas core");
                if (core != null) {
                    r.put("core", core);
                }
                codes.fill((byte) 0xff); // NaN: a call that writes nothing cannot pass the check
                enc.encode(in, codes, batch);
                String wrong = check.mismatch(codes.toArray(JAVA_FLOAT), batch);
                if (wrong != null) {
                    report.warn("WRONG W5 codes from latent %s, batch %d: %s", k.name(), batch, wrong);
                    report.emit(r.put("correct", false));
                    continue;
                }
                report.emit(timed(r, Timer.run(() -> enc.encode(in, codes, batch), Timer.Plan.of(seconds)), batch));
            }
        }
    }

    private void measureOrt(Report report, Path onnx, int intra, float[] x, EncodeCheck check) throws Exception {
        try (OrtPeer ort = new OrtPeer(onnx, intra, EncoderWorkload.INPUT)) {
            for (int batch : BATCHES) {
                report.progress("onnxruntime intra_op=%d, batch %d", intra, batch);
                Row r = row("onnxruntime", batch).put("config", "intra_op=" + intra);
                float[] codes = new float[batch * EncoderWorkload.CODE];
                Arrays.fill(codes, Float.NaN);
                try (OrtPeer.Call c = ort.call(x, batch)) {
                    c.run(codes);
                    String wrong = check.mismatch(codes, batch);
                    if (wrong != null) {
                        report.warn("WRONG W5 codes from onnxruntime intra_op=%d, batch %d: %s", intra, batch, wrong);
                        report.emit(r.put("correct", false));
                        continue;
                    }
                    report.emit(timed(r, Timer.run(() -> c.run(codes), Timer.Plan.of(seconds)), batch));
                }
            }
        }
    }

    private static String label(Row r) {
        return engineLabel(r) + (contended(r) ? " +load" : "");
    }

    private static String engineLabel(Row r) {
        return r.text("engine").equals("latent") ? "latent " + r.text("provider") + " threads=" + (int) r.number("threads")
                + (r.has("weights") && r.text("weights").equals("bf16") ? " bf16" : "")
                : r.text("engine") + " " + r.text("config");
    }

    private static boolean contended(Row r) {
        return r.has("load") && r.text("load").equals("contended");
    }

    /** The best (lowest) batch-1 latency or (highest) batch-256 throughput among an engine's correct rows. */
    private static double best(List<Row> rows, String engine, int batch) {
        return best(rows, engine, batch, false);
    }

    /** float32 rows only: the targets compare the same arithmetic (bfloat16 rows are reported beside them). */
    private static double best(List<Row> rows, String engine, int batch, boolean underLoad) {
        return best(rows, engine, batch, underLoad, false);
    }

    private static double best(List<Row> rows, String engine, int batch, boolean underLoad, boolean bf16) {
        var values = rows.stream().filter(r -> r.text("engine").equals(engine) && (int) r.number("batch") == batch && r.correct()
                        && contended(r) == underLoad && (r.has("weights") && r.text("weights").equals("bf16")) == bf16)
                .mapToDouble(r -> r.number(batch == 1 ? "us_per_call" : "samples_per_s"));
        return (batch == 1 ? values.min() : values.max()).orElse(Double.NaN);
    }

    private static Table table(Report report) {
        List<Row> rows = report.rows();
        Table table = new Table("W5 encoder 784-1000-500-250-30 (sigmoid, linear code), float32; median of timed groups (min..max)",
                1, "engine", "batch-1 us", "batch-256 samples/s", "ceiling@1", "ceiling@256", "bytes/call@1", "bytes/call@256");
        report.coreLine(table);
        for (String l : rows.stream().map(EncodeCommand::label).distinct().toList()) {
            Row one = rows.stream().filter(r -> label(r).equals(l) && (int) r.number("batch") == 1).findFirst().orElse(null);
            Row big = rows.stream().filter(r -> label(r).equals(l) && (int) r.number("batch") == EncoderWorkload.BATCH).findFirst().orElse(null);
            table.add(l, cell(one, "us_per_call", "%.1f"), cell(big, "samples_per_s", "%.0f"), Ceiling.cell(one), Ceiling.cell(big),
                    cell(one, "bytes_per_call", "%.0f"),
                    cell(big, "bytes_per_call", "%.0f"));
        }
        double lat = best(rows, "latent", 1);
        double thr = best(rows, "latent", EncoderWorkload.BATCH);
        double torchLat = best(rows, "pytorch", 1);
        double ortLat = best(rows, "onnxruntime", 1);
        double ortThr = best(rows, "onnxruntime", EncoderWorkload.BATCH);
        table.footer("Targets (latent's best against each peer's best setting):");
        target(table, "batch-1 latency <= 0.5x PyTorch's", lat / torchLat, lat / torchLat <= 0.5);
        target(table, "batch-1 latency <= ONNX Runtime's", lat / ortLat, lat / ortLat <= 1);
        target(table, "batch-256 throughput >= ONNX Runtime's", thr / ortThr, thr / ortThr >= 1);
        double latH = best(rows, "latent", 1, false, true);
        double thrH = best(rows, "latent", EncoderWorkload.BATCH, false, true);
        if (!Double.isNaN(latH) || !Double.isNaN(thrH)) {
            table.footer(String.format(Locale.ROOT, "  with bfloat16 weights (error 2e-3 relative): batch-1 latency %s of ONNX Runtime's,"
                    + " batch-256 throughput %s", Table.cell("%.2fx", latH / ortLat), Table.cell("%.2fx", thrH / ortThr)));
        }
        if (rows.stream().anyMatch(EncodeCommand::contended)) {
            table.footer("Under one competing CPU-bound process per core, each engine's best kept (target: latent >= 40%"
                    + " and >= what the peers keep):");
            for (String engine : rows.stream().map(r -> r.text("engine")).distinct().toList()) {
                double kept1 = best(rows, engine, 1) / best(rows, engine, 1, true);
                double kept256 = best(rows, engine, EncoderWorkload.BATCH, true) / best(rows, engine, EncoderWorkload.BATCH);
                table.footer(String.format(Locale.ROOT, "  %-12s batch 1: %6s of its quiet rate   batch 256: %6s", engine,
                        Table.cell("%.0f%%", 100 * kept1), Table.cell("%.0f%%", 100 * kept256)));
            }
        }
        return table;
    }

    private static void target(Table table, String what, double ratio, boolean met) {
        table.footer(String.format(Locale.ROOT, "  %-42s ratio %6s  %s", what, Table.cell("%.2fx", ratio),
                Double.isNaN(ratio) ? "not measured" : met ? "met" : "MISSED"));
    }

    private static String cell(Row r, String field, String fmt) {
        if (r == null) {
            return "-";
        }
        if (!r.correct()) {
            return "WRONG";
        }
        if (!r.has(field)) {
            return "-";
        }
        String v = Table.cell(fmt, r.number(field));
        return r.has(field + "_min") ? Table.spread(fmt, r.number(field), r.number(field + "_min"), r.number(field + "_max")) : v;
    }
}
