package dev.latent.blas;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Gemm;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Transpose;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.SplittableRandom;

/**
 * Rough GEMM timing through this binding (not a test; JMH lives in the bench module). Best-of batches,
 * because the machine is shared. Run with {@code -Dlatent.threads=N} and the OPENBLAS_CORETYPE to study;
 * it prints the core name it ran with. Args: optional shapes "MxKxN" (default: the standard set).
 */
public final class OpenBlasGemmBench {

    private OpenBlasGemmBench() {
    }

    public static void main(String[] args) throws Throwable {
        String[] shapes = args.length > 0 ? args
                : new String[] {"1024x1024x1024", "256x784x1024", "784x256x1024", "256x1024x784", "1x784x1000"};
        Gemm gemm = KernelRegistry.load("openblas").gemm();
        System.out.printf("core=%s threads=%d OPENBLAS_CORETYPE=%s%n", OpenBlas.coreName(), OpenBlas.threads(),
                System.getenv("OPENBLAS_CORETYPE"));
        for (String s : shapes) {
            String[] p = s.split("x");
            int m = Integer.parseInt(p[0]);
            int k = Integer.parseInt(p[1]);
            int n = Integer.parseInt(p[2]);
            try (Arena arena = Arena.ofConfined()) {
                SplittableRandom r = new SplittableRandom(1);
                MemorySegment a = fill(arena, r, (long) m * k);
                MemorySegment b = fill(arena, r, (long) k * n);
                MemorySegment c = arena.allocate((long) m * n * 4, 64);
                double flops = 2.0 * m * n * k;
                double best = bestSeconds(() -> gemm.gemm(Transpose.N, Transpose.N, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n), flops);
                System.out.printf("%-16s %8.1f GFLOP/s  (%.1f us/call, gemm API)%n", s, flops / best / 1e9, best * 1e6);
                if (flops < 1e7) {
                    OpenBlas.Lib lib = OpenBlas.lib();
                    double plain = bestSeconds(() -> raw(lib.sgemm, m, n, k, a, b, c), flops);
                    double crit = bestSeconds(() -> raw(lib.sgemmCritical, m, n, k, a, b, c), flops);
                    System.out.printf("%-16s raw downcall %.2f us, critical %.2f us%n", s, plain * 1e6, crit * 1e6);
                }
            }
        }
    }

    private static void raw(MethodHandle h, int m, int n, int k, MemorySegment a, MemorySegment b, MemorySegment c) {
        try {
            h.invokeExact(OpenBlas.ROW_MAJOR, OpenBlas.NO_TRANS, OpenBlas.NO_TRANS, m, n, k, 1f, a, k, b, n, 0f, c, n);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Best time per call over batches of about 50 ms each, after a warm-up, for about 3 s in all. */
    private static double bestSeconds(Runnable call, double flops) {
        int perBatch = (int) Math.max(1, Math.min(1_000_000, 50e-3 / (flops / 50e9)));
        for (int i = 0; i < perBatch * 4; i++) {
            call.run();
        }
        double best = Double.MAX_VALUE;
        long end = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < end) {
            long t0 = System.nanoTime();
            for (int i = 0; i < perBatch; i++) {
                call.run();
            }
            best = Math.min(best, (System.nanoTime() - t0) / 1e9 / perBatch);
        }
        return best;
    }

    private static MemorySegment fill(Arena arena, SplittableRandom r, long floats) {
        MemorySegment s = arena.allocate(floats * 4, 64);
        for (long i = 0; i < floats; i++) {
            s.setAtIndex(JAVA_FLOAT, i, (float) r.nextDouble(-1, 1));
        }
        return s;
    }
}
