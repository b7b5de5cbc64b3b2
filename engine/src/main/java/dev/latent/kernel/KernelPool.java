package dev.latent.kernel;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The engine's one thread pool ({@link #SHARED}): {@link KernelThreads#count()} - 1 persistent daemon workers
 * plus the calling thread. {@link #run} is a parallel for over task indices that allocates nothing:
 * the job lives in fields of the pool, workers wait on a generation counter (a short spin, then park)
 * and claim indices by compare-and-set on one word holding the generation and the next index, so a
 * slow core simply takes fewer tasks and a worker that is not scheduled holds nobody up.
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
    /**
     * The job's generation (high 32 bits) and its next unclaimed task index (low 32 bits), in one word:
     * a task is claimed by a compare-and-set that also proves the job is still the current one.
     */
    private final AtomicLong claim = new AtomicLong();
    /** Tasks of the current job finished (or skipped after a failure). */
    private final AtomicInteger done = new AtomicInteger();
    /**
     * The job's body and task count, in the slot of its generation's parity. Two slots, because the next
     * job is written while the word still holds this generation: a worker that read this generation's
     * word before the new job was published must not find the new job's count beside it (it would claim
     * an index past this job's end, and the CAS would succeed on the old word). A slot is rewritten only
     * two generations later, after the word has moved on, so any claim that succeeds read its own job's
     * slot; the word's volatile write publishes the plain writes.
     */
    private final Task[] tasks = new Task[2];
    private final int[] counts = new int[2];
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
     *
     * <p>No barrier on the workers: a task is run by whichever thread claims it, and the caller waits
     * only for tasks claimed and still running, never for a worker that has not woken up (on a busy
     * machine a descheduled worker then costs nothing: the caller runs its share).
     */
    public void run(int count, Task body) {
        if (count <= 0) {
            return;
        }
        // A task that calls run again on the caller's thread must not start a job over the current one
        // (the lock is reentrant): like a worker's nested call, it runs serially.
        if (count == 1 || workers.length == 0 || lock.isHeldByCurrentThread() || !lock.tryLock()) {
            for (int i = 0; i < count; i++) {
                body.run(i);
            }
            return;
        }
        try {
            failure = null;
            long gen = (claim.get() >>> 32) + 1;
            int slot = (int) (gen & 1);
            tasks[slot] = body;
            counts[slot] = count;
            caller = Thread.currentThread();
            done.set(0);
            claim.set(gen << 32); // publishes the job: its slot and caller are written before
            for (Thread w : workers) {
                LockSupport.unpark(w);
            }
            drain(gen);
            int spins = 0;
            while (done.get() < count) {
                if (spins++ < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            tasks[slot] = null;
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

    /**
     * Claims and runs tasks of job {@code gen} until none is left. A successful claim proves the job is
     * current and unfinished (its claimed task is not done), so its body and caller are read after it;
     * the one finishing the last task wakes the caller.
     */
    private void drain(long gen) {
        while (true) {
            long c = claim.get();
            if (c >>> 32 != gen) {
                return;
            }
            int i = (int) c;
            int slot = (int) (gen & 1);
            int count = counts[slot];
            if (i >= count) {
                return;
            }
            if (!claim.compareAndSet(c, c + 1)) {
                continue;
            }
            Task body = tasks[slot];
            if (failure == null) {
                try {
                    body.run(i);
                } catch (Throwable t) {
                    if (failure == null) {
                        failure = t;
                    }
                }
            }
            if (done.incrementAndGet() == count) {
                LockSupport.unpark(caller);
            }
        }
    }

    private void workLoop() {
        long seen = 0;
        while (true) {
            int spins = 0;
            long g;
            while ((g = claim.get() >>> 32) == seen) {
                if (spins++ < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            seen = g;
            drain(g);
        }
    }
}
