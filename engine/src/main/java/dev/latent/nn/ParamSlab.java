package dev.latent.nn;

import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * One allocation holding every parameter of a model, then every gradient (same order, same offsets
 * plus {@code total}), so optimizers and checkpoints see two contiguous runs. Layers {@link #take}
 * their parameters in order while the model is built.
 */
public final class ParamSlab {

    private final MemorySegment segment;
    private final long total;
    private long next;
    private final List<Param> params = new ArrayList<>();
    private List<Param> view = List.of();

    /** Allocates room for {@code total} parameters and their gradients in {@code ws}. */
    public ParamSlab(Workspace ws, long total) {
        this.segment = ws.allocateFloats(2 * total);
        this.total = total;
    }

    /** The next parameter of the given shape, with its gradient. */
    public Param take(String name, boolean decay, int... shape) {
        long size = Tensor.sizeOf(shape);
        if (next + size > total) {
            throw new IllegalStateException("parameter slab of " + total + " floats exhausted by '" + name
                    + "' " + Tensor.format(shape) + ": a layer's paramCount() disagrees with what it takes");
        }
        Param p = new Param(name, Tensor.wrap(segment, next, shape), Tensor.wrap(segment, total + next, shape), decay);
        next += size;
        params.add(p);
        view = List.copyOf(params);
        return p;
    }

    /** Every parameter taken so far, in order (an immutable list; no allocation per call). */
    public List<Param> params() {
        return view;
    }

    /** All values: floats [0, total) of the segment. */
    public Tensor values() {
        return Tensor.wrap(segment, 0, (int) total);
    }

    /** All gradients: floats [total, 2 total) of the segment. */
    public Tensor grads() {
        return Tensor.wrap(segment, total, (int) total);
    }

    public long total() {
        return total;
    }

    /** Whether every reserved float was taken (a check the model runs after building). */
    public boolean full() {
        return next == total;
    }
}
