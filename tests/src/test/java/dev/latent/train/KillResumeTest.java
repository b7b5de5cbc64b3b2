package dev.latent.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.data.Dataset;
import dev.latent.io.SafeTensors;
import dev.latent.kernel.Kernels;
import dev.latent.loss.Mse;
import dev.latent.nn.Sequential;
import dev.latent.optim.Adam;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No lost work: a training process is killed with SIGKILL in the middle of epoch 3; the checkpoint on
 * disk is whole (it loads); a new process resumes from it and finishes; every epoch appears exactly once
 * in the metrics log, and the final parameters are bit-identical to an uninterrupted run's (the same
 * seed and kernels give the same bits, with or without the interruption).
 */
class KillResumeTest {

    static final int EPOCHS = 5;

    /** The child process: trains the TrainerTest network on 1,000 digits with checkpoints. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            Dataset all = Dataset.embeddedMnist();
            int[] first = java.util.stream.IntStream.range(0, 1000).toArray();
            try (Dataset d = all.subset("mnist-1000", first); Sequential net = TrainerTest.net(); Adam adam = Adam.of(net.slab(), 3e-3)) {
                all.close();
                net.init(11);
                Trainer.Config cfg = Trainer.Config.of(EPOCHS, 100, 5).withCheckpoint(dir.resolve("ckpt.safetensors"), true)
                        .withMetrics(dir.resolve("metrics.jsonl"));
                new Trainer(cfg, new TrainingListener() {
                    @Override
                    public void onBatch(int epoch, int batch, double meanLoss, double samplesPerSecond) {
                        System.out.println("epoch " + epoch + " batch " + batch);
                        System.out.flush();
                    }
                }).fit(net, Mse.halfSumPerSample(), adam, null, d.images(), d.images(), null, null);
                Path params = dir.resolve("final.safetensors");
                SafeTensors.write(params, java.util.Map.of("params", net.slab().values()), java.util.Map.of());
                System.out.println("done");
            }
        }
    }

    private static Process start(Path dir) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        cmd.add("-Dlatent.kernels=" + Kernels.current().name());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Child.class.getName(), dir.toString()));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    @Test
    void killedMidEpochThenResumed(@TempDir Path dir) throws Exception {
        Process p = start(dir);
        boolean killed = false;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.equals("epoch 3 batch 5")) {
                    p.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no finally blocks
                    killed = true;
                    break;
                }
            }
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertTrue(killed, "the child finished before it could be killed");
        Path ckpt = dir.resolve("ckpt.safetensors");
        try (Arena a = Arena.ofConfined()) {
            assertEquals("2", SafeTensors.read(ckpt, a).meta("epoch"), "the last whole checkpoint is epoch 2's");
        }
        Process again = start(dir);
        String out = new String(again.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(again.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, again.exitValue());
        assertTrue(out.contains("done"));
        assertTrue(!out.contains("epoch 1 batch") && !out.contains("epoch 2 batch"), "the resumed run repeated finished epochs");
        List<String> metrics = Files.readAllLines(dir.resolve("metrics.jsonl"));
        assertEquals(EPOCHS, metrics.size(), "one metrics line per epoch: " + metrics);
        for (int e = 1; e <= EPOCHS; e++) {
            assertTrue(metrics.get(e - 1).startsWith("{\"epoch\":" + e + ","), metrics.get(e - 1));
        }
        float[] resumed;
        try (Arena a = Arena.ofConfined()) {
            resumed = SafeTensors.read(dir.resolve("final.safetensors"), a).tensor("params").toArray();
        }
        float[] straight;
        try (Dataset all = Dataset.embeddedMnist(); Dataset d = all.subset("mnist-1000", java.util.stream.IntStream.range(0, 1000).toArray());
             Sequential net = TrainerTest.net(); Adam adam = Adam.of(net.slab(), 3e-3)) {
            net.init(11);
            new Trainer(Trainer.Config.of(EPOCHS, 100, 5), null).fit(net, Mse.halfSumPerSample(), adam, null, d.images(), d.images(), null, null);
            straight = net.slab().values().toArray();
        }
        assertArrayEquals(straight, resumed, "killed-and-resumed training ended with different parameters");
    }
}
