package dev.latent.bench;

import dev.latent.bench.harness.TrainSession;
import dev.latent.data.Dataset;
import dev.latent.workload.Workload;
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
 * One training step (forward, loss and gradient, backward with penalties, weight decay, Adam) of the
 * standard workloads W1-W3 ({@link Workload}) per provider, as {@link TrainSession} sets them up;
 * {@code samples} reads as samples/s. Setup runs its check ({@link TrainSession#requireLearning}: the
 * objective finite and falling over 5 steps), so a broken provider cannot post a fast time.
 * {@code latent bench train} runs the same steps beside PyTorch.
 */
// One network per JMH thread.
@State(Scope.Thread)
// The kernels parallelise themselves; more JMH threads would oversubscribe the cores.
@Threads(1)
// Two forks: JIT decisions differ per JVM; the flags are what latent needs.
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
// A W3 step takes tens of milliseconds: 3 x 3 s reach C2 and the kernels' steady state.
@Warmup(iterations = 3, time = 3, timeUnit = TimeUnit.SECONDS)
// Five 3 s samples per fork.
@Measurement(iterations = 5, time = 3, timeUnit = TimeUnit.SECONDS)
public class TrainStepBenchmark {

    /** The kernel provider by name; {@link BenchMain} substitutes the providers available in this JVM. */
    // scalar is a triple loop (seconds per step): run it explicitly if wanted.
    @Param({"simd", "openblas"})
    public String provider;

    /** The workload. */
    // All three standard workloads.
    @Param({"w1", "w2", "w3"})
    public String workload;

    private TrainSession session;
    private int batch;

    /** Samples trained, reported per second. */
    // OPERATIONS: JMH divides the counter by the iteration time, like the primary score.
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    // Thread scope is what @AuxCounters requires; JMH resets public fields before every iteration.
    @State(Scope.Thread)
    public static class Counters {
        public long samples;
    }

    // Trial level: building the network and the result check happen once per fork, outside measurement.
    @Setup(Level.Trial)
    public void setup() {
        Workload wl = Workload.parse(workload);
        batch = wl.batch();
        try (Dataset digits = Dataset.embeddedMnist()) {
            session = new TrainSession(wl, GemmBenchmark.load(provider), digits);
        }
        session.requireLearning(provider);
    }

    // Returns the objective: JMH consumes it, so the loss computation cannot be dropped.
    @Benchmark
    // Time per step; the samples counter gives samples/s.
    @BenchmarkMode(Mode.AverageTime)
    // Milliseconds: a step takes 1 to 100 ms.
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public double step(Counters c) {
        c.samples += batch;
        return session.step();
    }

    // Trial level: free the network once the fork's measurements are done.
    @TearDown(Level.Trial)
    public void tearDown() {
        session.close();
    }
}
