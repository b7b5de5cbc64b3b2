package dev.latent.kernel.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.kernel.Transpose;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/**
 * The same inputs give the same bits whether the kernels run interpreted ({@code -Xint}), C1-compiled
 * ({@code -XX:TieredStopAtLevel=1}) or C2-compiled: the engine's promise "the same seed and provider
 * give the same bits" must hold across JVM runs, whatever the JIT had compiled when. Each JVM prints a
 * checksum of the raw output bits of GEMM, every activation forward and backward, softmax and
 * logSoftmax (in place and not), dot, rowSums and colSums (every NaN counted as the canonical NaN); the in-process run repeats the workload until
 * C2 has compiled it and requires the checksum never to change.
 */
class SimdJitIndependenceTest {

    /** Runs the workload and prints its checksum; with an argument, repeats it that many times first. */
    public static void main(String[] args) {
        int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        long first = checksum();
        for (int i = 1; i < repeats; i++) {
            long again = checksum();
            if (again != first) {
                System.out.println("CHANGED at repeat " + i + ": " + Long.toHexString(first) + " -> " + Long.toHexString(again));
                System.exit(3);
            }
        }
        System.out.println("CHECKSUM " + Long.toHexString(first));
    }

    /** The checksum of every kernel output over fixed inputs (sizes break every vector tail). */
    static long checksum() {
        Kernels k = SimdTestSupport.SIMD;
        CRC32 crc = new CRC32();
        SplittableRandom r = new SplittableRandom(42);
        int n = 1021;
        float[] z = SimdTestSupport.random(r, n, -30, 30);
        z[3] = 100f;
        z[4] = -100f;
        z[5] = Float.NaN;
        z[6] = -0f;
        z[7] = 1e-30f;
        float[] da = SimdTestSupport.random(r, n, -2, 2);
        for (Activation f : List.of(Activation.SIGMOID, Activation.TANH, Activation.SOFTPLUS, Activation.RELU,
                Activation.leakyRelu(0.2f))) {
            MemorySegment zs = SimdTestSupport.segment(z);
            MemorySegment as = SimdTestSupport.segment(new float[n]);
            k.activations().forward(f, n, zs, 0, as, 0);
            add(crc, as);
            MemorySegment dz = SimdTestSupport.segment(new float[n]);
            k.activations().backward(f, n, zs, 0, as, 0, SimdTestSupport.segment(da), 0, dz, 0);
            add(crc, dz);
        }
        int rows = 7;
        int cols = 131;
        float[] x = SimdTestSupport.random(r, rows * cols, -40, 40);
        for (boolean log : new boolean[] {false, true}) {
            MemorySegment xs = SimdTestSupport.segment(x);
            MemorySegment ys = SimdTestSupport.segment(new float[rows * cols]);
            MemorySegment inPlace = SimdTestSupport.segment(x);
            if (log) {
                k.softmax().logSoftmax(rows, cols, xs, 0, cols, ys, 0, cols);
                k.softmax().logSoftmax(rows, cols, inPlace, 0, cols, inPlace, 0, cols);
            } else {
                k.softmax().softmax(rows, cols, xs, 0, cols, ys, 0, cols);
                k.softmax().softmax(rows, cols, inPlace, 0, cols, inPlace, 0, cols);
            }
            add(crc, ys);
            add(crc, inPlace);
        }
        MemorySegment xs = SimdTestSupport.segment(x);
        crc.update(Float.floatToIntBits(k.elementwise().dot(rows * cols, xs, 0, xs, 0)));
        MemorySegment rs = SimdTestSupport.segment(new float[rows]);
        k.reductions().rowSums(rows, cols, xs, 0, cols, 0f, rs, 0);
        add(crc, rs);
        MemorySegment cs = SimdTestSupport.segment(new float[cols]);
        k.reductions().colSums(rows, cols, xs, 0, cols, 0f, cs, 0);
        add(crc, cs);
        int m = 19;
        int nn = 37;
        int kk = 45;
        MemorySegment a = SimdTestSupport.segment(SimdTestSupport.random(r, m * kk, -1, 1));
        MemorySegment b = SimdTestSupport.segment(SimdTestSupport.random(r, kk * nn, -1, 1));
        MemorySegment c = SimdTestSupport.segment(SimdTestSupport.random(r, m * nn, -1, 1));
        k.gemm().gemm(Transpose.N, Transpose.N, m, nn, kk, 0.7f, a, 0, kk, b, 0, nn, 0.3f, c, 0, nn);
        add(crc, c);
        MemorySegment c1 = SimdTestSupport.segment(new float[nn]);
        MemorySegment bt = SimdTestSupport.segment(SimdTestSupport.random(r, nn * kk, -1, 1));
        k.gemm().gemm(Transpose.N, Transpose.T, 1, nn, kk, 1f, a, 0, kk, bt, 0, kk, 0f, c1, 0, nn);
        add(crc, c1);
        MemorySegment c2 = SimdTestSupport.segment(new float[nn]);
        k.gemm().gemm(Transpose.N, Transpose.N, 1, nn, kk, 1f, a, 0, kk, b, 0, nn, 0f, c2, 0, nn);
        add(crc, c2);
        add(crc, c1);
        return crc.getValue();
    }

    private static void add(CRC32 crc, MemorySegment s) {
        for (float v : SimdTestSupport.floats(s)) {
            // floatToIntBits: every NaN counts as the canonical NaN (which NaN payload or sign an
            // operation on a NaN returns is hardware-specific and not a value difference)
            int bits = Float.floatToIntBits(v);
            crc.update(bits);
            crc.update(bits >>> 8);
            crc.update(bits >>> 16);
            crc.update(bits >>> 24);
        }
    }

    private static String run(String... jvmFlags) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        String bits = System.getProperty(SimdShape.PROPERTY);
        if (bits != null) {
            cmd.add("-D" + SimdShape.PROPERTY + "=" + bits);
        }
        cmd.addAll(List.of(jvmFlags));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), SimdJitIndependenceTest.class.getName()));
        boolean repeat = jvmFlags.length == 0;
        if (repeat) {
            cmd.add("400");
        }
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        p.waitFor(300, TimeUnit.SECONDS);
        assertEquals(0, p.exitValue(), "child " + cmd + " failed: " + out);
        return out;
    }

    @Test
    void sameBitsInterpretedC1AndC2() throws Exception {
        String interpreted = run("-Xint");
        String c1 = run("-XX:TieredStopAtLevel=1");
        String compiled = run();
        assertEquals(interpreted, c1, "-Xint vs C1 only");
        assertEquals(interpreted, compiled, "-Xint vs C2 after warm-up (and every repeat in between)");
    }
}
