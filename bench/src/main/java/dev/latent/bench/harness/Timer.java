package dev.latent.bench.harness;

import com.sun.management.ThreadMXBean;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.management.JMException;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

/**
 * The one timing loop of {@code latent bench}: it calls a body in groups of calls, warms up until the
 * rate is steady, then times groups and reports their spread ({@link Timing}).
 *
 * <p>Warm-up ends when all of these hold after a group (checked on the last window of groups, at least
 * {@value #WINDOW_SECONDS} s and 3 groups, against the window before it):
 * <ol>
 *   <li>at least {@link Plan#minWarmup} seconds have passed;
 *   <li>the body is hot: {@value #HOT_CALLS} calls, or {@value #HOT_SECONDS} s for slow bodies. Tiered
 *       compilation hands a method to C2 after some thousands of invocations; until then the JIT is idle
 *       and the rate flat, so the rules below cannot tell (batch-1 encode calls on simd, timed after
 *       356 calls, were 4x slow and allocated 100 KB per call: Vector API code not yet compiled by C2
 *       boxes every vector). Slow bodies spend their time in loops, which C2 compiles early;
 *   <li>the JIT is idle: nothing is being compiled or waits to be at the window's end
 *       ({@link #jitTasks}: a compilation starved of CPU on a busy machine still shows up there), and
 *       the compiler threads ran for at most {@value #JIT_BUSY_SHARE} of the window's wall time
 *       ({@link #jitNanos}). A fixed warm-up is what issue 12 found wrong: on a busy 2-core
 *       machine C2 took longer than the 1 s warm-up to compile the Vector API kernels, so whichever
 *       provider ran first in a JVM was timed 3x slower. Vector API code that C2 has not compiled yet
 *       is not merely slower: it allocates a box per vector (megabytes per GEMM call);
 *   <li>the rate stopped improving: the window's median time per call is within
 *       {@value #IMPROVEMENT} of the window before (a later tier may compile without much JIT time);
 *   <li>allocation stopped falling: per call, the window allocates at most a share of
 *       {@value #ALLOCATION_DROP} and {@value #ALLOCATION_SLACK} bytes less than the window before.
 *       Unlike time, allocation is not disturbed by other processes, and it falls as C2 compiles
 *       with escape analysis.
 * </ol>
 * If they do not hold within {@link Plan#maxWarmup} seconds, timing starts anyway and the timing says
 * it was not steady ({@code "steady": false} in the row), rather than looping forever on a noisy host.
 *
 * <p>Timed groups are sized to last at least {@link Plan#groupSeconds} (so the clock's resolution does
 * not matter), warm-up groups at least {@value #WARMUP_GROUP_SECONDS} s; a group holds one call when
 * a call is longer. The bytes the calling thread allocates during the timed groups are counted
 * ({@link ThreadMXBean#getThreadAllocatedBytes}); kernel pool threads are not.
 */
public final class Timer {

    static final double WINDOW_SECONDS = 0.25;
    static final long HOT_CALLS = 10_000;
    static final double HOT_SECONDS = 5;
    static final double JIT_BUSY_SHARE = 0.05;
    /** Warm-up groups are longer than timed ones: steadiness is checked after each (reading /proc costs ~1 ms). */
    static final double WARMUP_GROUP_SECONDS = 0.05;
    private static final Path TASKS = Path.of("/proc/self/task");
    private static final ObjectName DIAGNOSTICS = diagnostics();
    /** Whether this system shows threads' CPU time in /proc (Linux). */
    private static final boolean PROC = Files.isReadable(TASKS.resolve(Long.toString(ProcessHandle.current().pid())).resolve("schedstat"));
    static final double IMPROVEMENT = 0.03;
    /** Allocation per call may fall by this share and this many bytes between windows (noise: a TLAB refill, a lazy init). */
    static final double ALLOCATION_DROP = 0.1;
    static final double ALLOCATION_SLACK = 64;
    /** Upper bound on calls per group, so a near-empty body cannot overflow a count. */
    private static final long MAX_PER_GROUP = 1 << 22;

    /** A measured call; may throw (e.g. ONNX Runtime's checked exceptions). */
    @FunctionalInterface
    public interface Body {
        void run() throws Exception;
    }

    /**
     * How long to warm up and to time: at least {@code seconds} of timed groups and {@code minGroups}
     * of them, each of at least {@code groupSeconds}.
     */
    public record Plan(double seconds, double minWarmup, double maxWarmup, int minGroups, double groupSeconds) {

        /** The default plan for a measurement of {@code seconds}: warm-up at least half that, at most max(10 s, 5x). */
        public static Plan of(double seconds) {
            return new Plan(seconds, seconds / 2, Math.max(10, 5 * seconds), 5, 0.01);
        }

        /** This plan with at least {@code n} timed groups (e.g. k-means: a fixed number of iterations, one per group). */
        public Plan withMinGroups(int n) {
            return new Plan(seconds, minWarmup, maxWarmup, n, groupSeconds);
        }
    }

    private Timer() {
    }

    private static ObjectName diagnostics() {
        try {
            return new ObjectName("com.sun.management:type=DiagnosticCommand");
        } catch (MalformedObjectNameException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * One warm-up group as {@link #steady} sees it: when it ended (seconds since the warm-up began),
     * its seconds per call, and running totals at its end: JIT work (ns, {@link #jitNanos}), calls, and
     * bytes the calling thread allocated; {@code jitTasks} is {@link #jitTasks} at its end.
     */
    record Group(double end, double perCall, double jitNanos, int jitTasks, long calls, long bytes) {
    }

    /** Warms {@code body} up and times it on the calling thread as {@code plan} says. */
    public static Timing run(Body body, Plan plan) throws Exception {
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        List<Group> warm = new ArrayList<>();
        long start = System.nanoTime();
        long bytesStart = mx.getThreadAllocatedBytes(tid);
        long perGroup = 1;
        long warmCalls = 0;
        boolean steady = false;
        while (true) {
            double perCall = group(body, perGroup);
            warmCalls += perGroup;
            double now = (System.nanoTime() - start) * 1e-9;
            warm.add(new Group(now, perCall, jitNanos(), jitTasks(), warmCalls, mx.getThreadAllocatedBytes(tid) - bytesStart));
            perGroup = groupSize(perCall, Math.max(plan.groupSeconds(), WARMUP_GROUP_SECONDS));
            if (now >= plan.minWarmup() && (warmCalls >= HOT_CALLS || now >= HOT_SECONDS) && steady(warm)) {
                steady = true;
                break;
            }
            if (now >= plan.maxWarmup()) {
                break;
            }
        }
        double warmup = (System.nanoTime() - start) * 1e-9;
        perGroup = groupSize(warm.get(warm.size() - 1).perCall(), plan.groupSeconds());

        List<Double> perCall = new ArrayList<>();
        long calls = 0;
        long bytes0 = mx.getThreadAllocatedBytes(tid);
        long t0 = System.nanoTime();
        do {
            perCall.add(group(body, perGroup));
            calls += perGroup;
        } while ((System.nanoTime() - t0) * 1e-9 < plan.seconds() || perCall.size() < plan.minGroups());
        long bytes = mx.getThreadAllocatedBytes(tid) - bytes0;
        return new Timing(perCall.stream().mapToDouble(Double::doubleValue).toArray(), calls, warmCalls, warmup, steady,
                bytes / calls);
    }

    /** Seconds per call over one group of {@code n} calls. */
    private static double group(Body body, long n) throws Exception {
        long t0 = System.nanoTime();
        for (long i = 0; i < n; i++) {
            body.run();
        }
        return Math.max(1, System.nanoTime() - t0) * 1e-9 / n;
    }

    private static long groupSize(double perCall, double groupSeconds) {
        return Math.max(1, Math.min(MAX_PER_GROUP, (long) (groupSeconds / perCall)));
    }

    /**
     * Whether the last window of warm-up groups is JIT-idle, no faster than the window before it, and
     * allocates per call no less than it (C2's escape analysis removing boxes shows as falling allocation).
     */
    static boolean steady(List<Group> g) {
        int last = g.size() - 1;
        int first = last;
        while (first > 0 && (last - first + 1 < 3 || g.get(last).end() - g.get(first - 1).end() < WINDOW_SECONDS)) {
            first--;
        }
        int n = last - first + 1;
        if (first - n < 0 || n < 3) {
            return false;
        }
        Group end = g.get(last);
        Group mid = g.get(first - 1);
        Group begin = first - n > 0 ? g.get(first - n - 1) : new Group(0, 0, g.get(0).jitNanos(), 0, 0, 0);
        double wall = end.end() - mid.end();
        if (end.jitNanos() - mid.jitNanos() > JIT_BUSY_SHARE * wall * 1e9 || end.jitTasks() > 0) {
            return false;
        }
        double bytesNow = (double) (end.bytes() - mid.bytes()) / (end.calls() - mid.calls());
        double bytesBefore = (double) (mid.bytes() - begin.bytes()) / (mid.calls() - begin.calls());
        if (bytesNow < bytesBefore * (1 - ALLOCATION_DROP) - ALLOCATION_SLACK) {
            return false;
        }
        double now = median(g.subList(first, last + 1));
        double before = median(g.subList(first - n, first));
        return now >= before * (1 - IMPROVEMENT);
    }

    /**
     * Nanoseconds the JIT has worked so far: on Linux the CPU time of the compiler threads ("C1/C2
     * CompilerThreadN" in /proc/self/task/N/schedstat), which grows while a compilation is under way;
     * elsewhere the JVM's total compilation time, which grows only when one finishes.
     */
    static double jitNanos() {
        if (PROC) {
            long sum = 0;
            try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
                for (Path t : tasks) {
                    sum += compilerNanos(t);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + TASKS + ", which was readable at start-up", e);
            }
            return sum;
        }
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() * 1e6 : 0;
    }

    /**
     * Methods being compiled or queued for compilation (HotSpot's Compiler.queue diagnostic command,
     * about 0.2 ms), or 0 where that command does not exist.
     */
    static int jitTasks() {
        try {
            String queue = (String) ManagementFactory.getPlatformMBeanServer().invoke(DIAGNOSTICS, "compilerQueue",
                    new Object[] {null}, new String[] {String[].class.getName()});
            int tasks = 0;
            for (String line : queue.split("\n")) {
                String l = line.trim();
                if (!l.isEmpty() && !l.endsWith(":") && !l.equals("Empty")) {
                    tasks++; // not a header ("Current compiles:", "C2 compile queue:") nor an empty queue
                }
            }
            return tasks;
        } catch (JMException | RuntimeException e) {
            return 0;
        }
    }

    /** CPU nanoseconds of task {@code t} if it is a compiler thread, else 0 (also when it just ended). */
    private static long compilerNanos(Path t) {
        try {
            if (!Files.readString(t.resolve("comm")).contains("CompilerThre")) {
                return 0;
            }
            String stat = Files.readString(t.resolve("schedstat"));
            return Long.parseLong(stat.substring(0, stat.indexOf(' ')));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static double median(List<Group> groups) {
        return Timing.quantile(groups.stream().mapToDouble(Group::perCall).sorted().toArray(), 0.5);
    }
}
