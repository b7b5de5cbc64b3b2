package dev.latent.kernel;

import dev.latent.prop.Gen;
import dev.latent.prop.Shrinkable;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * An {@link Activations} case's shape: the activation, forward or backward, the run length n, the
 * offsets of the input and output runs, floats left after each, and whether the output aliases its
 * input exactly (a over z forward, dz over da backward).
 */
public record ActivationShape(Activation f, boolean backward, int n, int offIn, int offOut, int tail, boolean inPlace)
        implements Shrinkable<ActivationShape> {

    public ActivationShape {
        if (inPlace) {
            offOut = offIn;
        }
    }

    static List<Activation> kinds() {
        return List.of(Activation.SIGMOID, Activation.TANH, Activation.RELU, Activation.leakyRelu(0.2f),
                Activation.leakyRelu(0.01f), Activation.SOFTPLUS, Activation.IDENTITY);
    }

    /** Every kind, both directions, every edge length. */
    static List<ActivationShape> edges() {
        List<ActivationShape> out = new ArrayList<>();
        int idx = 0;
        for (Activation f : kinds()) {
            for (boolean backward : new boolean[] {false, true}) {
                for (int n : Gen.edgeSizes()) {
                    out.add(new ActivationShape(f, backward, n, idx % 4 == 0 ? 0 : idx % 7 + 1, idx % 5,
                            idx % 2 == 0 ? 0 : 3, idx % 3 == 0));
                    idx++;
                }
                out.add(new ActivationShape(f, backward, 0, 1, 2, 0, false));
            }
        }
        // Across SimdActivations' chunk (2048) and SimdElementwise's (4096).
        for (Activation f : kinds()) {
            for (boolean backward : new boolean[] {false, true}) {
                for (int n : Gen.chunkSizes()) {
                    out.add(new ActivationShape(f, backward, n, idx % 4 == 0 ? 0 : idx % 7 + 1, idx % 5,
                            idx % 2 == 0 ? 0 : 3, idx % 3 == 0));
                    idx++;
                }
            }
        }
        return out;
    }

    static ActivationShape random(SplittableRandom r) {
        List<Activation> kinds = kinds();
        Activation f = kinds.get(r.nextInt(kinds.size()));
        if (f.kind() == Activation.Kind.LEAKY_RELU) {
            f = Activation.leakyRelu((float) r.nextDouble(0, 0.5));
        }
        return new ActivationShape(f, r.nextBoolean(), r.nextInt(8) == 0 ? Gen.longRun(r) : Gen.size(r, 1, 9000), Gen.offset(r), Gen.offset(r), Gen.tail(r),
                r.nextInt(4) == 0);
    }

    @Override
    public List<ActivationShape> smaller() {
        List<ActivationShape> out = new ArrayList<>();
        if (n > 1) {
            out.add(new ActivationShape(f, backward, n / 2, offIn, offOut, tail, inPlace));
        }
        if (offIn + offOut > 0) {
            out.add(new ActivationShape(f, backward, n, 0, 0, tail, inPlace));
        }
        return out;
    }

    @Override
    public String toString() {
        return f + (backward ? " backward" : " forward") + " n=" + n + " off(" + offIn + "," + offOut + ") tail=" + tail
                + (inPlace ? " in-place" : "");
    }
}
