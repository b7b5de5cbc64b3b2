package dev.latent.bench;

import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.loss.Loss;
import dev.latent.loss.WeightDecay;
import dev.latent.nn.Sequential;
import dev.latent.optim.Adam;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.Trainer;
import dev.latent.workload.Workload;
import java.util.SplittableRandom;
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
 * standard workloads W1-W3 ({@link Workload}) per provider; {@code samples} reads as samples/s.
 * Setup runs 5 steps and checks that the objective is finite and falls, so a broken provider cannot
 * post a fast time. {@code latent bench train} runs the same steps beside PyTorch.
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

    private Workload wl;
    private Sequential net;
    private Adam adam;
    private Workspace ws;
    private Tensor x;
    private Loss loss;
    private WeightDecay decay;

    /** Samples trained, reported per second. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Counters {
        public long samples;
    }

    @Setup(Level.Trial)
    public void setup() {
        Kernels k = KernelRegistry.load(provider);
        wl = Workload.parse(workload);
        net = wl.build(k, 1);
        adam = Adam.of(net.slab(), 1e-3);
        ws = new Workspace("bench-train");
        int[] shape = new int[wl.inputShape().length + 1];
        shape[0] = wl.batch();
        System.arraycopy(wl.inputShape(), 0, shape, 1, wl.inputShape().length);
        x = ws.allocate(shape);
        SplittableRandom r = new SplittableRandom(3);
        for (long i = 0; i < x.size(); i++) {
            x.set(i, (float) r.nextDouble());
        }
        loss = wl.loss();
        decay = wl.weightDecay();
        double first = Trainer.step(net, loss, adam, decay, x, x);
        double last = first;
        for (int i = 0; i < 4; i++) {
            last = Trainer.step(net, loss, adam, decay, x, x);
        }
        if (!Double.isFinite(last) || !(last < first)) {
            throw new IllegalStateException(provider + " " + workload + ": objective went from " + first + " to " + last
                    + " in 5 steps on one batch; refusing to benchmark a broken provider");
        }
    }

    @Benchmark
    // Time per step; the samples counter gives samples/s.
    @BenchmarkMode(Mode.AverageTime)
    // Milliseconds: a step takes 1 to 100 ms.
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public double step(Counters c) {
        c.samples += wl.batch();
        return Trainer.step(net, loss, adam, decay, x, x);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        adam.close();
        net.close();
        ws.close();
    }
}
