package dev.latent.bench.harness;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds files of the source tree the benchmarks need: the peer scripts (bench/peers) and the shared
 * natural images. Roots: {@code -Dlatent.home} (set by ./latent), then the working directory.
 */
public final class Home {

    private Home() {
    }

    private static List<Path> roots() {
        List<Path> roots = new ArrayList<>();
        String home = System.getProperty("latent.home");
        if (home != null) {
            roots.add(Path.of(home).toAbsolutePath());
        }
        roots.add(Path.of("").toAbsolutePath());
        return roots;
    }

    /** bench/peers/NAME under a root, if this is a source tree that has it. */
    public static Optional<Path> peerScript(String name) {
        return roots().stream().map(r -> r.resolve("bench").resolve("peers").resolve(name)).filter(Files::isRegularFile).findFirst();
    }

    /** shared/data/natural-images in a root or one of its parents. */
    public static Optional<Path> naturalImages() {
        for (Path start : roots()) {
            for (Path p = start; p != null; p = p.getParent()) {
                Path c = p.resolve("shared").resolve("data").resolve("natural-images");
                if (Files.isDirectory(c)) {
                    return Optional.of(c);
                }
            }
        }
        return Optional.empty();
    }
}
