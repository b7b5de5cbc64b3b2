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

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        Kernels chosen = Kernels.current();
        out.printf("latent      %s%n", Main.version());
        out.printf("jdk         %s (%s)%n", Runtime.version(), System.getProperty("java.vm.name"));
        out.printf("cores       %d available, kernel threads %d%n",
                Runtime.getRuntime().availableProcessors(), KernelThreads.count());
        out.printf("kernels     %s (requested: %s)%n", chosen.name(), KernelRegistry.requested());
        for (KernelProvider p : KernelRegistry.providers()) {
            Optional<String> why = p.unavailableReason();
            if (why.isPresent()) {
                out.printf("  %-9s priority %3d  unavailable: %s%n", p.name(), p.priority(), why.get());
                continue;
            }
            String details;
            try {
                details = format(KernelRegistry.load(p.name()).details());
            } catch (RuntimeException | LinkageError e) {
                details = "failed to start: " + e.getMessage();
            }
            out.printf("  %-9s priority %3d  %s%n", p.name(), p.priority(), details);
        }
        out.flush();
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
