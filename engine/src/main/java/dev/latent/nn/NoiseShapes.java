package dev.latent.nn;

import dev.latent.tensor.Tensor;

/** The shape rule of the shape-preserving corruption layers. */
final class NoiseShapes {

    private NoiseShapes() {
    }

    /** Any non-empty per-sample shape with positive dimensions maps to itself. */
    static int[] same(String layer, int[] in) {
        boolean ok = in.length >= 1;
        for (int d : in) {
            ok &= d >= 1;
        }
        if (!ok) {
            throw new IllegalArgumentException(layer + ": expects a per-sample input of rank >= 1 with positive"
                    + " dimensions but got " + Tensor.format(in));
        }
        return in.clone();
    }
}
