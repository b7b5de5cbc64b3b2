package dev.latent.kernel;

import java.lang.foreign.MemorySegment;

/**
 * Pointwise activations and their derivatives over contiguous runs of n floats; formulas in
 * {@link Activation}. Output runs may alias their input exactly (in place), never partially.
 * Forward values agree with the double-precision formula to a few float ulps (vector providers use
 * polynomial exp/tanh approximations; their documented error bound is part of their contract).
 */
public interface Activations {

    /** {@code a[i] = f(z[i])} for i in [0, n). */
    void forward(Activation f, int n, MemorySegment z, long zOff, MemorySegment a, long aOff);

    /**
     * {@code dz[i] = f'(z[i]) * da[i]} for i in [0, n). Reads the output a for sigmoid and tanh and
     * the input z for the others ({@link Activation#derivativeFromOutput()}); the run not read may be
     * any segment (it is not touched). dz may alias da.
     */
    void backward(Activation f, int n, MemorySegment z, long zOff, MemorySegment a, long aOff,
                  MemorySegment da, long daOff, MemorySegment dz, long dzOff);
}
