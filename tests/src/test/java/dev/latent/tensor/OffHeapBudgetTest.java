package dev.latent.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 15: the off-heap budget is what is actually available unless it is set: in a fresh JVM with no
 * setting it is at most the machine's memory less the heap's limit and, on Linux, at most the
 * MemAvailable of the moment it was resolved (read just before and after, so the check allows for
 * other processes only what they changed in between plus 256 MiB); -Dlatent.offheap.mib and
 * -XX:MaxDirectMemorySize set it exactly; a request over it is refused with a message that states the
 * limit and where it came from.
 */
class OffHeapBudgetTest {

    /** Prints the budget in bytes, then the message of a request just over it. */
    public static final class Child {
        public static void main(String[] args) {
            long limit = Workspace.offHeapLimit();
            System.out.println(limit);
            try (Workspace ws = new Workspace("budget")) {
                ws.allocateFloats(limit / Float.BYTES + 1);
                System.out.println("allocated");
            } catch (OutOfMemoryError e) {
                System.out.println(e.getMessage());
            }
        }
    }

    static List<String> child(String... jvmOptions) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(List.of(jvmOptions));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Child.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out.lines().toList();
    }

    static long memAvailable() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemAvailable:")) {
                return Long.parseLong(line.replaceAll("\\D+", "")) << 10;
            }
        }
        return -1;
    }

    @Test
    void theDefaultIsWhatIsAvailableAndTheSettingsAreExact() throws Exception {
        boolean linux = Files.isReadable(Path.of("/proc/meminfo"));
        long before = linux ? memAvailable() : -1;
        List<String> d = child("-Xmx256m");
        long after = linux ? memAvailable() : -1;
        long limit = Long.parseLong(d.get(0));
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        assertTrue(limit <= os.getTotalMemorySize() - (256L << 20), "limit " + limit + " over the machine's memory less the heap");
        if (linux) {
            assertTrue(limit <= Math.max(before, after) + (256L << 20), "limit " + limit + " over MemAvailable " + before + ".." + after);
            assertTrue(d.get(1).contains("MemAvailable"), d.get(1));
        }
        assertTrue(d.get(1).contains("'budget' needs") && d.get(1).contains("limit of"), d.get(1));

        List<String> p = child("-D" + Workspace.LIMIT_PROPERTY + "=64");
        assertEquals(64L << 20, Long.parseLong(p.get(0)));
        assertTrue(p.get(1).contains("limit of 64 MiB (-D" + Workspace.LIMIT_PROPERTY + ")"), p.get(1));
        List<String> m = child("-XX:MaxDirectMemorySize=32m");
        assertEquals(32L << 20, Long.parseLong(m.get(0)));
        assertTrue(m.get(1).contains("limit of 32 MiB (-XX:MaxDirectMemorySize)"), m.get(1));
    }
}
