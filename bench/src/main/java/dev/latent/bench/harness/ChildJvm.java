package dev.latent.bench.harness;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs a benchmark in a child JVM, for settings fixed per JVM (kernel threads: {@code -Dlatent.threads}
 * is read once). The child is this JVM's java, flags and class path, with the given system properties
 * replacing any of the same name, running {@code mainClass args}; it must print its rows as JSON lines
 * on stdout. Its stderr is passed through, and so is any stdout line that is not a row.
 *
 * <p>One failure path: a child that exits with a non-zero code is an error (with the code and how many
 * rows it printed), whatever it printed before. A child therefore reports a failed result check in
 * its rows ({@code "correct": false}) and exits 0; the parent decides the command's exit code.
 */
public final class ChildJvm {

    private ChildJvm() {
    }

    public static void run(Map<String, String> properties, Class<?> mainClass, List<String> args, Consumer<Row> rows)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (properties.keySet().stream().noneMatch(k -> a.startsWith("-D" + k + "="))) {
                cmd.add(a);
            }
        }
        properties.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass.getName()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        int count = 0;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("{")) {
                    rows.accept(Row.parse(line));
                    count++;
                } else {
                    System.err.println(line);
                }
            }
        }
        int code = p.waitFor();
        if (code != 0) {
            throw new IllegalStateException("the child JVM " + properties + " " + String.join(" ", args) + " exited with code "
                    + code + " after " + count + " row(s)");
        }
    }
}
