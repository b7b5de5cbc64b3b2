package dev.latent.prop;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Seeds and the failure path of every property: which seeds run, and what happens when one fails.
 *
 * <p>Seeds: {@code -Dprop.seed=N} replays the single seed N (every fixed edge shape and the random
 * shape drawn from N run with N's data); otherwise {@code -Dprop.count} random seeds (default per
 * family) derived from {@code -Dprop.base} (default a fixed constant, so CI is reproducible;
 * {@code -Dprop.base=random} draws one and prints it). A case's seed is printed in its display name
 * and in every failure message.
 *
 * <p>Failure: {@link #check} runs a property on a shape; when it fails it tries halving the shape's
 * dimensions ({@link Shrinkable#smaller()}) with the same seed, keeps any smaller shape that still
 * fails, and reports the smallest one with its message next to the original failure.
 */
public final class Prop {

    /** Replays one seed. */
    public static final String SEED = "prop.seed";
    /** How many random seeds each family runs. */
    public static final String COUNT = "prop.count";
    /** The first seed of the random sequence, or "random". */
    public static final String BASE = "prop.base";

    private static final long DEFAULT_BASE = 0x1A7E_2025_5EEDL;
    private static final long BASE_SEED = resolveBase();
    private static final int MAX_SHRINK_TRIES = 200;

    private Prop() {
    }

    /** The replayed seed, if {@code -Dprop.seed} is set. */
    public static Long replaySeed() {
        String v = System.getProperty(SEED);
        if (v == null || v.isBlank()) {
            return null;
        }
        try {
            return Long.decode(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + SEED + " must be a long, got '" + v + "'", e);
        }
    }

    /** The number of random seeds: {@code -Dprop.count}, else {@code defaultCount}. */
    public static int count(int defaultCount) {
        String v = System.getProperty(COUNT);
        if (v == null || v.isBlank()) {
            return defaultCount;
        }
        int n = Integer.parseInt(v.trim());
        if (n < 0) {
            throw new IllegalArgumentException("-D" + COUNT + " must be >= 0, got " + n);
        }
        return n;
    }

    /**
     * The i-th seed of the stream named {@code stream} (a family name, so that families do not share
     * data): a SplittableRandom mix of the base seed, the stream and i.
     */
    public static long seed(String stream, int i) {
        return new SplittableRandom(BASE_SEED ^ ((long) stream.hashCode() << 32) ^ i).nextLong();
    }

    /** The random generator for the data of a case: independent of the one that drew its shape. */
    public static SplittableRandom data(long seed) {
        return new SplittableRandom(seed ^ 0x9E37_79B9_7F4A_7C15L);
    }

    /** The random generator that draws a case's shape. */
    public static SplittableRandom shapes(long seed) {
        return new SplittableRandom(seed);
    }

    /**
     * Runs {@code property} on {@code shape}; on failure shrinks by halving and throws one
     * {@link AssertionError} naming the case, the original failure, the smallest failing shape and how
     * to replay it.
     */
    public static <S extends Shrinkable<S>> void check(String label, long seed, S shape, Consumer<S> property) {
        Throwable first = failure(property, shape);
        if (first == null) {
            return;
        }
        S smallest = shape;
        Throwable smallestFailure = first;
        int tries = 0;
        List<S> path = new ArrayList<>();
        boolean progress = true;
        while (progress && tries < MAX_SHRINK_TRIES) {
            progress = false;
            for (S candidate : smallest.smaller()) {
                if (++tries > MAX_SHRINK_TRIES) {
                    break;
                }
                Throwable f = failure(property, candidate);
                if (f != null) {
                    smallest = candidate;
                    smallestFailure = f;
                    path.add(candidate);
                    progress = true;
                    break;
                }
            }
        }
        StringBuilder msg = new StringBuilder();
        msg.append(label).append(" seed=").append(seed).append(' ').append(shape).append(" FAILED: ")
                .append(describe(first));
        if (smallest == shape) {
            msg.append("\n  shrinking: no halved shape fails (").append(tries).append(" tries); smallest failing shape is ")
                    .append(shape);
        } else {
            msg.append("\n  shrunk by halving (").append(path.size()).append(" steps, ").append(tries)
                    .append(" tries) to smallest failing shape ").append(smallest).append(": ")
                    .append(describe(smallestFailure));
        }
        msg.append("\n  replay: -D").append(SEED).append('=').append(seed)
                .append(" (mvn -B -pl tests -am verify -D").append(SEED).append('=').append(seed)
                .append(" -Dtest=<class> -Dsurefire.failIfNoSpecifiedTests=false)");
        AssertionError error = new AssertionError(msg.toString(), first);
        if (smallestFailure != first) {
            error.addSuppressed(smallestFailure);
        }
        throw error;
    }

    private static <S> Throwable failure(Consumer<S> property, S shape) {
        try {
            property.accept(shape);
            return null;
        } catch (AssertionError | RuntimeException e) {
            return e;
        }
    }

    private static String describe(Throwable t) {
        return t instanceof AssertionError ? t.getMessage() : t.toString();
    }

    private static long resolveBase() {
        String v = System.getProperty(BASE);
        if (v == null || v.isBlank()) {
            return DEFAULT_BASE;
        }
        if (v.trim().equalsIgnoreCase("random")) {
            long b = new SplittableRandom().nextLong();
            System.out.println("prop: -D" + BASE + "=random drew base seed " + b + " (replay the run with -D" + BASE + "=" + b + ")");
            return b;
        }
        return Long.decode(v.trim());
    }
}
