package dev.latent.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A JVM started without {@code --add-modules jdk.incubator.vector} cannot run the simd provider; when
 * OpenBLAS loads, {@code auto} still picks openblas, whose other kernels then fall to scalar. That costs
 * speed, so the choice is reported once on stderr, naming the flag to add: checked in a child JVM on this
 * test's class path (OpenBLAS included), running {@code latent info}.
 */
class VectorApiWarningTest {

    @Test
    void missingVectorFlagIsReportedOnceWithTheFlag() throws Exception {
        List<String> cmd = List.of(ProcessHandle.current().info().command().orElse("java"), "--enable-native-access=ALL-UNNAMED",
                "-Dlatent.kernels=auto", "-cp", System.getProperty("java.class.path"), "dev.latent.cli.Main", "info");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().remove(KernelRegistry.ENV);
        Process p = pb.start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), err);
        List<String> lines = err.lines().filter(l -> l.contains("kernels:")).toList();
        assertEquals(1, lines.size(), "one kernels line on stderr:\n" + err);
        String line = lines.get(0);
        assertTrue(line.contains("'simd' (module jdk.incubator.vector not readable: add --add-modules jdk.incubator.vector)"), line);
        assertTrue(line.contains("-Dlatent.kernels="), "says how to choose it deliberately: " + line);
        if (KernelRegistry.availableNames().contains("openblas")) {
            assertTrue(line.contains("using provider 'openblas'") && line.contains("other kernels run on the slower 'scalar'"), line);
        }
    }
}
