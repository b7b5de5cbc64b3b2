package dev.latent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Runs the peer scripts of bench/peers (PyTorch and friends, Debian's python3 packages) and reads the
 * JSON lines they print. The scripts are found under {@code -Dlatent.home} (set by ./latent) or the
 * working directory; the interpreter is /usr/bin/python3 (Debian's, where python3-torch lives).
 */
final class Peers {

    private static final ObjectMapper JSON = new ObjectMapper();
    static final Path PYTHON = Path.of("/usr/bin/python3");

    private Peers() {
    }

    /** The script bench/peers/NAME, if this is a source tree that has it. */
    static Optional<Path> script(String name) {
        List<Path> roots = new ArrayList<>();
        String home = System.getProperty("latent.home");
        if (home != null) {
            roots.add(Path.of(home));
        }
        roots.add(Path.of("").toAbsolutePath());
        for (Path r : roots) {
            Path p = r.resolve("bench").resolve("peers").resolve(name);
            if (Files.isRegularFile(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Why peers cannot run here (no interpreter or no torch), or empty when they can. */
    static Optional<String> unavailable(String module) {
        if (!Files.isExecutable(PYTHON)) {
            return Optional.of(PYTHON + " not found (apt-get install -y python3 python3-torch)");
        }
        try {
            Process p = new ProcessBuilder(PYTHON.toString(), "-c", "import " + module).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return Optional.of("python module '" + module + "' is missing (apt-get install -y python3-" + module + ")");
            }
        } catch (IOException | InterruptedException e) {
            return Optional.of("cannot start " + PYTHON + ": " + e.getMessage());
        }
        return Optional.empty();
    }

    /** Runs a peer script with extra environment, returning the JSON objects it printed. */
    static List<ObjectNode> run(Path script, List<String> args, Map<String, String> env) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(PYTHON.toString());
        cmd.add(script.toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().putAll(env);
        Process p = pb.start();
        List<ObjectNode> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("{")) {
                    out.add((ObjectNode) JSON.readTree(line));
                }
            }
        }
        int code = p.waitFor();
        if (code != 0) {
            throw new IllegalStateException(script.getFileName() + " " + args + " exited with code " + code);
        }
        return out;
    }
}
