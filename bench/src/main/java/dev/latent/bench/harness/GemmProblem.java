package dev.latent.bench.harness;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Gemm;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * The operands of one GEMM benchmark, {@code C = op(A) op(B)} (alpha 1, beta 0), float32, row-major, tight
 * leading dimensions, off-heap in a {@link Workspace}: A and B uniform in [-1, 1) from {@link #SEED}, C
 * filled with NaN (beta = 0 makes C write-only, so NaN must never survive a call). Shared by the JMH
 * GEMM benchmarks and {@code latent bench gemm}, with the result check {@link GemmCheck}.
 */
public final class GemmProblem implements AutoCloseable {

    /** Seed of the operand values; printed with any check failure so it can be replayed. */
    public static final long SEED = 20240611L;

    private final GemmShape s;
    private final Workspace ws = new Workspace("gemm-bench");
    private final MemorySegment a;
    private final MemorySegment b;
    private final MemorySegment c;

    public GemmProblem(GemmShape shape) {
        this.s = shape;
        a = ws.allocateFloats((long) s.aRows() * s.lda());
        b = ws.allocateFloats((long) s.bRows() * s.ldb());
        c = ws.allocateFloats((long) s.m() * s.n());
        SplittableRandom random = new SplittableRandom(SEED);
        fillUniform(a, random);
        fillUniform(b, random);
        c.fill((byte) 0xff); // all-ones bits: a NaN
    }

    public GemmShape shape() {
        return s;
    }

    /** One call of {@code gemm} on these operands. */
    public void call(Gemm gemm) {
        gemm.gemm(s.ta(), s.tb(), s.m(), s.n(), s.k(), 1f, a, 0, s.lda(), b, 0, s.ldb(), 0f, c, 0, s.n());
    }

    /** Checks C after a call (see {@link GemmCheck#verify}); {@code what} names provider and shape in the failure. */
    public GemmCheck verify(String what) {
        return GemmCheck.verify(what, s, SEED, a, b, c);
    }

    /** Fails unless the entries {@code check} verified still hold their bits (after the timed calls). */
    public void requireUnchanged(GemmCheck check) {
        check.requireUnchanged(c);
    }

    @Override
    public void close() {
        ws.close();
    }

    private static void fillUniform(MemorySegment segment, SplittableRandom random) {
        long count = segment.byteSize() / Float.BYTES;
        for (long i = 0; i < count; i++) {
            segment.setAtIndex(JAVA_FLOAT, i, (float) random.nextDouble(-1.0, 1.0));
        }
    }
}
