package dev.latent.cli;

import dev.latent.kernel.KernelProvider;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.KernelThreads;
import dev.latent.kernel.Kernels;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code latent info}: the JDK, the kernel provider in use and what every registered provider reports. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print the JDK, the kernel provider chosen, vector size, FMA, OpenBLAS core and threads.")
final class InfoCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--json", description = "One JSON object instead of the text: latent, jdk, cores,"
            + " threads, kernels (chosen, requested) and providers (name, priority, available, reason or details).")
    boolean json;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        Kernels chosen = Kernels.current();
        if (json) {
            out.println(json(chosen));
            out.flush();
            return;
        }
        out.printf("latent      %s%n", Main.version());
        out.printf("jdk         %s (%s)%n", Runtime.version(), System.getProperty("java.vm.name"));
        out.printf("cores       %d available, kernel threads %d%n",
                Runtime.getRuntime().availableProcessors(), KernelThreads.count());
        out.printf("kernels     %s (requested: %s)%n", chosen.name(), KernelRegistry.requested());
        for (KernelProvider p : KernelRegistry.providers()) {
            Optional<String> why = p.unavailableReason();
            if (why.isPresent()) {
                out.printf("  %-9s priority %3d  auto rank %3d  unavailable: %s%n", p.name(), p.priority(), p.autoRank(), why.get());
                continue;
            }
            String details;
            try {
                details = format(KernelRegistry.load(p.name()).details());
            } catch (RuntimeException | LinkageError e) {
                details = "failed to start: " + e.getMessage();
            }
            out.printf("  %-9s priority %3d  auto rank %3d  %s%n", p.name(), p.priority(), p.autoRank(), details);
        }
        out.printf("shapes      %s serves every kernel family at every shape%s; auto takes the highest-ranked"
                + " available provider, a provider missing a family takes it from the next lower priority%n", chosen.name(),
                chosen.details().containsKey("other kernels") ? " (its GEMM; the other families: "
                        + chosen.details().get("other kernels") + ")" : "");
        out.flush();
    }

    /** What the text says, as one JSON object (for scripts and bench rows). */
    static String json(Kernels chosen) {
        com.fasterxml.jackson.databind.ObjectMapper m = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode root = m.createObjectNode();
        root.put("latent", Main.version());
        root.put("jdk", Runtime.version().toString());
        root.put("vm", System.getProperty("java.vm.name"));
        root.put("cores", Runtime.getRuntime().availableProcessors());
        root.put("threads", KernelThreads.count());
        root.put("kernels", chosen.name());
        root.put("requested", KernelRegistry.requested());
        com.fasterxml.jackson.databind.node.ArrayNode providers = root.putArray("providers");
        for (KernelProvider p : KernelRegistry.providers()) {
            com.fasterxml.jackson.databind.node.ObjectNode n = providers.addObject();
            n.put("name", p.name());
            n.put("priority", p.priority());
            n.put("auto_rank", p.autoRank());
            Optional<String> why = p.unavailableReason();
            if (why.isPresent()) {
                n.put("available", false);
                n.put("reason", why.get());
                continue;
            }
            try {
                com.fasterxml.jackson.databind.node.ObjectNode d = n.put("available", true).putObject("details");
                KernelRegistry.load(p.name()).details().entrySet().stream().sorted(Map.Entry.comparingByKey())
                        .forEach(e -> d.put(e.getKey(), e.getValue()));
            } catch (RuntimeException | LinkageError e) {
                n.put("available", false);
                n.put("reason", "failed to start: " + e.getMessage());
            }
        }
        return root.toString();
    }

    private static String format(Map<String, String> details) {
        StringBuilder sb = new StringBuilder();
        details.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(e.getKey()).append('=').append(e.getValue());
        });
        return sb.toString();
    }
}
