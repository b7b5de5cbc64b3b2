package dev.latent.bench.harness;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The competing load of {@code --contended}: one CPU-bound process per core ({@code yes} writing to
 * /dev/null, the load a shared host's neighbours put on it), started before the measurements it is meant
 * to disturb and stopped after them, also when the JVM exits without closing it.
 */
public final class Contention implements AutoCloseable {

    private final List<Process> processes = new ArrayList<>();
    private final Thread hook = new Thread(this::stop, "latent-bench-contention-stop");

    private Contention() {
    }

    /** Starts {@code count} busy processes. */
    public static Contention start(int count) throws IOException {
        Contention c = new Contention();
        Runtime.getRuntime().addShutdownHook(c.hook);
        try {
            for (int i = 0; i < count; i++) {
                c.processes.add(new ProcessBuilder("yes").redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectError(ProcessBuilder.Redirect.DISCARD).start());
            }
        } catch (IOException e) {
            c.close();
            throw new IOException("--contended needs the 'yes' program on the PATH to load the cores: " + e.getMessage(), e);
        }
        return c;
    }

    public int processes() {
        return processes.size();
    }

    private void stop() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs (or ran) anyway
        }
    }
}
