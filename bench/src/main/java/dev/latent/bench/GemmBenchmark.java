package dev.latent.bench;

import dev.latent.bench.harness.GemmCheck;
import dev.latent.bench.harness.GemmProblem;
import dev.latent.bench.harness.GemmShape;
import dev.latent.kernel.Gemm;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.KernelThreads;
import dev.latent.kernel.Kernels;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
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
 * Throughput of one kernel provider's GEMM on a {@link GemmProblem}, {@code C = op(A) op(B)} (alpha 1,
 * beta 0), float32, row-major, operands off-heap and filled from a fixed seed. The provider is a name resolved
 * with {@link KernelRegistry#load}, so a newly registered provider is benchmarked with no change here.
 *
 * <p>The kernel thread count is fixed per JVM ({@code -Dlatent.threads}, read once by
 * {@link KernelThreads}), so it cannot be a {@code @Param}: each subclass runs its forks with its own
 * count ({@link GemmOneThreadBenchmark}, {@link GemmAllCoresBenchmark}) and checks it in setup.
 *
 * <p>Before measuring, setup computes C once and checks it against a double-precision reference
 * ({@link GemmCheck}); teardown checks that the measured calls left the same bits. Scores are calls per
 * second; the {@code gflop} secondary score is GFLOP/s (= ops/s * 2mnk / 1e9), and {@link GemmReport}
 * tabulates it per provider with the ratio to openblas.
 */
// One operand set per JMH thread, so a run with -t N never has threads writing the same C.
@State(Scope.Thread)
// Throughput (calls/s) rather than time per call: GFLOP/s is then the rate times a constant (2mnk).
@BenchmarkMode(Mode.Throughput)
// Per second, so the gflop aux counter reads directly as GFLOP/s.
@OutputTimeUnit(TimeUnit.SECONDS)
// The kernel parallelises itself over KernelThreads.count(); more JMH threads would oversubscribe the cores.
@Threads(1)
// C2 needs about a second to compile the vector loops and the pools and OpenBLAS threads to spin up;
// 2 s per iteration lets even a 2048^3 call (17 GFLOP, ~1 s on one core) complete several times.
@Warmup(iterations = 3, time = 2, timeUnit = TimeUnit.SECONDS)
// Five 2 s samples per fork give JMH enough for a confidence interval while keeping a full run ~30 min.
@Measurement(iterations = 5, time = 2, timeUnit = TimeUnit.SECONDS)
public abstract class GemmBenchmark {

    /**
     * The kernel provider, by name. These are the providers we ship; {@link BenchMain} (the jar's main
     * class) replaces the list with exactly the providers available in this JVM, so a provider someone
     * else registers is included and an unavailable one is not attempted.
     */
    // Literal values, as JMH requires: the providers we ship; BenchMain substitutes the available ones.
    @Param({"scalar", "simd", "openblas"})
    public String provider;

    /**
     * M x K x N (see {@link GemmShape}): square sizes, then the autoencoder training products for a batch
     * of 256 MNIST images and 1024 hidden units (forward, weight gradient, input gradient), then a single
     * image through a 784 x 1000 layer (inference, a matrix-vector product); then W3's convolution
     * 32 -&gt; 64 (k3 s2) on a chunk of 16 samples, and a thin convolution's weight gradient
     * (dY cols^T with 9 columns: the simd dot path).
     */
    // Square sizes from L1-resident to DRAM-bound, plus the shapes training actually runs.
    @Param({"64x64x64", "128x128x128", "256x256x256", "512x512x512", "1024x1024x1024", "2048x2048x2048",
            "256x784x1024", "784x256x1024", "256x1024x784", "1x784x1000", "64x288x784", "32x3136x9:NT"})
    public String shape;

    /** The shapes of the {@link #shape} parameter: {@code latent bench gemm} times the same ones by default. */
    public static List<String> defaultShapes() {
        try {
            return List.of(GemmBenchmark.class.getField("shape").getAnnotation(Param.class).value());
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException("GemmBenchmark has no public 'shape' @Param field", e);
        }
    }

    private GemmProblem problem;
    private Gemm kernel;
    private GemmCheck check;
    private double gflopPerCall;

    /** The kernel thread count this class's forks must run with. */
    abstract int expectedThreads();

    /** How the subclass sets the thread count, for the error message when it is not what was expected. */
    abstract String threadsHint();

    // Trial level: allocation, filling and the result check happen once per fork, outside every measurement.
    @Setup(Level.Trial)
    public void setUp() {
        GemmShape s = GemmShape.parse(shape);
        String what = benchmarkClass().getSimpleName() + " provider=" + provider + " shape=" + shape + " seed=" + GemmProblem.SEED;
        if (KernelThreads.count() != expectedThreads()) {
            throw new IllegalStateException(what + ": expected " + expectedThreads() + " kernel thread(s) but this JVM"
                    + " has " + KernelThreads.count() + "; " + threadsHint());
        }
        Kernels kernels = load(provider);
        // Lands after JMH's "# Warmup Iteration 1:" prompt, hence the leading newline.
        System.out.println("\n# latent: " + what + " threads=" + KernelThreads.count() + cores(kernels)
                + " OPENBLAS_CORETYPE=" + System.getenv().getOrDefault("OPENBLAS_CORETYPE", "(unset)")
                + " details=" + new TreeMap<>(kernels.details()));

        kernel = kernels.gemm();
        gflopPerCall = s.flop() / 1e9;
        problem = new GemmProblem(s);
        problem.call(kernel);
        check = problem.verify(what);
        System.out.println("# latent: " + check.summary());
    }

    // No Blackhole: the kernel writes C off-heap, a side effect the JIT cannot remove.
    @Benchmark
    public void gemm(GemmCounters counters) {
        problem.call(kernel);
        counters.gflop += gflopPerCall;
    }

    // Trial level: re-check C once after all measured calls, then free the operands.
    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            if (check != null) {
                problem.requireUnchanged(check);
            }
        } finally {
            if (problem != null) {
                problem.close();
            }
        }
    }

    /** Details naming a CPU core (keys ending in "core", e.g. openblas's "blas core"): first, as they move the numbers most. */
    private static String cores(Kernels kernels) {
        StringBuilder out = new StringBuilder();
        new TreeMap<>(kernels.details()).forEach((key, value) -> {
            if (key.toLowerCase(Locale.ROOT).endsWith("core")) {
                out.append(' ').append(key.replace(' ', '_')).append('=').append(value);
            }
        });
        return out.toString();
    }

    /** The benchmark class as written (JMH runs a generated subclass of it). */
    private Class<?> benchmarkClass() {
        Class<?> type = getClass();
        while (type.getSimpleName().contains("_jmh")) {
            type = type.getSuperclass();
        }
        return type;
    }

    /** The named provider's kernels, or an error that says what is available and how to run only that. */
    static Kernels load(String name) {
        try {
            return KernelRegistry.load(name);
        } catch (IllegalStateException e) {
            throw new IllegalStateException("cannot benchmark kernel provider '" + name + "': " + e.getMessage()
                    + ". Available in this JVM: " + KernelRegistry.availableNames() + ". Run the jar's main class"
                    + " (java -jar benchmarks.jar), which benchmarks exactly the available providers, or pass"
                    + " -p provider=<names>.", e);
        }
    }
}
