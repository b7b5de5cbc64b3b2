package dev.latent.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code latent bench ...}: short benchmarks that print tables (or JSON lines) for people and scripts. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Short benchmarks; the rigorous versions are the JMH benchmarks in bench/.",
        subcommands = {GemmBenchCommand.class, TrainBenchCommand.class})
final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
