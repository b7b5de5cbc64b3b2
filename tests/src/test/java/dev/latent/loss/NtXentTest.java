package dev.latent.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.prop.Prop;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * {@link NtXent} against a double-precision twin written from the definition (log-softmax over each
 * row's other 2B-1 similarities, mean over the 2B anchors), and its gradient against central finite
 * differences of the twin (eps 1e-5 in double). Tolerances: the loss to 1e-5 relative (the float
 * kernel reads float inputs but sums in double, so the only gap is the float input itself, which the
 * twin shares); the gradient to 1e-4 absolute + 1e-3 relative (float output of a double gradient vs a
 * finite difference whose truncation error is about eps^2 times the third derivative).
 */
class NtXentTest {

    static LongStream seeds() {
        return LongStream.range(0, Prop.count(12)).map(i -> Prop.seed("nt-xent", (int) i));
    }

    /** The twin: L(z) for z (n, d) in double, straight from the definition. */
    static double twin(double[][] z, double tau) {
        int n = z.length;
        int b = n / 2;
        double[][] u = new double[n][];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (double v : z[i]) {
                s += v * v;
            }
            double len = Math.sqrt(s);
            u[i] = new double[z[i].length];
            for (int j = 0; j < z[i].length; j++) {
                u[i][j] = z[i][j] / len;
            }
        }
        double total = 0;
        for (int i = 0; i < n; i++) {
            int p = (i + b) % n;
            double denom = 0;
            double pos = 0;
            for (int k = 0; k < n; k++) {
                if (k == i) {
                    continue;
                }
                double s = 0;
                for (int j = 0; j < u[i].length; j++) {
                    s += u[i][j] * u[k][j];
                }
                denom += Math.exp(s / tau);
                if (k == p) {
                    pos = s / tau;
                }
            }
            total += -pos + Math.log(denom);
        }
        return total / n;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void lossAndGradientMatchTwinAndFiniteDifferences(long seed) {
        SplittableRandom r = Prop.data(seed);
        int b = 1 + r.nextInt(6);
        int d = 1 + r.nextInt(9);
        double tau = 0.1 + r.nextDouble() * 0.9;
        int n = 2 * b;
        float[] values = new float[n * d];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) r.nextGaussian();
        }
        double[][] z = new double[n][d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                z[i][j] = values[i * d + j];
            }
        }
        try (Workspace ws = new Workspace("nt-xent-test")) {
            Tensor zt = ws.of(values, n, d);
            Tensor dz = ws.allocate(n, d);
            NtXent loss = new NtXent(tau);
            double l = loss.valueAndGradient(zt, dz);
            double expected = twin(z, tau);
            assertEquals(expected, l, 1e-5 * Math.abs(expected) + 1e-9, "seed " + seed + ": loss vs twin (B=" + b + ", D=" + d + ")");
            double eps = 1e-5;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < d; j++) {
                    double keep = z[i][j];
                    z[i][j] = keep + eps;
                    double up = twin(z, tau);
                    z[i][j] = keep - eps;
                    double down = twin(z, tau);
                    z[i][j] = keep;
                    double fd = (up - down) / (2 * eps);
                    double got = dz.get((long) i * d + j);
                    assertEquals(fd, got, 1e-4 + 1e-3 * Math.abs(fd), "seed " + seed + ": dL/dz[" + i + "][" + j + "] (B=" + b + ", D="
                            + d + ", tau=" + tau + ")");
                }
            }
            // the value without a gradient is the same number, and a second call gives the same bits
            assertEquals(l, loss.valueAndGradient(zt, null), 0.0, "seed " + seed);
            Tensor dz2 = ws.allocate(n, d);
            loss.valueAndGradient(zt, dz2);
            for (long i = 0; i < dz.size(); i++) {
                assertEquals(Float.floatToIntBits(dz.get(i)), Float.floatToIntBits(dz2.get(i)), "seed " + seed + ": repeat differs");
            }
        }
    }

    /** Scaling a row leaves the loss unchanged (cosine similarity); aligned pairs score below random ones. */
    @Test
    void scaleInvariantAndLowForAlignedPairs() {
        SplittableRandom r = new SplittableRandom(3);
        int b = 8;
        int d = 16;
        float[] v = new float[2 * b * d];
        for (int i = 0; i < b * d; i++) {
            v[i] = (float) r.nextGaussian();
            v[b * d + i] = v[i];
        }
        float[] scaled = v.clone();
        for (int j = 0; j < d; j++) {
            scaled[3 * d + j] *= 7f;
        }
        float[] random = new float[v.length];
        for (int i = 0; i < random.length; i++) {
            random[i] = (float) r.nextGaussian();
        }
        try (Workspace ws = new Workspace("nt-xent-test")) {
            NtXent loss = new NtXent(0.2);
            double aligned = loss.valueAndGradient(ws.of(v, 2 * b, d), null);
            assertEquals(aligned, loss.valueAndGradient(ws.of(scaled, 2 * b, d), null), 1e-6);
            double rand = loss.valueAndGradient(ws.of(random, 2 * b, d), null);
            assertTrue(aligned < rand - 1, "aligned pairs " + aligned + " vs random " + rand);
            assertThrows(IllegalArgumentException.class, () -> loss.valueAndGradient(ws.allocate(3, d), null));
            assertThrows(IllegalArgumentException.class, () -> new NtXent(0));
        }
    }
}
