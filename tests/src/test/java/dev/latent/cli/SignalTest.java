package dev.latent.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.data.Dataset;
import dev.latent.io.SafeTensors;
import dev.latent.kernel.Kernels;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, class 7 (signals): {@code latent train} in a child JVM gets SIGTERM ({@link Process#destroy})
 * after its first epoch; it prints one line naming where it stopped, the epoch its checkpoint holds (the
 * one on disk) and the command to resume; that command, run as printed, finishes the run with every epoch
 * logged once and a model bit-identical to an uninterrupted run's. A command without checkpoints (the
 * demo) says so and prints the command to run again.
 */
class SignalTest {

    static final int EPOCHS = 6;

    /** The first {@code n} embedded MNIST digits as an IDX image file. */
    static void writeDigits(Path file, int n) throws IOException {
        try (Dataset all = Dataset.embeddedMnist(); Dataset d = all.subset("first", IntStream.range(0, n).toArray());
             DataOutputStream o = new DataOutputStream(Files.newOutputStream(file))) {
            o.writeInt(0x803);
            o.writeInt(n);
            o.writeInt(28);
            o.writeInt(28);
            for (float v : d.images().toArray()) {
                o.writeByte(Math.round(v * 255));
            }
        }
    }

    static Process start(List<String> args, Path stderr) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        cmd.add("-Dlatent.kernels=" + Kernels.current().name());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(stderr.toFile());
        pb.environment().remove("LATENT_KERNELS");
        return pb.start();
    }

    /**
     * Starts the command, sends SIGTERM once a stderr line starts with {@code after}, returns every stderr
     * line. Stderr goes to a file ({@link Process#destroy} closes the pipes) that is polled for the line.
     */
    static List<String> stopAfter(List<String> args, String after, Path dir) throws Exception {
        Path stderr = dir.resolve("stderr.txt");
        Process p = start(args, stderr);
        boolean sent = false;
        while (!sent && p.isAlive()) {
            if (Files.readAllLines(stderr).stream().anyMatch(l -> l.startsWith(after))) {
                p.destroy(); // SIGTERM on Linux: shutdown hooks run
                sent = true;
            } else {
                Thread.sleep(20);
            }
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        List<String> lines = Files.readAllLines(stderr);
        assertTrue(sent, "the run ended before '" + after + "':\n" + String.join("\n", lines));
        assertEquals(128 + 15, p.exitValue(), "killed by SIGTERM:\n" + String.join("\n", lines));
        return lines;
    }

    static String stopLine(List<String> lines, String command) {
        List<String> ours = lines.stream().filter(l -> l.startsWith("latent " + command + ": ")).toList();
        assertEquals(1, ours.size(), "one line from latent:\n" + String.join("\n", lines));
        assertFalse(lines.stream().anyMatch(l -> l.contains("\tat ") || l.contains("Exception")), String.join("\n", lines));
        return ours.get(0);
    }

    @Test
    void trainStoppedBySigtermSaysWhereAndResumesAsPrinted(@TempDir Path dir) throws Exception {
        Path images = dir.resolve("digits.idx");
        writeDigits(images, 2048);
        Path out = dir.resolve("out");
        List<String> train = List.of("train", "--model", "autoencoder", "--images", images.toString(), "--set", "hidden=64",
                "--epochs", Integer.toString(EPOCHS), "--batch", "64", "--out", out.toString());
        String line = stopLine(stopAfter(train, "autoencoder epoch 1/" + EPOCHS, dir), "train");
        assertTrue(line.contains("stopped by a signal") && line.contains("in autoencoder epoch "), line);
        String held;
        try (Arena a = Arena.ofConfined()) {
            held = SafeTensors.read(out.resolve("checkpoint.safetensors"), a).metadata().get("epoch");
        }
        assertTrue(line.contains(out.resolve("checkpoint.safetensors") + " holds epoch " + held + ";"), line);
        String marker = "resume with: latent ";
        assertTrue(line.contains(marker), line);
        String[] resume = line.substring(line.indexOf(marker) + marker.length()).split(" ");
        assertEquals(Stream.concat(train.stream(), Stream.of("--resume")).toList(), Arrays.asList(resume), "the command to resume");

        HardeningTest.Run r = HardeningTest.run(resume);
        assertEquals(0, r.code(), r.err());
        List<String> metrics = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(EPOCHS, metrics.size(), "each epoch logged once: " + metrics);
        for (int e = 1; e <= EPOCHS; e++) {
            assertTrue(metrics.get(e - 1).startsWith("{\"epoch\":" + e + ","), metrics.get(e - 1));
        }
        Path straight = dir.resolve("straight");
        List<String> again = new ArrayList<>(train);
        again.set(again.size() - 1, straight.toString());
        assertEquals(0, HardeningTest.run(again.toArray(String[]::new)).code());
        try (Arena a = Arena.ofConfined()) {
            var resumed = SafeTensors.read(out.resolve("model.safetensors"), a);
            var whole = SafeTensors.read(straight.resolve("model.safetensors"), a);
            assertEquals(whole.tensors().keySet(), resumed.tensors().keySet());
            for (String name : whole.tensors().keySet()) {
                assertArrayEquals(whole.tensors().get(name).toArray(), resumed.tensors().get(name).toArray(),
                        "tensor " + name + " of the resumed run differs from the uninterrupted run's");
            }
        }
    }

    @Test
    void aCommandWithoutCheckpointsSaysSoAndHowToRunAgain(@TempDir Path dir) throws Exception {
        List<String> demo = List.of("demo", "--epochs", "30", "--out", dir.resolve("out").toString());
        String line = stopLine(stopAfter(demo, "sparse autoencoder epoch 1/30", dir), "demo");
        assertTrue(line.contains("in sparse autoencoder epoch ") && line.contains("keeps no checkpoint"), line);
        assertTrue(line.endsWith("run it again with: latent " + String.join(" ", demo)), line);
    }

    /** The line's parts, without a process: arguments that a shell would split are quoted; an older run's checkpoint is not offered. */
    @Test
    void theLineQuotesArgumentsAndOffersOnlyThisRunsCheckpoint(@TempDir Path dir) throws Exception {
        assertEquals("./latent train --out 'my dir' --set 'a=it'\\''s'",
                Interruption.shell("./latent", List.of("train", "--out", "my dir", "--set", "a=it's")));
        Path ckpt = dir.resolve("checkpoint.safetensors");
        SafeTensors.write(ckpt, java.util.Map.of(), java.util.Map.of("epoch", "4"));
        List<String> cmd = List.of("train", "--model", "autoencoder");
        String fresh = Interruption.line(cmd, "autoencoder", 1, 9, 3, 10, ckpt, false, "latent");
        assertTrue(fresh.contains("epoch 1/9, batch 3/10") && fresh.contains("no checkpoint of this run yet")
                && fresh.endsWith("run it again with: latent train --model autoencoder"), fresh);
        String ours = Interruption.line(cmd, "autoencoder", 5, 9, 3, 10, ckpt, true, "latent");
        assertTrue(ours.contains(ckpt + " holds epoch 4; resume with: latent train --model autoencoder --resume"), ours);
    }
}
