package dev.latent.kernel;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The engine's one thread pool ({@link #SHARED}): {@link KernelThreads#count()} - 1 persistent daemon workers
 * plus the calling thread. {@link #run} is a parallel for over task indices that allocates nothing:
 * the job lives in fields of the pool, workers wait on a generation counter (a short spin, then park)
 * and take indices from an atomic counter, so a slow core simply takes fewer tasks.
 *
 * <p>Results must not depend on which thread runs a task (every kernel partitions its output so
 * that each element is computed by exactly one task with a fixed operation order). That is what
 * lets a second concurrent caller, or a caller that is itself a worker, run its tasks serially
 * instead of waiting: the bits are the same. Code outside the kernels that splits its own work
 * across the kernel threads (k-means' per-thread assignment) runs here too; its tasks must not call
 * the multi-threaded kernels (use {@link Gemm#singleThreaded()}).
 */
public final class KernelPool {

    /** A body of a parallel for: runs task {@code index}. */
    public interface Task {
        void run(int index);
    }

    /** The shared pool. */
    public static final KernelPool SHARED = new KernelPool(KernelThreads.count());

    /**
     * Spin iterations (PAUSE, ~20-60 ns each) before a waiting thread parks: long enough to bridge the
     * phases of one GEMM without a park/unpark round trip, short enough not to burn a shared core.
     */
    private static final int SPINS = 4_000;

    private final Thread[] workers;
    private final ReentrantLock lock = new ReentrantLock();
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger active = new AtomicInteger();
    private volatile long generation;
    private volatile Task task;
    private volatile int taskCount;
    private volatile Thread caller;
    private volatile Throwable failure;

    public KernelPool(int threads) {
        workers = new Thread[Math.max(0, threads - 1)];
        for (int w = 0; w < workers.length; w++) {
            Thread t = new Thread(this::workLoop, "latent-kernel-" + (w + 1));
            t.setDaemon(true);
            workers[w] = t;
            t.start();
        }
    }

    /**
     * Whether the workers may touch {@code segment}: false for memory of a confined arena owned by the
     * caller, whose kernels must then run on the calling thread.
     */
    public boolean shareable(MemorySegment segment) {
        return workers.length == 0 || segment.isAccessibleBy(workers[0]);
    }

    /** Threads that run tasks, the caller included. */
    public int threads() {
        return workers.length + 1;
    }

    /**
     * Runs {@code body.run(i)} for every i in [0, count), in parallel when the pool is free, and returns
     * when all are done. An exception thrown by a task is rethrown here (the first one).
     */
    public void run(int count, Task body) {
        if (count <= 0) {
            return;
        }
        if (count == 1 || workers.length == 0 || !lock.tryLock()) {
            for (int i = 0; i < count; i++) {
                body.run(i);
            }
            return;
        }
        try {
            failure = null;
            task = body;
            taskCount = count;
            next.set(0);
            caller = Thread.currentThread();
            active.set(workers.length);
            generation++;
            for (Thread w : workers) {
                LockSupport.unpark(w);
            }
            drain(body, count);
            int spins = 0;
            while (active.get() != 0) {
                if (spins++ < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            task = null;
            Throwable f = failure;
            if (f != null) {
                failure = null;
                if (f instanceof RuntimeException re) {
                    throw re;
                }
                if (f instanceof Error e) {
                    throw e;
                }
                throw new IllegalStateException(f);
            }
        } finally {
            lock.unlock();
        }
    }

    private void drain(Task body, int count) {
        for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
            try {
                body.run(i);
            } catch (Throwable t) {
                if (failure == null) {
                    failure = t;
                }
                next.set(count);
            }
        }
    }

    private void workLoop() {
        long seen = 0;
        while (true) {
            int spins = 0;
            long g;
            while ((g = generation) == seen) {
                if (spins++ < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            seen = g;
            Task body = task;
            if (body != null) {
                drain(body, taskCount);
            }
            if (active.decrementAndGet() == 0) {
                LockSupport.unpark(caller);
            }
        }
    }
}
