package dev.latent.kernel;

import dev.latent.kernel.simd.SimdDense;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Runs {@link PackedDenseContract} on {@link SimdDense} (at every vector size the surefire executions set). */
class SimdDensePropertiesTest implements PackedDenseContract {

    @Override
    public PackedDense pack(int out, int in, MemorySegment w, MemorySegment b, Activation f, Arena arena) {
        return SimdDense.pack(out, in, w, 0, in, b, 0, f, arena);
    }
}
