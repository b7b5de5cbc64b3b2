package dev.latent.bench.harness;

import dev.latent.kernel.KernelThreads;
import java.util.concurrent.CyclicBarrier;
import java.util.function.ToDoubleFunction;
import java.util.function.UnaryOperator;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * This machine's FMA ceiling in float32 GFLOP/s, measured here by the same Vector API a kernel uses: a
 * loop of independent fused multiply-adds on the widest float vector, run by {@link KernelThreads#count()}
 * threads at once (the kernels' own thread count), best of several short rounds. No kernel can beat it,
 * so {@code work / ceiling} is the fraction of the machine a row uses ({@code ceiling_fraction} in
 * every timed row that knows its FLOPs). Measured once per JVM, in about half a second. On a shared
 * machine it is measured under the same load as the rows, so the fraction stays comparable.
 */
public final class Ceiling {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Independent accumulators: enough to cover the FMA latency on two pipes (4 cycles x 2) with room. */
    private static final int CHAINS = 12;
    private static final int ITERATIONS = 200_000;
    private static volatile double cached = Double.NaN;

    private Ceiling() {
    }

    /** GFLOP/s of all kernel threads together (measured on first use). */
    public static double gflops() {
        double c = cached;
        if (Double.isNaN(c)) {
            synchronized (Ceiling.class) {
                if (Double.isNaN(cached)) {
                    cached = measure(KernelThreads.count());
                }
                c = cached;
            }
        }
        return c;
    }

    /**
     * A row decorator ({@link Report#decorate}): a correct row without a {@code ceiling_fraction} that
     * has the rate {@code rateField} gets {@code gflops} = rate x {@code flopPerUnit} and its fraction of
     * the ceiling. {@code flopPerUnit} says how many FLOPs one unit of the rate is for that row (NaN: not
     * known, no fields), so latent's rows and its peers' get the same arithmetic.
     */
    public static UnaryOperator<Row> fromRate(String rateField, ToDoubleFunction<Row> flopPerUnit) {
        return r -> {
            if (r.has("ceiling_fraction") || !r.has(rateField) || !r.correct()) {
                return r;
            }
            double flop = flopPerUnit.applyAsDouble(r);
            return Double.isNaN(flop) ? r : putFraction(r.put("gflops", r.number(rateField) * flop / 1e9, 2),
                    r.number(rateField) * flop / 1e9);
        };
    }

    /** Puts the ceiling and the fraction of it for a row that has achieved {@code achievedGflops}. */
    public static Row putFraction(Row row, double achievedGflops) {
        return row.put("ceiling_gflops", gflops(), 1).put("ceiling_fraction", achievedGflops / gflops(), 3);
    }

    /** A table cell: the row's fraction of the ceiling in percent, or "-". */
    public static String cell(Row r) {
        return r != null && r.has("ceiling_fraction") ? String.format(java.util.Locale.ROOT, "%.0f%%", 100 * r.number("ceiling_fraction")) : "-";
    }

    static double measure(int threads) {
        double best = 0;
        for (int round = 0; round < 7; round++) { // the first rounds compile the loop; the best round is the ceiling
            best = Math.max(best, round(threads));
        }
        return best;
    }

    private static double round(int threads) {
        CyclicBarrier start = new CyclicBarrier(threads);
        double[] sink = new double[threads];
        long[] nanos = new long[threads];
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts[t] = new Thread(() -> {
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                long t0 = System.nanoTime();
                sink[id] = loop(ITERATIONS, 1f + id * 1e-7f);
                nanos[id] = System.nanoTime() - t0;
            });
            ts[t].start();
        }
        long slowest = 0;
        for (int t = 0; t < threads; t++) {
            try {
                ts[t].join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            slowest = Math.max(slowest, nanos[t]);
        }
        if (Double.isNaN(sink[0] + 0.0)) {
            throw new AssertionError("unreachable: keeps the loop's result live");
        }
        double flop = 2.0 * F.length() * CHAINS * ITERATIONS * threads;
        return flop / slowest;
    }

    /** CHAINS independent fma chains of ITERATIONS steps each; the values stay finite (a * 1 + tiny). */
    static double loop(int iterations, float seed) {
        FloatVector m = FloatVector.broadcast(F, 0.999999f);
        FloatVector c = FloatVector.broadcast(F, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(F, seed), a1 = a0.add(1), a2 = a0.add(2), a3 = a0.add(3);
        FloatVector a4 = a0.add(4), a5 = a0.add(5), a6 = a0.add(6), a7 = a0.add(7);
        FloatVector a8 = a0.add(8), a9 = a0.add(9), a10 = a0.add(10), a11 = a0.add(11);
        for (int i = 0; i < iterations; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}
