package dev.latent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.data.Dataset;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The help texts say what the commands do: {@code train --help} lists every {@code --set} key every
 * registered kind declares, and each command's help names every file a real (tiny) run of it writes,
 * so a file added to a command without its help failing this test cannot happen. The runs use the first
 * 300 embedded digits with their labels, one epoch and small models.
 */
class HelpTest {

    /** What a command printed on stdout, and its exit code. */
    record Out(int code, String text) {
    }

    static Out stdout(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run(args);
        } finally {
            System.setOut(old);
        }
        return new Out(code, captured.toString(StandardCharsets.UTF_8));
    }

    static String help(String... command) {
        Out o = stdout(Stream.concat(Stream.of(command), Stream.of("--help")).toArray(String[]::new));
        assertEquals(0, o.code(), o.text());
        return o.text();
    }

    /** The part of {@code train --help} about {@code kind}: from its heading to the next blank line. */
    static String section(String trainHelp, String kind) {
        int at = trainHelp.indexOf("\n" + kind + " (");
        assertTrue(at >= 0, "train --help has no section for " + kind);
        int end = trainHelp.indexOf("\n\n", at + 1);
        return trainHelp.substring(at, end < 0 ? trainHelp.length() : end);
    }

    @Test
    void trainHelpListsEveryKeyOfEveryKind() {
        String help = help("train");
        assertTrue(!TrainCommand.JOBS.isEmpty());
        for (TrainJob j : TrainCommand.JOBS) {
            String s = section(help, j.name());
            for (String key : j.hyperparameters().keys()) {
                assertTrue(s.contains("\n  " + key + "="), j.name() + ": --set key " + key + " missing from train --help:\n" + s);
            }
            assertTrue(help.contains(j.name()), "--kind lists " + j.name());
        }
    }

    /** Old spellings: hidden aliases still parse (an --epochs error, not an unknown option); fewlabel's --hidden points to its new name. */
    @Test
    void oldSpellingsParseOrSayTheNewName() {
        for (List<String> args : List.of(List.of("train", "--model", "autoencoder", "--images", "x.idx", "--epochs", "0"),
                List.of("demo", "--images", "x.idx", "--test-images", "t.idx", "--epochs", "0"),
                List.of("anchors", "--images", "x.idx", "--labels", "y.idx", "--test-images", "t.idx", "--test-labels", "u.idx",
                        "--deep-epochs", "0"))) {
            HardeningTest.Run r = HardeningTest.run(args.toArray(String[]::new));
            assertEquals(2, r.code(), r.err());
            assertTrue(r.line().contains("epochs") && !r.line().contains("Unknown option"), r.line());
        }
        HardeningTest.Run r = HardeningTest.run("fewlabel", "--hidden", "4");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.line().contains("--mlp-hidden"), r.line());
    }

    @Test
    void helpNamesEveryFileEachCommandWrites(@TempDir Path dir) throws Exception {
        Path images = dir.resolve("images.idx");
        Path labels = dir.resolve("labels.idx");
        writeIdx(images, labels, 300);
        List<String> data = List.of("--input", images.toString(), "--labels", labels.toString());
        String train = help("train");
        Map<String, List<String>> kinds = Map.ofEntries(
                Map.entry("autoencoder", List.of("--set", "hidden=8,4")),
                Map.entry("conv-autoencoder", List.of("--set", "channels=4,4")),
                Map.entry("residual-autoencoder", List.of("--set", "width=8", "--set", "blocks=1")),
                Map.entry("stacked", List.of("--set", "hidden=8,8")),
                Map.entry("dcgan", List.of("--set", "z=4", "--set", "g1=8", "--set", "g2=4", "--set", "d1=4", "--set", "d2=8",
                        "--set", "frechet=false", "--set", "fewlabel=false")),
                Map.entry("kmeans", List.of("--set", "k=8", "--set", "patches=2000", "--set", "iterations=2", "--set", "fewlabel=false")),
                Map.entry("hebbian", List.of("--set", "units=4")),
                Map.entry("rbm", List.of("--set", "hidden=8")),
                Map.entry("contrastive", List.of("--set", "channels=4,4", "--set", "hidden=8", "--set", "dim=8", "--set", "fewlabel=false")),
                Map.entry("exemplar", List.of("--set", "channels=4,4", "--set", "hidden=8", "--set", "classes=20", "--set", "fewlabel=false")),
                Map.entry("patch-position", List.of("--set", "channels=4,4", "--set", "hidden=8", "--set", "fewlabel=false")));
        assertEquals(TrainCommand.JOBS.stream().map(TrainJob::name).sorted().toList(), kinds.keySet().stream().sorted().toList(),
                "every registered kind is run here");
        for (Map.Entry<String, List<String>> e : kinds.entrySet()) {
            Path out = dir.resolve("train-" + e.getKey());
            List<String> args = new ArrayList<>(List.of("train", "--kind", e.getKey(), "--epochs", "1", "--batch", "32", "--out", out.toString()));
            args.addAll(data);
            args.addAll(e.getValue());
            // what train writes for every kind is in its description; the kind's own files in its section
            String named = train.substring(0, train.indexOf("\n--set keys")) + section(train, e.getKey());
            assertNamed(named, run(args), out, "train --kind " + e.getKey());
        }
        assertTrue(Files.size(dir.resolve("train-autoencoder").resolve("loss.png")) > 0,
                "train --kind autoencoder writes its loss curve, as the demo does");
        Path out = dir.resolve("fewlabel");
        List<String> args = new ArrayList<>(List.of("fewlabel", "--budgets", "1", "--draws", "1", "--mlp-hidden", "4", "--out", out.toString()));
        args.addAll(data);
        assertNamed(help("fewlabel"), run(args), out, "fewlabel");
        out = dir.resolve("demo");
        args = new ArrayList<>(List.of("demo", "--hidden", "8", "--epochs", "1", "--stack", "8", "--stack-epochs", "1", "--selfsup-epochs", "0",
                "--budgets", "1", "--draws", "1", "--out", out.toString()));
        args.addAll(data);
        assertNamed(help("demo"), run(args), out, "demo");
        out = dir.resolve("frames");
        args = new ArrayList<>(List.of("frames", "--frame-size", "12", "--digit-size", "8", "--digits", "1", "--hidden", "8", "--epochs", "1",
                "--sequences", "20", "--test-sequences", "10", "--budgets", "0", "--out", out.toString()));
        args.addAll(data);
        assertNamed(help("frames"), run(args), out, "frames");
        out = dir.resolve("anchors");
        args = new ArrayList<>(List.of("anchors", "--only", "deep", "--deep-epochs", "1", "--deep-pretrain-epochs", "0", "--out", out.toString()));
        args.addAll(data);
        assertNamed(help("anchors"), run(args), out, "anchors");
    }

    private static Out run(List<String> args) {
        Out o = stdout(args.toArray(String[]::new));
        assertEquals(0, o.code(), String.join(" ", args) + ":\n" + o.text());
        return o;
    }

    /** Every file in {@code out} is named in {@code help}, literally or as its pattern (digits as N: samples-epoch-NNN.png). */
    private static void assertNamed(String help, Out run, Path out, String command) throws IOException {
        List<String> files;
        try (Stream<Path> s = Files.list(out)) {
            files = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertTrue(!files.isEmpty(), command + " wrote nothing");
        for (String f : files) {
            String pattern = f.replaceAll("[0-9]", "N");
            assertTrue(help.contains(f) || help.contains(pattern), command + " wrote " + f + ", which its help does not name:\n" + help);
        }
        System.out.println(command + " wrote " + files);
    }

    /** The first n embedded digits as an IDX image file (ubyte, n x 28 x 28) and label file (ubyte, n). */
    static void writeIdx(Path images, Path labels, int n) throws IOException {
        try (Dataset all = Dataset.embeddedMnist();
             DataOutputStream im = new DataOutputStream(Files.newOutputStream(images));
             DataOutputStream lb = new DataOutputStream(Files.newOutputStream(labels))) {
            im.writeInt(0x803);
            im.writeInt(n);
            im.writeInt(28);
            im.writeInt(28);
            lb.writeInt(0x801);
            lb.writeInt(n);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < 784; j++) {
                    im.writeByte(Math.round(all.images().get(i, j) * 255f));
                }
                lb.writeByte(all.label(i));
            }
        }
    }
}
