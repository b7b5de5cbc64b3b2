package dev.latent.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The pool's contract: every task index of a job runs exactly once, the call returns only after all of
 * them ran (their writes visible to the caller), the first failure is rethrown and the pool stays usable,
 * and concurrent or nested callers (which run their tasks serially) never see each other's tasks. Jobs are
 * claimed by compare-and-set on (generation, index): the stress cases run thousands of back-to-back jobs
 * of different sizes, which is where a worker reading a stale job's count or body would run a task twice,
 * skip one, or run it for the wrong job (a first version of the claim did: job 873, index 22 ran twice).
 * A deadlock fails by the timeout (a nested call on the caller's thread once restarted the job and hung).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KernelPoolTest {

    /** More threads than cores, so workers are descheduled mid-job as on a busy host. */
    static final KernelPool POOL = new KernelPool(4);

    @Test
    void everyIndexRunsExactlyOnceAcrossBackToBackJobs() {
        for (int job = 0; job < 5_000; job++) {
            int count = 1 + job % 37;
            AtomicIntegerArray hits = new AtomicIntegerArray(count);
            int[] plain = new int[count];
            int tag = job;
            POOL.run(count, i -> {
                hits.incrementAndGet(i);
                plain[i] = tag; // a plain write: must be visible to the caller after run returns
            });
            for (int i = 0; i < count; i++) {
                assertEquals(1, hits.get(i), "job " + job + " index " + i);
                assertEquals(tag, plain[i], "job " + job + " index " + i + ": write not visible after run");
            }
        }
    }

    @Test
    void theFirstFailureIsRethrownAndThePoolStaysUsable() {
        IllegalStateException boom = new IllegalStateException("task 5");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> POOL.run(64, i -> {
            if (i == 5) {
                throw boom;
            }
        }));
        assertSame(boom, thrown);
        AssertionError error = assertThrows(AssertionError.class, () -> POOL.run(8, i -> {
            throw new AssertionError("every task");
        }));
        assertEquals("every task", error.getMessage());
        AtomicIntegerArray hits = new AtomicIntegerArray(100);
        POOL.run(100, hits::incrementAndGet);
        for (int i = 0; i < 100; i++) {
            assertEquals(1, hits.get(i), "after a failure, index " + i);
        }
    }

    @Test
    void concurrentCallersEachGetTheirOwnTasks() throws Exception {
        int callers = 6;
        int jobs = 500;
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < callers; c++) {
            int caller = c;
            Thread t = new Thread(() -> {
                try {
                    start.await();
                    for (int job = 0; job < jobs; job++) {
                        int count = 1 + (job + caller) % 23;
                        int[] owner = new int[count];
                        AtomicIntegerArray hits = new AtomicIntegerArray(count);
                        POOL.run(count, i -> {
                            hits.incrementAndGet(i);
                            owner[i] = caller + 1;
                        });
                        for (int i = 0; i < count; i++) {
                            if (hits.get(i) != 1 || owner[i] != caller + 1) {
                                throw new AssertionError("caller " + caller + " job " + job + " index " + i
                                        + ": ran " + hits.get(i) + " times");
                            }
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            threads.add(t);
            t.start();
        }
        start.countDown();
        for (Thread t : threads) {
            t.join(120_000);
            assertTrue(!t.isAlive(), "a caller did not finish within 120 s (deadlock)");
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
    }

    @Test
    void aTaskMayCallThePoolAgain() {
        int outer = 16;
        int inner = 9;
        AtomicIntegerArray hits = new AtomicIntegerArray(outer * inner);
        POOL.run(outer, o -> POOL.run(inner, i -> hits.incrementAndGet(o * inner + i)));
        for (int i = 0; i < outer * inner; i++) {
            assertEquals(1, hits.get(i), "nested index " + i);
        }
    }

    @Test
    void aPoolOfOneThreadRunsOnTheCaller() {
        KernelPool single = new KernelPool(1);
        assertEquals(1, single.threads());
        Thread me = Thread.currentThread();
        AtomicIntegerArray onCaller = new AtomicIntegerArray(10);
        single.run(10, i -> onCaller.set(i, Thread.currentThread() == me ? 1 : 0));
        for (int i = 0; i < 10; i++) {
            assertEquals(1, onCaller.get(i));
        }
        single.run(0, i -> {
            throw new AssertionError("no task for count 0");
        });
    }
}
