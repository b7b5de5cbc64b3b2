package dev.latent.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.io.ModelFile;
import dev.latent.kernel.Activation;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.tensor.Workspace;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 15, one class of failure per test, run through {@link Main#run} as a user runs the command:
 * every failure is exit code 2 (bad input) or 3 (internal) with exactly one line on stderr naming the
 * option, file or field; nothing is written; no run reports a meaningless result with exit code 0.
 */
class HardeningTest {

    /** The exit code and the lines the command printed on stderr that are its own (not the JVM's or the logger's). */
    record Run(int code, List<String> lines, String err) {
        String line() {
            assertEquals(1, lines.size(), "exactly one line on stderr, got:\n" + err);
            return lines.get(0);
        }
    }

    static Run run(String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run(args);
        } finally {
            System.setErr(old);
        }
        String err = captured.toString(StandardCharsets.UTF_8);
        List<String> lines = err.lines().filter(l -> !l.startsWith("[") && !l.startsWith("WARNING: Using incubator")
                && !l.startsWith("fewlabel: ") && !l.isBlank()).toList();
        return new Run(code, lines, err);
    }

    static Stream<Arguments> badOptions() {
        return Stream.of(
                Arguments.of(List.of("fewlabel", "--mlp-hidden", "-1"), "--mlp-hidden"),
                Arguments.of(List.of("fewlabel", "--draws", "0"), "--draws"),
                Arguments.of(List.of("fewlabel", "--draws", "-2"), "--draws"),
                Arguments.of(List.of("fewlabel", "--budgets", "0"), "--budgets"),
                Arguments.of(List.of("fewlabel", "--budgets", "10,-1"), "--budgets"),
                Arguments.of(List.of("fewlabel", "--draws", "abc"), "--draws"),
                Arguments.of(List.of("demo", "--draws", "-2"), "--draws"),
                Arguments.of(List.of("demo", "--hidden", "0"), "--hidden"),
                Arguments.of(List.of("demo", "--epochs", "0"), "--epochs"),
                Arguments.of(List.of("demo", "--stack", "200,0"), "--stack"),
                Arguments.of(List.of("demo", "--stack-epochs", "-1"), "--stack-epochs"),
                Arguments.of(List.of("demo", "--test-fraction", "1.5"), "--test-fraction"),
                Arguments.of(List.of("demo", "--test-fraction", "NaN"), "--test-fraction"),
                Arguments.of(List.of("train", "--kind", "autoencoder", "--epochs", "0"), "--epochs"),
                Arguments.of(List.of("train", "--kind", "autoencoder", "--batch", "-5"), "--batch"),
                Arguments.of(List.of("train", "--kind", "autoencoder", "--lr", "NaN"), "--lr"),
                Arguments.of(List.of("train", "--kind", "autoencoder", "--lr", "-1"), "--lr"),
                Arguments.of(List.of("train", "--kind", "kmeans", "--layers", "0"), "--layers"),
                Arguments.of(List.of("train", "--kind", "autoencoder", "--set", "weigth_decay=1"), "weigth_decay"),
                Arguments.of(List.of("train", "--kind", "autoencoder", "--set", "weight_decay=NaN"), "weight_decay"),
                Arguments.of(List.of("train", "--kind", "autoencoder", "--set", "tied=maybe"), "tied"),
                Arguments.of(List.of("train", "--kind", "autoencoder", "--epoch", "3"), "--epoch"),
                Arguments.of(List.of("anchors", "--deep-epochs", "0"), "--deep-epochs"),
                Arguments.of(List.of("anchors", "--self-taught-iterations", "-3"), "--self-taught-iterations"),
                Arguments.of(List.of("anchors", "--rbm-epochs", "0"), "--rbm-epochs"),
                Arguments.of(List.of("anchors", "--deep-belief-lr", "2"), "--deep-belief-lr"),
                Arguments.of(List.of("anchors", "--only", "deep-belief", "--test-input", "t.idx"), "--test-input"),
                Arguments.of(List.of("frames", "--digit-size", "20"), "--digit-size"),
                Arguments.of(List.of("frames", "--hidden", "0"), "--hidden"),
                Arguments.of(List.of("frames", "--speed", "-1"), "--speed"),
                Arguments.of(List.of("frames", "--budgets", "10,-1"), "--budgets"),
                Arguments.of(List.of("encode", "--model", "no-such.safetensors", "--output", "x.safetensors"), "no-such.safetensors"));
    }

    /** Class 2/4: every count, size and budget is range-checked before any work; one line naming the option, exit 2. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("badOptions")
    void badOptionIsOneLineNamingItAndExitTwo(List<String> args, String named, @TempDir Path dir) {
        List<String> all = new ArrayList<>(args);
        if (!args.contains("encode")) {
            all.add("--out");
            all.add(dir.resolve("out").toString());
        }
        Run r = run(all.toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.line().contains(named), r.line());
        assertTrue(r.line().startsWith("latent " + args.get(0) + ": "), r.line());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertFalse(Files.exists(dir.resolve("out").resolve("model.safetensors")), "no work was done");
    }

    static Path model(Path dir) throws IOException {
        Path f = dir.resolve("model.safetensors");
        try (Autoencoder ae = Autoencoder.builder(784).hidden(4).activation(Activation.SIGMOID).maxBatch(64).build().init(1)) {
            ae.save(f, ModelFile.provenance("test", 1, "none"));
        }
        return f;
    }

    /** Class 5: a command never writes over one of its inputs, by the same path or through another path to the same file. */
    @Test
    void encodeAndExportRefuseToOverwriteAnInput(@TempDir Path dir) throws Exception {
        Path m = model(dir);
        byte[] before = Files.readAllBytes(m);
        Path link = dir.resolve("link.safetensors");
        Files.createSymbolicLink(link, m);
        for (String[] args : List.of(
                new String[] {"encode", "--model", m.toString(), "--output", m.toString()},
                new String[] {"encode", "--model", m.toString(), "--output", dir.resolve(".").resolve("model.safetensors").toString()},
                new String[] {"encode", "--model", m.toString(), "--output", link.toString(), "--csv"},
                new String[] {"export", "--onnx", "--model", link.toString(), "--output", m.toString()})) {
            Run r = run(args);
            assertEquals(2, r.code(), String.join(" ", args) + "\n" + r.err());
            assertTrue(r.line().contains("--output") && r.line().contains("input"), r.line());
            assertArrayEquals(before, Files.readAllBytes(m), "the model is untouched");
        }
        Path images = dir.resolve("images.idx");
        Path labels = dir.resolve("labels.idx");
        writeIdx(images, labels, 20, 28);
        Run r = run("encode", "--model", m.toString(), "--input", images.toString(), "--labels", labels.toString(),
                "--output", labels.toString());
        assertEquals(2, r.code(), r.err());
        // an input in --out with a name the command writes there
        Path out = dir.resolve("out");
        Files.createDirectories(out);
        Path inOut = out.resolve("metrics.jsonl");
        Files.copy(images, inOut);
        r = run("train", "--kind", "autoencoder", "--input", inOut.toString(), "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.line().contains("--out"), r.line());
        // encode still works to another file
        r = run("encode", "--model", m.toString(), "--input", images.toString(), "--output", dir.resolve("codes.safetensors").toString());
        assertEquals(0, r.code(), r.err());
    }

    /** Class 2: a model holding NaN is refused at load by every command, naming the file and the tensor; nothing is written. */
    @Test
    void nonFiniteWeightsAreRefusedAtLoad(@TempDir Path dir) throws Exception {
        Path m = model(dir);
        poisonFirstTensor(m, Float.NaN);
        Path codes = dir.resolve("codes.safetensors");
        for (String[] args : List.of(
                new String[] {"encode", "--model", m.toString(), "--output", codes.toString()},
                new String[] {"export", "--onnx", "--model", m.toString(), "--output", dir.resolve("m.onnx").toString()},
                new String[] {"fewlabel", "--model", m.toString(), "--budgets", "1", "--draws", "1", "--out", dir.toString()})) {
            Run r = run(args);
            assertEquals(2, r.code(), r.err());
            assertTrue(r.line().contains(m.toString()) && r.line().contains("NaN") && r.line().contains("tensor '"), r.line());
        }
        assertFalse(Files.exists(codes));
        assertFalse(Files.exists(dir.resolve("m.onnx")));
        assertFalse(Files.exists(dir.resolve("fewlabel.json")));
    }

    /** Class 3: no images, a finished run resumed: one line naming the file, exit 2, no exception name. */
    @Test
    void emptyDataAndFinishedResumeAreOneLine(@TempDir Path dir) throws Exception {
        Path images = dir.resolve("empty-images.idx");
        Path labels = dir.resolve("empty-labels.idx");
        writeIdx(images, labels, 0, 28);
        for (String kind : List.of("kmeans", "autoencoder", "hebbian")) {
            Run r = run("train", "--kind", kind, "--input", images.toString(), "--epochs", "1", "--out", dir.resolve("o").toString());
            assertEquals(2, r.code(), r.err());
            assertTrue(r.line().contains(images.toString()) && r.line().contains("0 images"), r.line());
        }
        Path some = dir.resolve("images.idx");
        writeIdx(some, dir.resolve("labels.idx"), 64, 28);
        Path out = dir.resolve("run");
        String[] train = {"train", "--kind", "autoencoder", "--input", some.toString(), "--set", "hidden=4", "--epochs", "1",
                "--batch", "32", "--out", out.toString()};
        assertEquals(0, run(train).code());
        String[] resume = Stream.concat(Stream.of(train), Stream.of("--resume")).toArray(String[]::new);
        Run r = run(resume);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.line().contains("checkpoint.safetensors") && r.line().contains("--epochs"), r.line());
    }

    /** Class 3: exit codes and the one line of every kind of failure; the trace only with --debug. */
    @Test
    void failuresMapToOneLineAndExitCodes() {
        StringWriter s = new StringWriter();
        assertEquals(Main.EXIT_INTERNAL, Main.report(new NullPointerException("x is null"), new PrintWriter(s), "latent t: ", false));
        assertTrue(s.toString().startsWith("latent t: internal error: java.lang.NullPointerException: x is null"), s.toString());
        assertEquals(1, s.toString().lines().count(), s.toString());
        s = new StringWriter();
        assertEquals(Main.EXIT_INTERNAL, Main.report(new java.util.NoSuchElementException(), new PrintWriter(s), "latent t: ", true));
        assertTrue(s.toString().lines().count() > 1, "the trace with --debug");
        s = new StringWriter();
        assertEquals(Main.EXIT_BAD_INPUT, Main.report(new ExceptionInInitializerError(new IllegalArgumentException("-Dx must be 1")),
                new PrintWriter(s), "latent t: ", false));
        assertEquals("latent t: -Dx must be 1", s.toString().strip());
        s = new StringWriter();
        assertEquals(Main.EXIT_BAD_INPUT, Main.report(new java.nio.file.NoSuchFileException("a/b"), new PrintWriter(s), "latent t: ", false));
        assertEquals("latent t: a/b: no such file or directory", s.toString().strip());
        s = new StringWriter();
        assertEquals(Main.EXIT_BAD_INPUT, Main.report(new OutOfMemoryError("Java heap space"), new PrintWriter(s), "latent t: ", false));
        assertTrue(s.toString().contains("MiB"), s.toString());
        // a message of several lines is still one line
        s = new StringWriter();
        Main.report(new IllegalStateException("one\ntwo\n"), new PrintWriter(s), "latent t: ", false);
        assertEquals("latent t: one; two", s.toString().strip());
    }

    /** Class 3: a request larger than the off-heap budget is refused before allocating, saying how much and what is available. */
    @Test
    void oversizedAllocationSaysWhatItNeeds() {
        try (Workspace ws = new Workspace("huge")) {
            long before = Workspace.offHeapInUse();
            OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> ws.allocateFloats(Long.MAX_VALUE / 8));
            assertTrue(e.getMessage().contains("'huge' needs") && e.getMessage().contains("limit"), e.getMessage());
            assertEquals(before, Workspace.offHeapInUse(), "a refused request holds nothing");
        }
    }

    /** Class 4: invalid kernel settings are one line and exit 2 in a fresh JVM, never ExceptionInInitializerError or a fallback. */
    @Test
    void invalidKernelSettingsAreOneLine() throws Exception {
        assertKernelSettingFails(List.of("-Dlatent.threads=0"), null, "-Dlatent.threads");
        assertKernelSettingFails(List.of("-Dlatent.threads=abc"), null, "-Dlatent.threads");
        assertKernelSettingFails(List.of("-Dlatent.vector.bits=100"), null, "-Dlatent.vector.bits");
        assertKernelSettingFails(List.of(), "bogus", "'bogus'");
    }

    private static void assertKernelSettingFails(List<String> props, String env, String named) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(props);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.add("info");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().remove("LATENT_KERNELS");
        pb.environment().remove("LATENT_THREADS");
        if (env != null) {
            pb.environment().put("LATENT_KERNELS", env);
        }
        Process p = pb.start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        int code = p.waitFor();
        List<String> ours = err.lines().filter(l -> l.startsWith("latent")).toList();
        assertEquals(2, code, props + " " + env + ":\n" + err);
        assertEquals(1, ours.size(), err);
        assertTrue(ours.get(0).contains(named), err);
        assertFalse(err.contains("ExceptionInInitializerError") || err.contains("\tat "), err);
    }

    /** Overwrites the first float of the first tensor of a safetensors file with {@code v}. */
    static void poisonFirstTensor(Path f, float v) throws IOException {
        byte[] b = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putFloat((int) (8 + n), v);
        Files.write(f, b);
    }

    /** An IDX image file of {@code n} random size x size images and its label file (labels i % 10). */
    static void writeIdx(Path images, Path labels, int n, int size) throws IOException {
        java.util.SplittableRandom r = new java.util.SplittableRandom(n);
        try (DataOutputStream o = new DataOutputStream(Files.newOutputStream(images))) {
            o.writeInt(0x803);
            o.writeInt(n);
            o.writeInt(size);
            o.writeInt(size);
            for (int i = 0; i < n * size * size; i++) {
                o.writeByte(r.nextInt(256));
            }
        }
        try (DataOutputStream o = new DataOutputStream(Files.newOutputStream(labels))) {
            o.writeInt(0x801);
            o.writeInt(n);
            for (int i = 0; i < n; i++) {
                o.writeByte(i % 10);
            }
        }
    }
}
