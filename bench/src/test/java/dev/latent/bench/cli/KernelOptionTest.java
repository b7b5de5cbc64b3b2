package dev.latent.bench.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.io.BadInputException;
import dev.latent.kernel.KernelRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code --kernels} of every bench command: {@code auto} means the provider auto selects (it once
 * failed as "unknown provider 'auto'", blaming -Dlatent.kernels), names are checked before anything is
 * measured, and a bad one is one line naming the option, exit code 2.
 */
class KernelOptionTest {

    @Test
    void autoResolvesToTheProviderAutoSelectsAndEachNameAppearsOnce() {
        String chosen = KernelRegistry.select("auto").name();
        assertEquals(List.of(chosen), KernelOption.resolve(List.of("auto"), List.of()));
        List<String> expected = chosen.equals("scalar") ? List.of("scalar") : List.of(chosen, "scalar");
        assertEquals(expected, KernelOption.resolve(List.of("AUTO", chosen, "scalar", "auto"), List.of()));
        assertEquals(List.of("scalar"), KernelOption.resolve(null, List.of("scalar")), "no option: the defaults");
    }

    @Test
    void anUnknownNameIsABadInputNamingTheOption() {
        BadInputException e = assertThrows(BadInputException.class, () -> KernelOption.resolve(List.of("scalar", "cuda"), List.of()));
        assertTrue(e.getMessage().startsWith("--kernels: unknown provider 'cuda'"), e.getMessage());
        assertTrue(e.getMessage().contains("scalar"), "lists the providers there are: " + e.getMessage());
        assertFalse(e.getMessage().contains("-Dlatent.kernels"), e.getMessage());
    }

    @Test
    void theCommandExitsWithTwoAndOneLineBeforeMeasuringAnything() {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = BenchCommand.run("gemm", "--kernels", "nope", "--shapes", "16x16x16", "--seconds", "0.05");
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, code, e);
        assertEquals(1, e.lines().filter(l -> !l.isBlank()).count(), "one line: " + e);
        assertTrue(e.contains("--kernels: unknown provider 'nope'"), e);
        assertFalse(out.toString(StandardCharsets.UTF_8).contains("16x16x16"), "nothing measured: " + out);
    }

    @Test
    void autoRunsABenchmark() {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            code = BenchCommand.run("gemm", "--json", "--kernels", "auto", "--shapes", "16x16x16", "--threads", "1", "--seconds", "0.05");
        } finally {
            System.setOut(old);
        }
        String o = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, o);
        assertTrue(o.lines().anyMatch(l -> l.startsWith("{") && l.contains("\"" + KernelRegistry.select("auto").name() + "\"")), o);
    }
}
