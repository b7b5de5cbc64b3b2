package dev.latent.bench.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntToDoubleFunction;
import java.util.function.IntToLongFunction;
import org.junit.jupiter.api.Test;

/**
 * The harness's warm-up rule, quantiles and rows on synthetic groups: no assertion depends on how
 * fast this machine is.
 */
class TimerTest {

    /**
     * Warm-up groups of 10 calls, one every 0.05 s, of {@code perCall(i)} seconds and {@code bytes(i)}
     * bytes per call, the JIT working {@code jitShare} of the time.
     */
    private static List<Timer.Group> groups(int n, IntToDoubleFunction perCall, IntToLongFunction bytes, double jitShare) {
        List<Timer.Group> g = new ArrayList<>();
        long allocated = 0;
        for (int i = 0; i < n; i++) {
            double t = 0.05 * (i + 1);
            allocated += 10 * bytes.applyAsLong(i);
            g.add(new Timer.Group(t, perCall.applyAsDouble(i), jitShare * t * 1e9, 0, 10L * (i + 1), allocated));
        }
        return g;
    }

    private static List<Timer.Group> groups(int n, IntToDoubleFunction perCall, double jitShare) {
        return groups(n, perCall, i -> 100, jitShare);
    }

    @Test
    void aFlatRateWithAnIdleJitIsSteady() {
        assertTrue(Timer.steady(groups(12, i -> 1e-3 * (1 + 0.01 * (i % 2)), 0)));
    }

    @Test
    void tooFewGroupsForTwoWindowsAreNotSteady() {
        assertFalse(Timer.steady(groups(5, i -> 1e-3, 0)));
    }

    @Test
    void aRateStillImprovingIsNotSteady() {
        // 10% faster every group: the last window is much faster than the one before.
        assertFalse(Timer.steady(groups(12, i -> 1e-3 * Math.pow(0.9, i), 0)));
    }

    @Test
    void aBusyJitIsNotSteadyEvenAtAFlatRate() {
        // A long C2 compilation under way: the rate is flat (still interpreted) but the compiler works.
        assertFalse(Timer.steady(groups(12, i -> 1e-3, 0.5)));
    }

    @Test
    void aQueuedCompilationIsNotSteady() {
        // A compilation waiting for CPU on a busy machine: the compiler threads did not run, but it is queued.
        List<Timer.Group> g = groups(12, i -> 1e-3, 0);
        Timer.Group last = g.get(11);
        g.set(11, new Timer.Group(last.end(), last.perCall(), last.jitNanos(), 1, last.calls(), last.bytes()));
        assertFalse(Timer.steady(g));
    }

    @Test
    void fallingAllocationIsNotSteadyEvenAtAFlatRate() {
        // C2 removing vector boxes: 100 KB per call, then 3 bytes, at a rate the machine's noise hides.
        assertFalse(Timer.steady(groups(12, i -> 1e-3, i -> i < 9 ? 100_000 : 3, 0)));
        assertTrue(Timer.steady(groups(12, i -> 1e-3, i -> i < 2 ? 100_000 : 3, 0))); // both windows after the drop
    }

    @Test
    void aSlowerLastWindowIsSteady() {
        // Slower is noise or interference, not warm-up: waiting longer would not help.
        assertTrue(Timer.steady(groups(12, i -> i < 6 ? 1e-3 : 1.2e-3, 0)));
    }

    @Test
    void runTimesAtLeastTheMinimumGroupsAndCountsCalls() throws Exception {
        long[] calls = {0};
        Timing t = Timer.run(() -> calls[0]++, new Timer.Plan(0, 0, 0.2, 7, 0));
        assertTrue(t.groups() >= 7, "groups " + t.groups());
        Row r = t.putStats(Row.of("test", "latent"));
        assertEquals(calls[0], (long) (r.number("calls") + r.number("warmup_calls")));
        assertTrue(r.has("steady") && r.has("iqr_pct") && r.has("bytes_per_call"), r.toString());
    }

    @Test
    void timingReportsTheMedianAndTheRangeOfGroups() {
        Timing t = new Timing(new double[] {4e-3, 1e-3, 2e-3, 3e-3, 5e-3}, 5, 10, 0.5, true, 0);
        Row r = t.putRate(Row.of("test", "latent"), "samples_per_s", 100, 1);
        assertEquals(100 / 3e-3, r.number("samples_per_s"), 0.1);
        assertEquals(100 / 5e-3, r.number("samples_per_s_min"), 0.1);
        assertEquals(100 / 1e-3, r.number("samples_per_s_max"), 0.1);
        assertEquals(100 * (4e-3 - 2e-3) / 3e-3, t.iqrPercent(), 1e-9);
    }

    @Test
    void peerRowsGetTheirProviderAsEngine() {
        Row r = Row.parse("{\"bench\":\"train\",\"workload\":\"w1\",\"provider\":\"pytorch\",\"samples_per_s\":12.5}");
        assertEquals("pytorch", r.text("engine"));
        assertEquals(12.5, r.number("samples_per_s"));
        assertTrue(r.correct());
        assertFalse(Row.of("gemm", "latent").put("correct", false).correct());
    }
}
