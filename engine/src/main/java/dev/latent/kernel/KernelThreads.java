package dev.latent.kernel;

/**
 * How many threads the kernels use: {@code -Dlatent.threads=N}, else {@code LATENT_THREADS}, else the
 * number of available processors. Every provider sizes its one pool (or OpenBLAS's threads) to it, so
 * the whole engine never runs more compute threads than cores.
 */
public final class KernelThreads {

    /** The system property that overrides the thread count. */
    public static final String PROPERTY = "latent.threads";

    /** The parsed count, or 0 when the setting is invalid ({@link #ERROR} then says why). */
    private static final int COUNT;
    /** Why the setting is invalid, or null. Kept rather than thrown from the initializer, so every use
     *  fails with the same one-line message instead of ExceptionInInitializerError, then NoClassDefFoundError. */
    private static final String ERROR;

    static {
        int n = 0;
        String error = null;
        try {
            n = resolve();
        } catch (IllegalArgumentException e) {
            error = e.getMessage();
        }
        COUNT = n;
        ERROR = error;
    }

    private KernelThreads() {
    }

    /**
     * The kernel thread count, at least 1.
     *
     * @throws KernelConfigException naming the setting when it is not a positive integer
     */
    public static int count() {
        if (ERROR != null) {
            throw new KernelConfigException(ERROR);
        }
        return COUNT;
    }

    private static int resolve() {
        String v = System.getProperty(PROPERTY);
        String source = "-D" + PROPERTY;
        if (v == null || v.isBlank()) {
            v = System.getenv("LATENT_THREADS");
            source = "LATENT_THREADS";
        }
        if (v == null || v.isBlank()) {
            return Math.max(1, Runtime.getRuntime().availableProcessors());
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n < 1) {
                throw new IllegalArgumentException(source + " must be >= 1 (kernel threads), got " + v.trim()
                        + "; unset it to use all " + Runtime.getRuntime().availableProcessors() + " cores");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(source + " must be an integer >= 1 (kernel threads), got '" + v + "'", e);
        }
    }
}
