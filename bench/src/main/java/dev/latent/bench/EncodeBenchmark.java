package dev.latent.bench;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.bench.harness.EncodeCheck;
import dev.latent.kernel.KernelThreads;
import dev.latent.kernel.Kernels;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.serve.Encoder;
import dev.latent.workload.EncoderWorkload;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeMap;
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
 * W5, serving a trained encoder ({@link EncoderWorkload}: 784-1000-500-250-30, sigmoid, linear code,
 * float32, weights from a fixed seed) saved as a latent model file and loaded by {@link Encoder}, called through its
 * allocation-free segment API {@code encode(in, out, rows)} as a service would.
 *
 * <ul>
 *   <li>{@link #latency}: one sample per call, microseconds per call (lower is better);</li>
 *   <li>{@link #throughput}: 256 samples per call; the {@code throughput:samples} secondary score in
 *       ops/s reads as samples/s (higher is better).</li>
 * </ul>
 *
 * The kernel threads are the engine default (one per processor), what a service gets. Setup encodes
 * both batches once and checks them with {@link EncodeCheck} (the first codes against a double-precision
 * recomputation), so a fast wrong provider cannot win. Bytes allocated
 * per call: add {@code -prof gc} ({@code gc.alloc.rate.norm}); {@code latent bench encode} prints them too.
 * The peers (ONNX Runtime, PyTorch) run in {@code latent bench encode}, not here.
 */
// One encoder and one pair of buffers per JMH thread (the Encoder keeps per-thread scratch anyway).
@State(Scope.Thread)
// The kernels parallelise themselves over KernelThreads.count(); more JMH threads would oversubscribe.
@Threads(1)
// Two forks: JIT decisions and OpenBLAS thread placement vary per JVM; the flags are what latent needs.
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
// C2 compiles the vector loops within a second; 3 x 2 s also lets OpenBLAS's pool settle.
@Warmup(iterations = 3, time = 2, timeUnit = TimeUnit.SECONDS)
// Five 2 s samples per fork: a batch-256 call takes milliseconds, so each sample holds hundreds of calls.
@Measurement(iterations = 5, time = 2, timeUnit = TimeUnit.SECONDS)
public class EncodeBenchmark {

    static final int BATCH = EncoderWorkload.BATCH;

    /** The kernel provider, by name; {@link BenchMain} substitutes the providers available in this JVM. */
    // Literal values, as JMH requires; scalar (a triple loop, ~1 s per batch-256 call) is best left out: -p provider=simd,openblas.
    @Param({"scalar", "simd", "openblas"})
    public String provider;

    private Path dir;
    private Encoder encoder;
    private Arena arena;
    private MemorySegment in;
    private MemorySegment out;

    /** Samples encoded, reported per second next to the call rate. */
    // OPERATIONS: JMH divides the counter by the iteration time, like the primary ops/s score.
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    // Thread scope is what @AuxCounters requires; JMH resets public fields before every iteration.
    @State(Scope.Thread)
    public static class Samples {
        public long samples;
    }

    // Trial level: model building, saving, loading and the result check happen once per fork, outside measurement.
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Kernels kernels = GemmBenchmark.load(provider);
        System.out.println("\n# latent: EncodeBenchmark provider=" + provider + " threads=" + KernelThreads.count()
                + " OPENBLAS_CORETYPE=" + System.getenv().getOrDefault("OPENBLAS_CORETYPE", "(unset)")
                + " details=" + new TreeMap<>(kernels.details()));
        dir = Files.createTempDirectory("latent-encode-bench");
        Path model = dir.resolve("w5.safetensors");
        arena = Arena.ofConfined();
        float[] x = EncoderWorkload.input();
        in = arena.allocate((long) x.length * Float.BYTES, 64);
        MemorySegment.copy(x, 0, in, JAVA_FLOAT, 0, x.length);
        out = arena.allocate((long) BATCH * EncoderWorkload.CODE * Float.BYTES, 64);
        EncodeCheck check;
        try (Autoencoder ae = EncoderWorkload.build(kernels)) {
            ae.save(model, null);
            check = new EncodeCheck(ae, x);
        }
        encoder = Encoder.load(model, kernels);
        for (int rows : new int[] {1, BATCH}) {
            out.fill((byte) 0xff); // NaN: a call that writes nothing fails the check
            encoder.encode(in, out, rows);
            String wrong = check.mismatch(out.toArray(JAVA_FLOAT), rows);
            if (wrong != null) {
                throw new IllegalStateException("WRONG ENCODER RESULT, refusing to benchmark EncodeBenchmark provider=" + provider
                        + " batch=" + rows + ": " + wrong);
            }
        }
    }

    // No Blackhole: encode writes off-heap memory, a side effect the JIT cannot remove.
    @Benchmark
    // Time per call: single-sample latency is what a request waits for.
    @BenchmarkMode(Mode.AverageTime)
    // Microseconds: a batch-1 call takes tens to hundreds of them.
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void latency() {
        encoder.encode(in, out, 1);
    }

    // No Blackhole, as above.
    @Benchmark
    // Calls per second; the Samples counter turns it into samples per second.
    @BenchmarkMode(Mode.Throughput)
    // Per second, so the samples counter reads directly as samples/s.
    @OutputTimeUnit(TimeUnit.SECONDS)
    public void throughput(Samples samples) {
        encoder.encode(in, out, BATCH);
        samples.samples += BATCH;
    }

    // Trial level: free the encoder and delete the model file once the fork's measurements are done.
    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (encoder != null) {
            encoder.close();
        }
        if (arena != null) {
            arena.close();
        }
        if (dir != null) {
            Files.deleteIfExists(dir.resolve("w5.safetensors"));
            Files.deleteIfExists(dir);
        }
    }
}
