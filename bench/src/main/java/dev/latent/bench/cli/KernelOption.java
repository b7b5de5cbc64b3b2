package dev.latent.bench.cli;

import dev.latent.io.BadInputException;
import dev.latent.kernel.KernelProvider;
import dev.latent.kernel.KernelRegistry;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code --kernels} option every bench command shares: provider names, or {@code auto} for the
 * provider this JVM would choose by itself. Checked before anything is measured, so a bad name costs
 * one clear line (exit 2), never a half-printed table.
 */
final class KernelOption {

    private KernelOption() {
    }

    /**
     * The provider names to measure: {@code requested} (or {@code defaults} when it is null or empty)
     * with {@code auto} resolved to the provider auto selects here, each name once, in the order given.
     *
     * @throws BadInputException naming --kernels when a name is unknown or its provider cannot load here
     */
    static List<String> resolve(List<String> requested, List<String> defaults) {
        List<String> names = requested == null || requested.isEmpty() ? defaults : requested;
        Set<String> out = new LinkedHashSet<>();
        for (String raw : names) {
            String name = raw.trim().toLowerCase(Locale.ROOT);
            if (name.equals("auto")) {
                out.add(KernelRegistry.select("auto").name());
                continue;
            }
            KernelProvider p = KernelRegistry.providers().stream().filter(x -> x.name().equals(name)).findFirst()
                    .orElseThrow(() -> new BadInputException("--kernels: unknown provider '" + raw + "'; use auto or one of "
                            + KernelRegistry.providers().stream().map(KernelProvider::name).toList()));
            Optional<String> why = p.unavailableReason();
            if (why.isPresent()) {
                throw new BadInputException("--kernels: provider '" + name + "' cannot load here: " + why.get());
            }
            out.add(name);
        }
        return List.copyOf(out);
    }
}
