package dev.latent.cli;

import dev.latent.io.BadInputException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the shared natural photographs: shared/data/natural-images in latent.home, the working directory or a parent. */
final class NaturalImages {

    private NaturalImages() {
    }

    static Path find() {
        String home = System.getProperty("latent.home");
        for (Path start : home == null ? new Path[] {Path.of("").toAbsolutePath()}
                : new Path[] {Path.of(home).toAbsolutePath(), Path.of("").toAbsolutePath()}) {
            for (Path p = start; p != null; p = p.getParent()) {
                Path c = p.resolve("shared").resolve("data").resolve("natural-images");
                if (Files.isDirectory(c)) {
                    return c;
                }
            }
        }
        throw new BadInputException("no shared/data/natural-images directory in the working directory or above it; put the photos there (kmeans also takes --set images_dir=DIR)");
    }
}
