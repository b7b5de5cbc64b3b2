package dev.latent.kernel;

/**
 * How many threads the kernels use: {@code -Dlatent.threads=N}, else {@code LATENT_THREADS}, else the
 * number of available processors. Every provider sizes its one pool (or OpenBLAS's threads) to it, so
 * the whole engine never runs more compute threads than cores.
 */
public final class KernelThreads {

    /** The system property that overrides the thread count. */
    public static final String PROPERTY = "latent.threads";

    private static final int COUNT = resolve();

    private KernelThreads() {
    }

    /** The kernel thread count, at least 1. */
    public static int count() {
        return COUNT;
    }

    private static int resolve() {
        String v = System.getProperty(PROPERTY);
        if (v == null || v.isBlank()) {
            v = System.getenv("LATENT_THREADS");
        }
        if (v == null || v.isBlank()) {
            return Math.max(1, Runtime.getRuntime().availableProcessors());
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n < 1) {
                throw new IllegalArgumentException("-D" + PROPERTY + " must be >= 1, got " + v);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + PROPERTY + " must be an integer, got '" + v + "'", e);
        }
    }
}
