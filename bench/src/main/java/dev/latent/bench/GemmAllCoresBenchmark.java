package dev.latent.bench;

import org.openjdk.jmh.annotations.Fork;

/**
 * {@link GemmBenchmark} with one kernel thread per available processor (the engine's default), i.e.
 * what training gets. Setup fails if the fork runs with fewer, so a stray {@code LATENT_THREADS} or
 * {@code -Dlatent.threads} inherited from the launching JVM cannot mislabel the result.
 */
// Two forks: JIT and memory layout vary per JVM, and a second fork shows that variance on a noisy host.
// The flags are what every latent JVM needs (Vector API, FFM downcalls); no -Dlatent.threads, so the
// engine default (all processors) applies. A -jvmArgsAppend on the JMH command line replaces this list.
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GemmAllCoresBenchmark extends GemmBenchmark {

    @Override
    int expectedThreads() {
        return Runtime.getRuntime().availableProcessors();
    }

    @Override
    String threadsHint() {
        return "this class measures all " + expectedThreads() + " processors, so start it without -Dlatent.threads"
                + " and LATENT_THREADS (JMH forks inherit the launching JVM's -D flags)";
    }
}
