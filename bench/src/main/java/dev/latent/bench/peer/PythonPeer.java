package dev.latent.bench.peer;

import dev.latent.bench.harness.Home;
import dev.latent.bench.harness.Report;
import dev.latent.bench.harness.Row;
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
 * The Python peers of bench/peers (PyTorch, scikit-learn; Debian's python3 packages): each script does
 * a workload's work and prints one JSON row per line. The interpreter is /usr/bin/python3 (Debian's,
 * where python3-torch lives). A peer that cannot run here (no interpreter, module or script) is
 * skipped with one line saying why; a script that exits non-zero fails the command.
 */
public final class PythonPeer {

    static final Path PYTHON = Path.of("/usr/bin/python3");

    /**
     * PyTorch thread settings tried, reported with their label; tables compare latent with the best.
     * On 2 cores intra-op 1 with 2 OpenBLAS threads is usually best. The environment must be set before
     * torch loads its BLAS, hence one process per setting.
     */
    static final List<Map<String, String>> TORCH_CONFIGS = List.of(
            Map.of("intra", "1", "OPENBLAS_NUM_THREADS", "2", "OMP_NUM_THREADS", "2"),
            Map.of("intra", "2", "OPENBLAS_NUM_THREADS", "1", "OMP_NUM_THREADS", "2"),
            Map.of("intra", "2", "OPENBLAS_NUM_THREADS", "2", "OMP_NUM_THREADS", "2"));

    private PythonPeer() {
    }

    /** Runs bench/peers/SCRIPT once per PyTorch thread setting (with --intra-op and --config added to {@code args}). */
    public static void torch(String script, List<String> args, Report report) throws IOException, InterruptedException {
        Optional<Path> path = available(script, "torch", report);
        if (path.isEmpty()) {
            return;
        }
        for (Map<String, String> cfg : TORCH_CONFIGS) {
            String label = "intra_op=" + cfg.get("intra") + ",openblas=" + cfg.get("OPENBLAS_NUM_THREADS");
            report.progress("pytorch %s", label);
            List<String> all = new ArrayList<>(args);
            all.addAll(List.of("--intra-op", cfg.get("intra"), "--config", label));
            report.emitAll(run(path.get(), all, Map.of("OPENBLAS_NUM_THREADS", cfg.get("OPENBLAS_NUM_THREADS"),
                    "OMP_NUM_THREADS", cfg.get("OMP_NUM_THREADS"))));
        }
    }

    /** Runs bench/peers/SCRIPT once with {@code args}, if {@code module} (e.g. sklearn) can be imported. */
    public static void once(String script, String module, List<String> args, Report report) throws IOException, InterruptedException {
        Optional<Path> path = available(script, module, report);
        if (path.isPresent()) {
            report.emitAll(run(path.get(), args, Map.of()));
        }
    }

    private static Optional<Path> available(String script, String module, Report report) {
        Optional<Path> path = Home.peerScript(script);
        Optional<String> why = path.isEmpty() ? Optional.of("bench/peers/" + script + " not found (run from the source tree)")
                : unavailable(module);
        why.ifPresent(w -> report.progress("%s peer skipped: %s", module, w));
        return why.isPresent() ? Optional.empty() : path;
    }

    /** Why {@code module} cannot be imported here, or empty when it can. */
    private static Optional<String> unavailable(String module) {
        if (!Files.isExecutable(PYTHON)) {
            return Optional.of(PYTHON + " not found (apt-get install -y python3 python3-" + module + ")");
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

    private static List<Row> run(Path script, List<String> args, Map<String, String> env) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(PYTHON.toString());
        cmd.add(script.toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().putAll(env);
        Process p = pb.start();
        List<Row> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("{")) {
                    out.add(Row.parse(line));
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
