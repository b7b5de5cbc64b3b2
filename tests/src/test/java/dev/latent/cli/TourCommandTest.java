package dev.latent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code latent tour} as a user runs it (through {@link Main#run}), on a few kinds with {@code --quick}
 * (the first 1,000 embedded digits, one epoch each): every kind's directory holds its model file (the
 * sequence model its frames.json), report.html has a section for every kind, the table on stdout a row
 * per kind with a few-label accuracy, tour.json the same rows; a kind that fails (here: its --out/KIND
 * holds a file that is not a latent model, which train refuses to replace) is a FAILED row naming the
 * file while the others' results stay, and the exit code is 1; an unknown --kinds name or a missing
 * --input is one line naming it, exit code 2, and nothing written. Without labels the kinds run, with no
 * few-label column, and the sequence model is skipped.
 */
class TourCommandTest {

    private static final List<String> KINDS = List.of("autoencoder", "rbm", "kmeans", TourCommand.FRAMES);

    /** Every registered kind is in the tour, with settings its own --set keys accept (a bad key would fail only its row). */
    @Test
    void everyKindHasTourSettingsItsKeysAccept() {
        for (TrainJob j : TrainCommand.JOBS) {
            TrainJob.Tour t = j.tour();
            assertTrue(t.epochs() >= 1 && t.batch() >= 1 && t.seconds() > 0, j.name() + ": " + t);
            j.hyperparameters().parse(t.set(), j.name() + " tour");
        }
        HelpTest.Out o = HelpTest.stdout("tour", "--help");
        assertEquals(0, o.code(), o.text());
        assertTrue(o.text().contains("--kinds") && o.text().contains("--quick"), o.text());
    }

    @Test
    void runsEachKindIntoItsDirectoryAndOneReport(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("tour");
        HelpTest.Out o = HelpTest.stdout("tour", "--quick", "--kinds", String.join(",", KINDS), "--out", out.toString());
        System.out.println(o.text());
        assertEquals(0, o.code(), o.text());
        for (String kind : KINDS) {
            Path file = out.resolve(kind).resolve(kind.equals(TourCommand.FRAMES) ? "frames.json" : "model.safetensors");
            assertTrue(Files.isRegularFile(file) && Files.size(file) > 0, "no " + file);
            assertTrue(Files.isRegularFile(out.resolve(kind).resolve("output.txt")), kind + ": what it printed is kept");
        }
        String report = Files.readString(out.resolve("report.html"));
        List<String> lines = o.text().lines().toList();
        JsonNode json = new ObjectMapper().readTree(out.resolve("tour.json").toFile());
        assertEquals(KINDS.size(), json.get("kinds").size(), json.toString());
        for (int i = 0; i < KINDS.size(); i++) {
            String kind = KINDS.get(i);
            assertTrue(report.contains("<h2 id=\"" + kind + "\">"), "report.html has no section for " + kind);
            assertTrue(report.contains("href=\"#" + kind + "\""), "report.html's table has no row for " + kind);
            List<String> row = lines.stream().filter(l -> l.startsWith(kind + " ")).toList();
            assertEquals(1, row.size(), "one row for " + kind + " in:\n" + o.text());
            assertTrue(row.getFirst().matches(kind + " +ok +[0-9.]+ +.*[0-9.]+% +[-+][0-9.]+( .*)?"), row.getFirst());
            assertEquals(kind, json.get("kinds").get(i).get("kind").asText());
            assertEquals("ok", json.get("kinds").get(i).get("status").asText());
            assertFalse(json.get("kinds").get(i).get("metric").asText().isEmpty(), kind + " has a final loss or metric");
        }
        assertTrue(lines.stream().anyMatch(l -> l.matches("raw pixels .*[0-9.]+%.*")), "the baseline row:\n" + o.text());
        // the embedded pictures of the kinds, by their paths in the kinds' directories
        assertTrue(report.contains("<img src=\"autoencoder/filters.png\"") && report.contains("<img src=\"kmeans/centroids.png\"")
                && report.contains("<img src=\"frames/frames.png\""), report);
        try (Stream<Path> s = Files.list(out)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".tour-data")), "the pool's IDX files are removed");
        }
    }

    @Test
    void aFailedKindIsARowAndTheOthersStay(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("tour");
        Path notAModel = out.resolve("rbm").resolve("model.safetensors");
        Files.createDirectories(notAModel.getParent());
        Files.writeString(notAModel, "not a model");
        HelpTest.Out o = HelpTest.stdout("tour", "--quick", "--kinds", "rbm,autoencoder", "--out", out.toString());
        System.out.println(o.text());
        assertEquals(TourCommand.EXIT_SOME_FAILED, o.code(), o.text());
        String rbm = o.text().lines().filter(l -> l.startsWith("rbm ")).findFirst().orElseThrow();
        assertTrue(rbm.contains("FAILED") && rbm.contains(notAModel.toString()), rbm);
        assertEquals("not a model", Files.readString(notAModel), "the file train refused to replace is intact");
        assertTrue(o.text().lines().anyMatch(l -> l.matches("autoencoder +ok .*")), o.text());
        assertTrue(Files.isRegularFile(out.resolve("autoencoder").resolve("model.safetensors")));
        String report = Files.readString(out.resolve("report.html"));
        assertTrue(report.contains("class=\"failed\">failed") && report.contains("<h2 id=\"autoencoder\">"), report);
    }

    /** Unlabeled --input: the kinds learn from all of it, no few-label column, the sequence model (which needs labels) skipped. */
    @Test
    void withoutLabelsTheKindsStillRun(@TempDir Path dir) throws Exception {
        Path images = dir.resolve("images.idx");
        HelpTest.writeIdx(images, dir.resolve("labels.idx"), 300);
        Path out = dir.resolve("tour");
        HelpTest.Out o = HelpTest.stdout("tour", "--quick", "--input", images.toString(), "--kinds", "autoencoder,frames",
                "--out", out.toString());
        System.out.println(o.text());
        assertEquals(0, o.code(), o.text());
        assertTrue(o.text().lines().anyMatch(l -> l.matches("autoencoder +ok +[0-9.]+ +loss [0-9.]+ +- +- *")), o.text());
        assertTrue(o.text().lines().anyMatch(l -> l.matches("frames +skipped .*labels.*")), o.text());
        assertTrue(o.text().contains("300 unlabeled images"), o.text());
        assertTrue(Files.isRegularFile(out.resolve("autoencoder").resolve("model.safetensors")));
    }

    @Test
    void badInputIsOneLineNamingIt(@TempDir Path dir) {
        Path out = dir.resolve("tour");
        HardeningTest.Run r = HardeningTest.run("tour", "--quick", "--kinds", "autoencoder,autoencodr", "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.line().startsWith("latent tour: ") && r.line().contains("--kinds") && r.line().contains("'autoencodr'"), r.line());
        Path missing = dir.resolve("missing.idx");
        r = HardeningTest.run("tour", "--quick", "--input", missing.toString(), "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.line().contains(missing.toString()), r.line());
        r = HardeningTest.run("tour", "--quick", "--kind", "rbm", "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.line().contains("--kind"), r.line());
        assertFalse(Files.exists(out), "nothing written");
    }
}
