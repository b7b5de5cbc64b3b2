package dev.latent.cli;

import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.serve.Encoder;
import dev.latent.workload.EncoderWorkload;
import dev.latent.workload.WarmUp;
import dev.latent.workload.Workload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * {@code latent warmup} (hidden): the launcher's JDK AOT training run. It steps W1, W2 and W3 and serves
 * the W5 encoder at batch 1 and 256, on the provider {@code auto} picks and on {@code simd}, so that the
 * AOT cache the JVM writes at its exit ({@code -XX:AOTCacheOutput}) holds the classes and the method
 * profiles of the kernels every later command calls first: the next JVM compiles them at once instead
 * of profiling them through a slow first epoch.
 */
@Command(name = "warmup", hidden = true, mixinStandardHelpOptions = true,
        description = "Exercise the kernels briefly (the launcher's JDK AOT training run).")
final class WarmUpCommand implements Callable<Integer> {

    @Override
    public Integer call() throws IOException {
        List<Kernels> kernels = new ArrayList<>(List.of(Kernels.current()));
        if (KernelRegistry.availableNames().contains("simd") && !Kernels.current().name().equals("simd")) {
            kernels.add(KernelRegistry.load("simd"));
        }
        Path file = Files.createTempFile("latent-warmup", ".safetensors");
        try {
            for (Kernels k : kernels) {
                WarmUp.train(Workload.W1, k, 200);
                WarmUp.train(Workload.W2, k, 20);
                WarmUp.train(Workload.W3, k, 20);
                try (Autoencoder model = EncoderWorkload.build(k)) {
                    model.save(file, Map.of());
                }
                try (Encoder enc = Encoder.load(file, k)) {
                    Encoder.WarmUp w = enc.warmUp(Duration.ofSeconds(5));
                    System.err.printf("latent warmup: %s: W1-W3 stepped; W5 encoder %d calls in %.1f s (%s)%n", k.name(),
                            w.calls(), w.seconds(), w.steady() ? "steady" : "not yet steady");
                }
            }
        } finally {
            Files.deleteIfExists(file);
        }
        return 0;
    }
}
