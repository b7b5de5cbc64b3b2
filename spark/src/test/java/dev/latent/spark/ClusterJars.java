package dev.latent.spark;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * What executors in JVMs of their own need, made from the test's class path: a SPARK_HOME whose
 * {@code jars/} links every third-party jar (Spark and its dependencies, as a Spark distribution holds
 * them), and latent's own code as jars for {@code spark.jars}, the way a user ships it. In the reactor
 * latent's modules are class directories; they are zipped here.
 */
final class ClusterJars {

    private ClusterJars() {
    }

    /** Whether a class path entry is latent's own code. */
    private static boolean isLatent(Path p) {
        return Files.isDirectory(p) || p.getFileName().toString().startsWith("latent-");
    }

    /** Fills {@code sparkHome}/jars with links to the class path's jars that are not latent's. */
    static void sparkHome(Path sparkHome) throws IOException {
        Path jars = sparkHome.resolve("jars");
        Files.createDirectories(jars);
        for (Path p : classPath()) {
            if (isLatent(p) || !p.toString().endsWith(".jar")) {
                continue;
            }
            Path link = jars.resolve(p.getFileName());
            if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(link, p.toAbsolutePath());
            }
        }
    }

    /** latent's code on the class path as jar files (class directories zipped into {@code dir}). */
    static List<String> latentJars(Path dir) throws IOException {
        Files.createDirectories(dir);
        List<String> out = new ArrayList<>();
        int i = 0;
        for (Path p : classPath()) {
            if (!isLatent(p)) {
                continue;
            }
            if (Files.isDirectory(p)) {
                if (p.toString().endsWith("test-classes")) {
                    continue;
                }
                Path jar = dir.resolve("latent-" + (i++) + "-" + p.getParent().getParent().getFileName() + ".jar");
                zip(p, jar);
                out.add(jar.toString());
            } else if (p.toString().endsWith(".jar")) {
                out.add(p.toString());
            }
        }
        return out;
    }

    private static List<Path> classPath() {
        List<Path> out = new ArrayList<>();
        for (String s : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (!s.isBlank()) {
                out.add(Path.of(s));
            }
        }
        return out;
    }

    private static void zip(Path root, Path jar) throws IOException {
        try (OutputStream os = Files.newOutputStream(jar); JarOutputStream jos = new JarOutputStream(os);
             Stream<Path> files = Files.walk(root)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                jos.putNextEntry(new JarEntry(root.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, jos);
                jos.closeEntry();
            }
        }
    }
}
