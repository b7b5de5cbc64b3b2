package dev.latent.bench;

import dev.latent.data.Dataset;
import dev.latent.workload.GanWorkload;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Workload W4 ({@link GanWorkload}: one D step plus one G step of the default DCGAN, batch 64, on the
 * first 64 embedded digits) per provider; {@code samples} reads as samples/s. Setup runs one step pair
 * and requires finite losses (a NaN never recovers), so a broken provider cannot post a time.
 * {@code latent bench gan} runs the same steps beside PyTorch.
 */
// One GAN per JMH thread.
@State(Scope.Thread)
// The kernels parallelise themselves; more JMH threads would oversubscribe the cores.
@Threads(1)
// Two forks: JIT decisions differ per JVM; the flags are what latent needs.
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
// A step pair takes tens of milliseconds and runs many conv kernels: 3 x 3 s reach C2's steady state.
@Warmup(iterations = 3, time = 3, timeUnit = TimeUnit.SECONDS)
// Five 3 s samples per fork, as TrainStepBenchmark.
@Measurement(iterations = 5, time = 3, timeUnit = TimeUnit.SECONDS)
public class GanStepBenchmark {

    /** The kernel provider by name; {@link BenchMain} substitutes the providers available in this JVM. */
    // scalar is a triple loop (seconds per step): run it explicitly if wanted.
    @Param({"simd", "openblas"})
    public String provider;

    private GanWorkload w4;

    /** Real samples seen by the discriminator, reported per second. */
    // OPERATIONS: JMH divides the counter by the iteration time, like the primary score.
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    // Thread scope is what @AuxCounters requires; JMH resets public fields before every iteration.
    @State(Scope.Thread)
    public static class Counters {
        public long samples;
    }

    // Trial level: building the GAN and the result check happen once per fork, outside measurement.
    @Setup(Level.Trial)
    public void setup() {
        try (Dataset digits = Dataset.embeddedMnist()) {
            w4 = new GanWorkload(GemmBenchmark.load(provider), digits.images().rows(0, GanWorkload.BATCH));
        }
        w4.step();
        if (!Double.isFinite(w4.discriminatorLoss()) || !Double.isFinite(w4.generatorLoss())) {
            throw new IllegalStateException("WRONG W4 STEP, refusing to benchmark " + provider + ": D loss "
                    + w4.discriminatorLoss() + ", G loss " + w4.generatorLoss());
        }
    }

    // No Blackhole: the step updates the networks' off-heap weights, a side effect the JIT cannot remove.
    @Benchmark
    // Time per step pair; the samples counter gives samples/s.
    @BenchmarkMode(Mode.AverageTime)
    // Milliseconds: a step pair takes 10 to 100 ms.
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public void step(Counters c) {
        w4.step();
        c.samples += GanWorkload.BATCH;
    }

    // Trial level: free the networks once the fork's measurements are done.
    @TearDown(Level.Trial)
    public void tearDown() {
        w4.close();
    }
}
