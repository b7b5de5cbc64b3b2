package dev.latent.model;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Finds shared/data/natural-images from the working directory (tests/ in Maven) upwards: CI has ../shared beside the clone. */
public final class TestData {

    private TestData() {
    }

    public static Path naturalImages() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path c = p.resolve("shared").resolve("data").resolve("natural-images");
            if (Files.isDirectory(c)) {
                return c;
            }
        }
        Assumptions.abort("shared/data/natural-images not found above " + Path.of("").toAbsolutePath());
        return null;
    }

    /** Cosine of the angle between two vectors. */
    public static double cos(double[] a, double[] b) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    /**
     * The top {@code k} eigenvectors of a symmetric matrix by power iteration with deflation, in
     * double: an oracle independent of the Jacobi solver.
     */
    public static double[][] powerIteration(double[] c, int d, int k, long seed) {
        double[] a = c.clone();
        double[][] out = new double[k][];
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (int e = 0; e < k; e++) {
            double[] v = new double[d];
            for (int i = 0; i < d; i++) {
                v[i] = r.nextGaussian();
            }
            double lambda = 0;
            for (int it = 0; it < 5000; it++) {
                double[] w = new double[d];
                for (int i = 0; i < d; i++) {
                    double s = 0;
                    for (int j = 0; j < d; j++) {
                        s += a[i * d + j] * v[j];
                    }
                    w[i] = s;
                }
                double n = 0;
                for (double x : w) {
                    n += x * x;
                }
                n = Math.sqrt(n);
                double change = 0;
                for (int i = 0; i < d; i++) {
                    w[i] /= n;
                    change = Math.max(change, Math.abs(Math.abs(w[i]) - Math.abs(v[i])));
                }
                v = w;
                lambda = n;
                if (change < 1e-12) {
                    break;
                }
            }
            out[e] = v;
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    a[i * d + j] -= lambda * v[i] * v[j];
                }
            }
        }
        return out;
    }
}
