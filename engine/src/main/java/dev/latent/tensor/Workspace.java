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
 */
public final class Workspace implements AutoCloseable {

    /** Alignment of every allocation: one cache line, which is also one 512-bit vector. */
    public static final long ALIGNMENT = 64;

    private final String name;
    private final Arena arena;

    public Workspace(String name) {
        this.name = name;
        this.arena = Arena.ofShared();
    }

    public Workspace() {
        this("workspace");
    }

    /** A new zero-filled tensor of the given shape. */
    public Tensor allocate(int... shape) {
        long size = Tensor.sizeOf(shape);
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
        return arena.allocate(Math.max(1, floats) * Float.BYTES, ALIGNMENT).asSlice(0, floats * Float.BYTES);
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
        }
    }

    @Override
    public String toString() {
        return "Workspace[" + name + (isOpen() ? "]" : ", closed]");
    }
}
