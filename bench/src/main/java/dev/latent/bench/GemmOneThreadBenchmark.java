package dev.latent.bench;

import org.openjdk.jmh.annotations.Fork;

/** {@link GemmBenchmark} with one kernel thread: per-core efficiency of each provider. */
// Two forks: JIT and memory layout vary per JVM, and a second fork shows that variance on a noisy host.
// The flags are what every latent JVM needs (Vector API, FFM downcalls) plus the thread count under test;
// a -jvmArgsAppend on the JMH command line replaces this list, so repeat them there.
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Dlatent.threads=1"})
public class GemmOneThreadBenchmark extends GemmBenchmark {

    @Override
    int expectedThreads() {
        return 1;
    }

    @Override
    String threadsHint() {
        return "its @Fork appends -Dlatent.threads=1; a -jvmArgsAppend on the command line replaces that,"
                + " so include -Dlatent.threads=1 in it";
    }
}
