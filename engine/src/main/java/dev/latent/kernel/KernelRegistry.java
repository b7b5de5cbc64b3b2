package dev.latent.kernel;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the kernel providers ({@link ServiceLoader}) and chooses one, once per JVM, from
 * {@code -Dlatent.kernels=auto|NAME} or the {@code LATENT_KERNELS} environment variable.
 * {@code auto} takes the highest-ranked available provider ({@link KernelProvider#autoRank}) and logs one
 * line for each provider it skips and why; a provider requested by name that cannot load is an error, never a silent fallback.
 */
public final class KernelRegistry {

    /** The system property that selects the kernels. */
    public static final String PROPERTY = "latent.kernels";
    /** The environment variable read when the property is unset. */
    public static final String ENV = "LATENT_KERNELS";

    private static final Logger LOG = LoggerFactory.getLogger(KernelRegistry.class);
    private static final ConcurrentMap<String, Kernels> BUILT = new ConcurrentHashMap<>();

    private KernelRegistry() {
    }

    /** Every registered provider, highest priority first (available or not). */
    public static List<KernelProvider> providers() {
        List<KernelProvider> all = new ArrayList<>();
        for (KernelProvider p : ServiceLoader.load(KernelProvider.class, KernelRegistry.class.getClassLoader())) {
            all.add(p);
        }
        all.sort(Comparator.comparingInt(KernelProvider::priority).reversed().thenComparing(KernelProvider::name));
        return all;
    }

    /** Names of the providers that can run here, highest priority first. */
    public static List<String> availableNames() {
        return providers().stream().filter(p -> p.unavailableReason().isEmpty()).map(KernelProvider::name).toList();
    }

    /** What was requested: the property, else the environment variable, else "auto". */
    public static String requested() {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            value = System.getenv(ENV);
        }
        return value == null || value.isBlank() ? "auto" : value.trim().toLowerCase(Locale.ROOT);
    }

    /**
     * The kernels chosen for this JVM, resolved on first use.
     *
     * @throws KernelConfigException (on every call) when a kernel setting is invalid
     * @throws IllegalStateException (on every call) when the requested provider cannot load
     */
    public static Kernels current() {
        if (Holder.CURRENT instanceof Kernels k) {
            return k;
        }
        // A new exception each time, with the first one's message: never ExceptionInInitializerError.
        RuntimeException why = (RuntimeException) Holder.CURRENT;
        if (why instanceof KernelConfigException) {
            throw new KernelConfigException(why.getMessage());
        }
        throw new IllegalStateException(why.getMessage(), why);
    }

    private static final class Holder {
        /** The chosen Kernels, or the RuntimeException that selecting them threw. */
        static final Object CURRENT = selectOrFailure();

        private static Object selectOrFailure() {
            try {
                return select(requested());
            } catch (KernelConfigException e) {
                return e;
            } catch (RuntimeException e) {
                // Name where the request came from: the property or the environment, never an API call.
                return new IllegalStateException(e.getMessage() + " (requested by -D" + PROPERTY + " or " + ENV + ")", e);
            }
        }
    }

    /** Checks the settings every provider shares, so an invalid one is reported as itself, never as a fallback. */
    private static void checkSettings() {
        KernelThreads.count();
    }

    /**
     * A warning that costs the user speed: to SLF4J, and also to stderr when SLF4J has no binding (a
     * library consumer without one would otherwise never see it; SLF4J then discards everything).
     */
    static void warn(String message) {
        LOG.warn(message);
        if (LoggerFactory.getILoggerFactory() instanceof org.slf4j.helpers.NOPLoggerFactory) {
            System.err.println("latent: " + message);
        }
    }

    /**
     * Resolves a request: "auto" or a provider name.
     *
     * @throws IllegalStateException if a named provider is unknown or cannot load here
     */
    public static Kernels select(String request) {
        String wanted = request.trim().toLowerCase(Locale.ROOT);
        checkSettings();
        if (!wanted.equals("auto")) {
            return load(wanted);
        }
        List<String> skipped = new ArrayList<>();
        List<KernelProvider> ranked = new ArrayList<>(providers());
        ranked.sort(Comparator.comparingInt(KernelProvider::autoRank).reversed().thenComparing(KernelProvider::name));
        for (KernelProvider p : ranked) {
            Optional<String> why = p.unavailableReason();
            if (why.isPresent()) {
                skipped.add("'" + p.name() + "' (" + why.get() + ")");
                continue;
            }
            try {
                Kernels k = build(p);
                List<String> below = unavailableAbove(fallbackOf(p), p);
                if (!below.isEmpty()) {
                    // e.g. openblas without the Vector API flag: its GEMM is fast, every other kernel scalar
                    warn("kernels: using provider '" + k.name() + "'" + summary(k) + ", but its other kernels run on the slower '"
                            + k.details().getOrDefault("other kernels", "scalar") + "' because " + String.join(", ", below)
                            + " could not run; fix that, or set -D" + PROPERTY + "=" + k.name() + " (or " + ENV + "=" + k.name()
                            + ") to choose it deliberately");
                } else if (skipped.isEmpty()) {
                    LOG.info("kernels: using provider '{}'{}; latent info shows the details", k.name(), summary(k));
                } else {
                    // A faster provider could not run: that costs speed, so say why and how to fix it.
                    warn("kernels: using the slower provider '" + k.name() + "'" + summary(k) + " because the faster "
                            + String.join(", ", skipped) + " could not run; fix that, or set -D" + PROPERTY + "=" + k.name()
                            + " (or " + ENV + "=" + k.name() + ") to choose it deliberately");
                }
                return k;
            } catch (KernelConfigException e) {
                throw e;
            } catch (RuntimeException | LinkageError e) {
                skipped.add("'" + p.name() + "' (failed to start: " + e + "; -D" + PROPERTY + "=" + p.name() + " shows the error)");
            }
        }
        throw new IllegalStateException("no kernel provider is available; the 'scalar' provider ships in latent-engine,"
                + " so check that latent-engine's META-INF/services is on the class path");
    }

    /**
     * The kernels of the provider named {@code name}, built once per JVM.
     *
     * @throws KernelConfigException when a shared setting (threads) is invalid
     * @throws IllegalStateException when {@code name} is unknown, or naming the provider and the reason when it cannot load
     */
    public static Kernels load(String name) {
        checkSettings();
        KernelProvider p = providers().stream().filter(x -> x.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException("unknown kernel provider '" + name
                        + "'; use auto or one of "
                        + providers().stream().map(KernelProvider::name).toList()));
        Optional<String> why = p.unavailableReason();
        if (why.isPresent()) {
            throw new IllegalStateException("kernel provider '" + name + "' was requested but cannot load: " + why.get());
        }
        return build(p);
    }

    /**
     * A short summary of a provider's details for the one selection log line, always in one order: the
     * BLAS core, the vector size (any key ending in "bits", sorted), the threads; e.g.
     * {@code " (blas core=Haswell, simd vector.bits=256, threads=2)"}, or "" when it has none of them.
     */
    static String summary(Kernels k) {
        Map<String, String> d = k.details();
        List<String> parts = new ArrayList<>();
        if (d.containsKey("blas core")) {
            parts.add("blas core=" + d.get("blas core"));
        }
        d.keySet().stream().filter(key -> key.endsWith("bits")).sorted().forEach(key -> parts.add(key + "=" + d.get(key)));
        if (d.containsKey("threads")) {
            parts.add("threads=" + d.get("threads"));
        }
        return parts.isEmpty() ? "" : " (" + String.join(", ", parts) + ")";
    }

    /** The provider {@link #build} gives {@code p} as its fallback: the next lower-priority available one, or null. */
    private static KernelProvider fallbackOf(KernelProvider p) {
        return providers().stream().filter(q -> q.priority() < p.priority() && q.unavailableReason().isEmpty()).findFirst().orElse(null);
    }

    /**
     * The unavailable providers between {@code fallback} (exclusive; null: the bottom) and {@code chosen}
     * (exclusive), with their reasons: kernels the chosen provider would have delegated to, had they run.
     */
    private static List<String> unavailableAbove(KernelProvider fallback, KernelProvider chosen) {
        int floor = fallback == null ? Integer.MIN_VALUE : fallback.priority();
        List<String> out = new ArrayList<>();
        for (KernelProvider q : providers()) {
            if (q.priority() < chosen.priority() && q.priority() > floor) {
                q.unavailableReason().ifPresent(why -> out.add("'" + q.name() + "' (" + why + ")"));
            }
        }
        return out;
    }

    private static Kernels build(KernelProvider p) {
        Kernels cached = BUILT.get(p.name());
        if (cached != null) {
            return cached;
        }
        Kernels fallback = null;
        for (KernelProvider lower : providers()) {
            if (lower.priority() < p.priority() && lower.unavailableReason().isEmpty()) {
                fallback = build(lower);
                break;
            }
        }
        Kernels built = p.create(fallback);
        Kernels raced = BUILT.putIfAbsent(p.name(), built);
        return raced != null ? raced : built;
    }
}
