package dev.latent.kernel.simd;

import java.util.function.IntConsumer;

/**
 * The simd kernels' one thread pool ({@link SimdPool#SHARED}, {@code KernelThreads.count()} threads with
 * the caller) for code outside this package that splits its own work across the kernel threads, such
 * as k-means' per-thread assignment. Tasks must not call the multi-threaded kernels of this pool (use
 * {@link dev.latent.kernel.Gemm#singleThreaded()}); results must not depend on which thread runs a task.
 */
public final class SimdThreads {

    private SimdThreads() {
    }

    /** Threads that run tasks, the caller included. */
    public static int threads() {
        return SimdPool.SHARED.threads();
    }

    /** Runs {@code task.accept(i)} for every i in [0, count) on the pool and returns when all are done. */
    public static void run(int count, IntConsumer task) {
        SimdPool.SHARED.run(count, task::accept);
    }
}
