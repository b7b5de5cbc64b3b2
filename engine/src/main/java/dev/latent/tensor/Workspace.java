package dev.latent.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The owner of off-heap tensor memory: every {@link Tensor} it allocates lives in its {@link Arena}
 * and is freed, all at once, by {@link #close()}. After close, touching any of its tensors throws an
 * {@link IllegalStateException} that names this workspace.
 *
 * <p>The arena is shared (kernels run on a thread pool), so a workspace may be used from any thread;
 * closing it while another thread is still computing on its tensors is the caller's error and is
 * reported by the FFM runtime as an {@link IllegalStateException}, never a crash.
 *
 * <p>Every allocation is counted against one off-heap budget shared by all workspaces of the JVM:
 * {@code -XX:MaxDirectMemorySize} when it is given, else {@code -Dlatent.offheap.mib=N}, else what the
 * machine has available when the budget is first needed: its available memory then (Linux's
 * MemAvailable, else the free memory the JVM reports) less the room the Java heap still has to grow,
 * and never more than the physical (or container) memory less the heap's limit. A request that would
 * exceed it is an {@link OutOfMemoryError} whose message says how much was asked, how much is in use,
 * what the limit is and where it came from, before anything is allocated (a native allocation past physical memory would instead swap the
 * machine or bring the kernel's OOM killer).
 */
public final class Workspace implements AutoCloseable {

    /** Alignment of every allocation: one cache line, which is also one 512-bit vector. */
    public static final long ALIGNMENT = 64;

    /** The system property that sets the off-heap budget in MiB. */
    public static final String LIMIT_PROPERTY = "latent.offheap.mib";
    private static final java.util.concurrent.atomic.AtomicLong IN_USE = new java.util.concurrent.atomic.AtomicLong();
    private static volatile long limit = -1;
    /** Where the budget came from, for the error message. */
    private static volatile String limitSource = "";

    private final String name;
    private final Arena arena;
    /** Bytes this workspace holds (returned to the budget by close). */
    private final java.util.concurrent.atomic.AtomicLong held = new java.util.concurrent.atomic.AtomicLong();

    public Workspace(String name) {
        this.name = name;
        this.arena = Arena.ofShared();
    }

    public Workspace() {
        this("workspace");
    }

    /** A new zero-filled tensor of the given shape. */
    public Tensor allocate(int... shape) {
        long size;
        try {
            size = Tensor.sizeOf(shape);
        } catch (IllegalArgumentException e) {
            // e.g. a model's parameters for --set hidden=1048576: say whose tensor it is and what to change
            throw new IllegalArgumentException("workspace '" + name + "' cannot hold it: " + e.getMessage()
                    + ", latent's limit per tensor (choose smaller sizes)", e);
        }
        MemorySegment seg = allocateFloats(size);
        return new Tensor(this, seg, 0, shape);
    }

    /** A new tensor of the given shape holding a copy of {@code values} (length must equal the size). */
    public Tensor of(float[] values, int... shape) {
        long size = Tensor.sizeOf(shape);
        if (values.length != size) {
            throw new IllegalArgumentException("shape " + Tensor.format(shape) + " holds " + size
                    + " values but the array has " + values.length);
        }
        Tensor t = allocate(shape);
        t.copyFrom(values);
        return t;
    }

    /** A zero-filled, 64-byte aligned segment of {@code floats} floats in this workspace's arena. */
    public MemorySegment allocateFloats(long floats) {
        if (floats < 0) {
            throw new IllegalArgumentException("negative allocation of " + floats + " floats");
        }
        if (!arena.scope().isAlive()) {
            throw closedError();
        }
        long bytes = Math.max(1, floats) * Float.BYTES;
        reserve(bytes);
        try {
            MemorySegment seg = arena.allocate(bytes, ALIGNMENT).asSlice(0, floats * Float.BYTES);
            held.addAndGet(bytes);
            return seg;
        } catch (OutOfMemoryError e) {
            IN_USE.addAndGet(-bytes);
            throw new OutOfMemoryError(describe(bytes, "the system refused it: " + e.getMessage()));
        } catch (RuntimeException e) {
            IN_USE.addAndGet(-bytes);
            throw e;
        }
    }

    private void reserve(long bytes) {
        long max = limit();
        while (true) {
            long used = IN_USE.get();
            if (used + bytes > max || used + bytes < 0) {
                throw new OutOfMemoryError(describe(bytes, null));
            }
            if (IN_USE.compareAndSet(used, used + bytes)) {
                return;
            }
        }
    }

    private String describe(long bytes, String why) {
        return String.format(java.util.Locale.ROOT, "workspace '%s' needs %s more for tensors, with %s already in use and an off-heap"
                        + " limit of %s (%s)%s (set it with -XX:MaxDirectMemorySize or -D%s, or ask for a smaller model or batch)",
                name, mib(bytes), mib(IN_USE.get()), mib(limit()), limitSource, why == null ? "" : "; " + why, LIMIT_PROPERTY);
    }

    private static String mib(long bytes) {
        return bytes >= (10L << 30) ? String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : String.format(java.util.Locale.ROOT, "%d MiB", (bytes + (1 << 20) - 1) >> 20);
    }

    /** Bytes of tensors all workspaces of this JVM hold now. */
    public static long offHeapInUse() {
        return IN_USE.get();
    }

    /** The off-heap budget in bytes (see the class comment). */
    public static long offHeapLimit() {
        return limit();
    }

    private static long limit() {
        long l = limit;
        if (l < 0) {
            limit = l = resolveLimit();
        }
        return l;
    }

    private static long resolveLimit() {
        try {
            var bean = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            long direct = Long.parseLong(bean.getVMOption("MaxDirectMemorySize").getValue());
            if (direct > 0) {
                limitSource = "-XX:MaxDirectMemorySize";
                return direct;
            }
        } catch (RuntimeException | LinkageError e) {
            // not HotSpot: the property or the machine's memory decides
        }
        String mib = System.getProperty(LIMIT_PROPERTY);
        if (mib != null && !mib.isBlank()) {
            try {
                long m = Long.parseLong(mib.trim());
                if (m >= 1) {
                    limitSource = "-D" + LIMIT_PROPERTY;
                    return m << 20;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException("-D" + LIMIT_PROPERTY + " must be a whole number of MiB >= 1, got '" + mib + "'");
        }
        try {
            var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            long physical = os.getTotalMemorySize();
            if (physical > 0) {
                Runtime rt = Runtime.getRuntime();
                long heapRoom = Math.max(0, rt.maxMemory() - rt.totalMemory());
                long meminfo = memAvailable();
                long available = meminfo > 0 ? meminfo : os.getFreeMemorySize();
                long ceiling = physical - rt.maxMemory();
                long l = Math.max(MIN_DEFAULT, Math.min(ceiling, available - heapRoom + IN_USE.get()));
                limitSource = String.format(java.util.Locale.ROOT, "what was available when first needed: %s %s less the Java heap's"
                        + " %s of room to grow, at most the %s of memory less the heap's %s limit", mib(available),
                        meminfo > 0 ? "MemAvailable" : "free", mib(heapRoom), mib(physical), mib(rt.maxMemory()));
                return l;
            }
        } catch (RuntimeException | LinkageError e) {
            // no memory figures: no limit beyond the system's own
        }
        limitSource = "no memory figures from the system";
        return Long.MAX_VALUE;
    }

    /** The floor of the default budget: small tensors must be possible on a machine short of memory. */
    private static final long MIN_DEFAULT = 256L << 20;

    /** Linux's estimate of the memory available to new work (MemAvailable in /proc/meminfo), or -1. */
    private static long memAvailable() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    String[] f = line.substring("MemAvailable:".length()).trim().split("\\s+");
                    return Long.parseLong(f[0]) << 10; // kB
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux, or unreadable: the JVM's free memory figure is used
        }
        return -1;
    }

    /** The arena, for wrapping memory (e.g. a mapped file) whose lifetime this workspace should own. */
    public Arena arena() {
        return arena;
    }

    public boolean isOpen() {
        return arena.scope().isAlive();
    }

    public String name() {
        return name;
    }

    IllegalStateException closedError() {
        return new IllegalStateException("workspace '" + name + "' is closed: its tensors can no longer be used");
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
            IN_USE.addAndGet(-held.getAndSet(0));
        }
    }

    @Override
    public String toString() {
        return "Workspace[" + name + (isOpen() ? "]" : ", closed]");
    }
}
