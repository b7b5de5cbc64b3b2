package dev.latent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.KernelThreads;
import dev.latent.kernel.Kernels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code latent info --json} is one JSON object that says what the text says: the provider in use (one
 * of those listed as available), every registered provider once with its reason or details, and this
 * JVM's cores and kernel threads.
 */
class InfoCommandTest {

    @Test
    void jsonNamesTheChosenProviderAndEveryRegisteredOne() throws Exception {
        StringWriter sw = new StringWriter();
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(new PrintWriter(sw));
        assertEquals(0, cmd.execute("info", "--json"));
        String text = sw.toString().trim();
        assertEquals(1, text.lines().count(), "one line: " + text);
        JsonNode j = new ObjectMapper().readTree(text);
        assertEquals(Kernels.current().name(), j.get("kernels").asText());
        assertEquals(KernelThreads.count(), j.get("threads").asInt());
        assertEquals(Runtime.getRuntime().availableProcessors(), j.get("cores").asInt());
        Set<String> names = new HashSet<>();
        boolean chosenAvailable = false;
        for (JsonNode p : j.get("providers")) {
            assertTrue(names.add(p.get("name").asText()), "listed twice: " + p);
            if (p.get("available").asBoolean()) {
                assertTrue(p.get("details").isObject(), p.toString());
                chosenAvailable |= p.get("name").asText().equals(j.get("kernels").asText());
            } else {
                assertTrue(!p.get("reason").asText().isBlank(), p.toString());
            }
        }
        assertTrue(chosenAvailable, "the chosen provider is listed as available: " + text);
        assertEquals(new HashSet<>(KernelRegistry.providers().stream().map(p -> p.name()).toList()), names);
    }
}
