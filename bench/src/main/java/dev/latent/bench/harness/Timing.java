package dev.latent.bench.harness;

import java.util.Arrays;

/**
 * What {@link Timer} measured: seconds per call of each timed group, how long the warm-up took and
 * whether it reached a steady rate, and the bytes the calling thread allocated per call.
 *
 * <p>Rows report the median group (robust to a descheduled group on a shared machine) with the
 * slowest and fastest groups ({@code X_min}, {@code X_max}) and the interquartile range as a share of
 * the median ({@code iqr_pct}): a spread of more than a few percent means the machine was busy.
 */
public final class Timing {

    private final double[] sorted;
    private final long calls;
    private final long warmupCalls;
    private final double warmupSeconds;
    private final boolean steady;
    private final long bytesPerCall;

    Timing(double[] perCall, long calls, long warmupCalls, double warmupSeconds, boolean steady, long bytesPerCall) {
        this.sorted = perCall.clone();
        Arrays.sort(sorted);
        this.calls = calls;
        this.warmupCalls = warmupCalls;
        this.warmupSeconds = warmupSeconds;
        this.steady = steady;
        this.bytesPerCall = bytesPerCall;
    }

    /** Median seconds per call over the timed groups. */
    public double median() {
        return quantile(sorted, 0.5);
    }

    public double fastest() {
        return sorted[0];
    }

    public double slowest() {
        return sorted[sorted.length - 1];
    }

    /** (q3 - q1) / median of the groups' times, in percent. */
    public double iqrPercent() {
        return 100 * (quantile(sorted, 0.75) - quantile(sorted, 0.25)) / median();
    }

    public int groups() {
        return sorted.length;
    }

    public long bytesPerCall() {
        return bytesPerCall;
    }

    public boolean steady() {
        return steady;
    }

    /**
     * Puts a rate: {@code name} = work / median seconds per call, {@code name_min} from the slowest group,
     * {@code name_max} from the fastest, rounded to {@code decimals}.
     */
    public Row putRate(Row row, String name, double workPerCall, int decimals) {
        return row.put(name, workPerCall / median(), decimals)
                .put(name + "_min", workPerCall / slowest(), decimals)
                .put(name + "_max", workPerCall / fastest(), decimals);
    }

    /** Puts a time per call in {@code unit}s per second (1e6: microseconds), with {@code name_min} and {@code name_max}. */
    public Row putTime(Row row, String name, double unit, int decimals) {
        return row.put(name, median() * unit, decimals)
                .put(name + "_min", fastest() * unit, decimals)
                .put(name + "_max", slowest() * unit, decimals);
    }

    /** Puts what every timed row carries: spread, group and call counts, warm-up, allocation. */
    public Row putStats(Row row) {
        return row.put("iqr_pct", iqrPercent(), 1)
                .put("groups", groups())
                .put("calls", calls)
                .put("warmup_calls", warmupCalls)
                .put("warmup_s", warmupSeconds, 2)
                .put("steady", steady)
                .put("bytes_per_call", bytesPerCall);
    }

    /** Linear-interpolated quantile {@code q} of sorted values. */
    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
