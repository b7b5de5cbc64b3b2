package dev.latent.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Workspace;
import java.util.SplittableRandom;

/** Building layers and drawing their data for the layer properties. */
final class LayerData {

    private LayerData() {
    }

    /** Builds l for sample shape and maxBatch from a slab of exactly paramCount floats, which it must fill. */
    static ParamSlab build(Layer l, int[] sample, int maxBatch, Kernels k, Workspace ws) {
        ParamSlab slab = new ParamSlab(ws, l.paramCount(sample));
        l.build(sample, maxBatch, k, slab, ws);
        assertTrue(slab.full(), l.name() + ": took fewer parameters than paramCount() declared");
        assertEquals(slab.params(), l.params(), l.name() + ": params() differs from what it took");
        return slab;
    }

    /** Uniform in [-1, 1): no cancellation extremes, so relative tolerances mean something. */
    static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return v;
    }

    /** A shuffled grid -1 + 2 i / n, i < n, as floats: distinct values at least 2/n apart (no max-pool ties). */
    static float[] distinct(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (-1 + 2.0 * i / n);
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            float t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        return v;
    }

    static double[] dbl(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    static double[] abs(double[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = Math.abs(v[i]);
        }
        return d;
    }

    static int[] batched(int b, int... sample) {
        int[] s = new int[sample.length + 1];
        s[0] = b;
        System.arraycopy(sample, 0, s, 1, sample.length);
        return s;
    }

    /** A batch size: 1 for every third case (the seed's shape stream decides), else 1..max. */
    static int batch(SplittableRandom r, int max) {
        return r.nextInt(3) == 0 ? 1 : 1 + r.nextInt(max);
    }
}
