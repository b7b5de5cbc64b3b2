package dev.latent.kernel;

import dev.latent.prop.Gen;
import dev.latent.prop.Shrinkable;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A {@link PackedDense} case's shape: n rows of x (n, in) with leading dimension in + padX, y (n, out)
 * with leading dimension out + padY (the padding must stay untouched), and the activation.
 */
public record DenseShape(int n, int in, int out, int padX, int padY, Activation f) implements Shrinkable<DenseShape> {

    /** Row counts around the batch kernel's 8-row tile and 64-row task, column counts around 16- and 32-float panels. */
    static List<DenseShape> edges() {
        List<DenseShape> out = new ArrayList<>();
        List<Activation> kinds = ActivationShape.kinds();
        int idx = 0;
        for (int n : new int[] {1, 2, 7, 8, 9, 17, 64, 65, 130}) {
            for (int o : new int[] {1, 5, 16, 30, 31, 32, 33, 65, 250, 257}) {
                int in = new int[] {1, 3, 16, 31, 33, 100, 257}[idx % 7];
                out.add(new DenseShape(n, in, o, idx % 3, idx % 4 == 1 ? 3 : 0, kinds.get(idx % kinds.size())));
                idx++;
            }
        }
        // W5's layers at batch 1 (the parallel single-row path) and a few rows.
        out.add(new DenseShape(1, 784, 1000, 0, 0, Activation.SIGMOID));
        out.add(new DenseShape(1, 1000, 500, 0, 0, Activation.SIGMOID));
        out.add(new DenseShape(3, 500, 250, 0, 0, Activation.SIGMOID));
        out.add(new DenseShape(11, 250, 30, 0, 0, Activation.IDENTITY));
        return out;
    }

    static DenseShape random(SplittableRandom r) {
        List<Activation> kinds = ActivationShape.kinds();
        return new DenseShape(Gen.size(r, 1, 150), Gen.size(r, 1, 300), Gen.size(r, 1, 300), Gen.pad(r), Gen.pad(r),
                kinds.get(r.nextInt(kinds.size())));
    }

    @Override
    public List<DenseShape> smaller() {
        List<DenseShape> s = new ArrayList<>();
        if (n > 1) {
            s.add(new DenseShape(n / 2, in, out, padX, padY, f));
        }
        if (in > 1) {
            s.add(new DenseShape(n, in / 2, out, padX, padY, f));
        }
        if (out > 1) {
            s.add(new DenseShape(n, in, out / 2, padX, padY, f));
        }
        if (padX + padY > 0) {
            s.add(new DenseShape(n, in, out, 0, 0, f));
        }
        return s;
    }

    @Override
    public String toString() {
        return "n=" + n + " in=" + in + " out=" + out + " ldx=" + (in + padX) + " ldy=" + (out + padY) + " " + f;
    }
}
