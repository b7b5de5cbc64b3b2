package dev.latent.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The floating-point work done by the GEMM benchmarks, reported by JMH next to the call rate as
 * {@code gemm:gflop} in {@code ops/s}, which reads as GFLOP/s (2mnk / 1e9 per call).
 */
// OPERATIONS: JMH divides the counter by the iteration's time, exactly like the primary ops/s score.
@AuxCounters(AuxCounters.Type.OPERATIONS)
// Thread scope is what @AuxCounters requires; JMH also resets public fields before every iteration.
@State(Scope.Thread)
public class GemmCounters {

    /** GFLOP performed in the current iteration. */
    public double gflop;
}
