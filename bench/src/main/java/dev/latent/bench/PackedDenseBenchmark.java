package dev.latent.bench;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Activation;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.KernelThreads;
import dev.latent.kernel.Kernels;
import dev.latent.kernel.PackedDense;
import dev.latent.kernel.Transpose;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
 * One dense serving layer, y = sigmoid(x W^T + b) (identity for the 30-wide code layer), as W5's
 * {@code Encoder} runs it: {@code packed} is {@link PackedDense#pack} (dev.latent.kernel.simd.SimdDense) (W packed once, bias and activation in the
 * epilogue); {@code simd} and {@code openblas} are that provider's GEMM (N, T) + addBias + activation,
 * the Encoder's previous path. Shapes {@code n x in x out}: W5's four layers at batch 1 and 256.
 * Setup checks two rows (the first and last) of y against a double-precision recomputation (relative
 * 1e-4 plus 1e-5 absolute), so a fast wrong kernel cannot win. Read {@code forward:gflop} as GFLOP/s.
 */
// One set of operands per JMH thread.
@State(Scope.Thread)
// The kernels parallelise themselves over KernelThreads.count(); more JMH threads would oversubscribe.
@Threads(1)
// Two forks: JIT decisions and thread placement vary per JVM; the flags are what latent needs.
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
// 3 x 2 s: C2 compiles the vector loops well within it even on a busy machine.
@Warmup(iterations = 3, time = 2, timeUnit = TimeUnit.SECONDS)
// Five 2 s samples per fork: even a batch-256 call is under 2 ms, so each sample holds 1000+ calls.
@Measurement(iterations = 5, time = 2, timeUnit = TimeUnit.SECONDS)
public class PackedDenseBenchmark {

    /** packed = SimdDense; any other value is a provider name whose GEMM + addBias + activation runs. */
    // Literal values, as JMH requires; a param not named "provider", so BenchMain leaves it alone.
    @Param({"packed", "simd", "openblas"})
    public String impl;

    /** n x in x out. */
    // W5's layers at batch 1 (latency) and 256 (throughput).
    @Param({"1x784x1000", "1x1000x500", "1x500x250", "1x250x30", "256x784x1000", "256x1000x500", "256x500x250", "256x250x30"})
    public String shape;

    private Arena arena;
    private int n;
    private int in;
    private int out;
    private Activation f;
    private MemorySegment x;
    private MemorySegment w;
    private MemorySegment b;
    private MemorySegment y;
    private PackedDense packed;
    private Kernels kernels;

    /** Floating-point work done, reported per second (GFLOP/s). */
    // OPERATIONS: JMH divides the counter by the iteration time; Thread scope is what @AuxCounters requires.
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Work {
        public double gflop;
    }

    // Trial level: packing and the result check happen once per fork, outside measurement.
    @Setup(Level.Trial)
    public void setUp() {
        String[] d = shape.split("x");
        n = Integer.parseInt(d[0]);
        in = Integer.parseInt(d[1]);
        out = Integer.parseInt(d[2]);
        f = out == 30 ? Activation.IDENTITY : Activation.SIGMOID;
        arena = Arena.ofShared();
        SplittableRandom r = new SplittableRandom(42);
        x = fill(arena, (long) n * in, r, 1);
        w = fill(arena, (long) out * in, r, 1 / Math.sqrt(in));
        b = fill(arena, out, r, 0.1);
        y = arena.allocate((long) n * out * Float.BYTES, 64);
        if (impl.equals("packed")) {
            packed = PackedDense.pack(out, in, w, 0, in, b, 0, f, arena);
        } else {
            kernels = KernelRegistry.load(impl);
        }
        System.out.println("\n# latent: PackedDenseBenchmark impl=" + impl + " shape=" + shape + " threads=" + KernelThreads.count()
                + " OPENBLAS_CORETYPE=" + System.getenv().getOrDefault("OPENBLAS_CORETYPE", "(unset)"));
        y.fill((byte) 0xff);
        forward();
        for (int i : new int[] {0, n - 1}) {
            for (int j = 0; j < out; j++) {
                double z = b.getAtIndex(JAVA_FLOAT, j);
                for (int p = 0; p < in; p++) {
                    z += (double) x.getAtIndex(JAVA_FLOAT, (long) i * in + p) * w.getAtIndex(JAVA_FLOAT, (long) j * in + p);
                }
                double e = f.kind() == Activation.Kind.SIGMOID ? 1 / (1 + Math.exp(-z)) : z;
                float got = y.getAtIndex(JAVA_FLOAT, (long) i * out + j);
                if (!(Math.abs(got - e) <= 1e-4 * Math.abs(e) + 1e-5)) {
                    throw new IllegalStateException("WRONG DENSE RESULT, refusing to benchmark impl=" + impl + " shape=" + shape
                            + ": y[" + i + ", " + j + "] = " + got + " but the double-precision reference is " + e);
                }
            }
        }
    }

    private static MemorySegment fill(Arena arena, long count, SplittableRandom r, double scale) {
        MemorySegment s = arena.allocate(count * Float.BYTES, 64);
        for (long i = 0; i < count; i++) {
            s.setAtIndex(JAVA_FLOAT, i, (float) (r.nextGaussian() * scale));
        }
        return s;
    }

    private void forward() {
        if (packed != null) {
            packed.forward(n, x, 0, in, y, 0, out);
            return;
        }
        kernels.gemm().gemm(Transpose.N, Transpose.T, n, out, in, 1f, x, 0, in, w, 0, in, 0f, y, 0, out);
        kernels.elementwise().addBias(n, out, b, 0, y, 0, out);
        if (f.kind() != Activation.Kind.IDENTITY) {
            kernels.activations().forward(f, n * out, y, 0, y, 0);
        }
    }

    // No Blackhole: forward writes off-heap memory, a side effect the JIT cannot remove.
    @Benchmark
    // Calls per second, with the Work counter as GFLOP/s beside it (as the GEMM benchmarks report).
    @BenchmarkMode(Mode.Throughput)
    // Per second, so the gflop counter reads directly as GFLOP/s.
    @OutputTimeUnit(TimeUnit.SECONDS)
    public void forward(Work work) {
        forward();
        work.gflop += 2e-9 * n * in * out;
    }

    // Trial level: free the operands once the fork's measurements are done.
    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }
}
