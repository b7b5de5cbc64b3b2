package dev.latent.kernel;

import dev.latent.prop.Prop;
import dev.latent.prop.Shrinkable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * The one source of property cases: every provider under test crossed with the fixed edge shapes of
 * a family and {@code -Dprop.count} random shapes, each with its seed.
 *
 * <p>Providers under test come from {@link KernelRegistry}, so a provider registered through
 * {@code ServiceLoader} is covered with no change here: with {@code -Dlatent.kernels=auto} (or unset)
 * every available provider, scalar included (scalar against itself checks the harness and the
 * reference's own contract: NaN-safe beta = 0, determinism, argument checks); with
 * {@code -Dlatent.kernels=NAME} only NAME. A NAME that is not registered fails, unless it is listed in
 * {@code -Dlatent.kernels.pending} (providers being written on other branches), in which case the
 * cases are skipped with a message.
 */
public final class KernelCases {

    /** Comma-separated provider names whose surefire executions may skip until they are registered. */
    public static final String PENDING = "latent.kernels.pending";

    private KernelCases() {
    }

    /** The provider names the properties run against in this JVM. */
    public static List<String> providersUnderTest() {
        String requested = KernelRegistry.requested();
        if (requested.equals("auto")) {
            return KernelRegistry.availableNames();
        }
        boolean registered = KernelRegistry.providers().stream().anyMatch(p -> p.name().equals(requested));
        if (!registered && pending().contains(requested)) {
            Assumptions.abort("kernel provider '" + requested + "' is not registered yet (listed in -D" + PENDING
                    + "); registered: " + registeredNames());
        }
        return List.of(requested);
    }

    /** Names listed in {@code -Dlatent.kernels.pending}. */
    public static List<String> pending() {
        String v = System.getProperty(PENDING, "");
        return Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    /** Every registered provider name, available or not. */
    public static List<String> registeredNames() {
        return KernelRegistry.providers().stream().map(KernelProvider::name).toList();
    }

    /** One argument per provider under test (for per-provider checks such as argument validation). */
    public static Stream<String> providers() {
        return providersUnderTest().stream();
    }

    /**
     * For each provider: every edge shape and {@code prop.count} (default {@code defaultCount}) random
     * shapes, or, with {@code -Dprop.seed=N}, every edge shape and the random shape of seed N, all with N.
     */
    public static <S extends Shrinkable<S>> Stream<KernelCase<S>> cases(String family, List<S> edges,
            Function<SplittableRandom, S> random, int defaultCount) {
        List<String> names = providersUnderTest();
        Long replay = Prop.replaySeed();
        List<KernelCase<S>> out = new ArrayList<>();
        for (String provider : names) {
            for (int i = 0; i < edges.size(); i++) {
                long seed = replay != null ? replay : Prop.seed(family + "/edge", i);
                out.add(new KernelCase<>(provider, seed, edges.get(i)));
            }
            int count = replay != null ? 1 : Prop.count(defaultCount);
            for (int i = 0; i < count; i++) {
                long seed = replay != null ? replay : Prop.seed(family, i);
                out.add(new KernelCase<>(provider, seed, random.apply(Prop.shapes(seed))));
            }
        }
        return out.stream();
    }

    public static Stream<KernelCase<GemmShape>> gemm() {
        return cases("gemm", GemmShape.edges(), GemmShape::random, 60);
    }

    public static Stream<KernelCase<RunShape>> elementwise() {
        return cases("elementwise", RunShape.edges(), RunShape::random, 80);
    }

    public static Stream<KernelCase<ReductionShape>> reductions() {
        return cases("reductions", ReductionShape.edges(), ReductionShape::random, 50);
    }

    public static Stream<KernelCase<ActivationShape>> activations() {
        return cases("activations", ActivationShape.edges(), ActivationShape::random, 60);
    }

    public static Stream<KernelCase<SoftmaxShape>> softmax() {
        return cases("softmax", SoftmaxShape.edges(), SoftmaxShape::random, 50);
    }

    /**
     * {@link PackedDense} cases: its one implementation is the Vector API's, so the cases run once per
     * JVM under the name "simd" (each surefire execution's vector size), whatever the provider under test.
     */
    public static Stream<KernelCase<DenseShape>> dense() {
        List<DenseShape> edges = DenseShape.edges();
        Long replay = Prop.replaySeed();
        List<KernelCase<DenseShape>> out = new ArrayList<>();
        for (int i = 0; i < edges.size(); i++) {
            out.add(new KernelCase<>("simd", replay != null ? replay : Prop.seed("dense/edge", i), edges.get(i)));
        }
        int count = replay != null ? 1 : Prop.count(40);
        for (int i = 0; i < count; i++) {
            long seed = replay != null ? replay : Prop.seed("dense", i);
            out.add(new KernelCase<>("simd", seed, DenseShape.random(Prop.shapes(seed))));
        }
        return out.stream();
    }

    public static Stream<KernelCase<ConvShape>> im2col() {
        return cases("im2col", ConvShape.edges(), ConvShape::random, 40);
    }
}
