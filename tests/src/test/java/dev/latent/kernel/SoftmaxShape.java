package dev.latent.kernel;

import dev.latent.prop.Gen;
import dev.latent.prop.Shrinkable;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A {@link Softmax} case's shape: softmax or log-softmax of a rows x cols matrix X (leading
 * dimension cols + padX, offset offX) into Y (cols + padY, offY), floats left after each, whether Y
 * aliases X exactly, and the input scale.
 */
public record SoftmaxShape(boolean log, int rows, int cols, int padX, int padY, int offX, int offY, int tail,
                           boolean inPlace, Scale scale) implements Shrinkable<SoftmaxShape> {

    /** Input distributions: N(0,1); N(0,30^2) (underflowing exps); +-1e4 (max subtraction needed); equal rows. */
    public enum Scale { UNIT, WIDE, HUGE, CONSTANT }

    public SoftmaxShape {
        if (inPlace) {
            padY = padX;
            offY = offX;
        }
    }

    int ldx() {
        return cols + padX;
    }

    int ldy() {
        return cols + padY;
    }

    static List<SoftmaxShape> edges() {
        List<SoftmaxShape> out = new ArrayList<>();
        int[] rows = {1, 3, 7, 2, 13};
        int idx = 0;
        for (boolean log : new boolean[] {false, true}) {
            for (int cols : Gen.edgeSizes()) {
                for (Scale scale : Scale.values()) {
                    out.add(new SoftmaxShape(log, rows[idx % rows.length], cols, idx % 3, (idx + 1) % 3,
                            idx % 4 == 0 ? 0 : idx % 7 + 1, idx % 5, idx % 2 == 0 ? 0 : 3, idx % 3 == 0, scale));
                    idx++;
                }
            }
        }
        // Rows longer than the vector kernels' chunks: 1 to 3 rows, every scale.
        for (boolean log : new boolean[] {false, true}) {
            for (int cols : new int[] {4095, 4096, 4097, 8193}) {
                Scale scale = Scale.values()[idx % Scale.values().length];
                out.add(new SoftmaxShape(log, 1 + idx % 3, cols, idx % 3, (idx + 1) % 3, idx % 4 == 0 ? 0 : idx % 7 + 1,
                        idx % 5, idx % 2 == 0 ? 0 : 3, idx % 3 == 0, scale));
                idx++;
            }
        }
        return out;
    }

    static SoftmaxShape random(SplittableRandom r) {
        int rows;
        int cols;
        do {
            rows = Gen.size(r, 1, 300);
            cols = Gen.size(r, 1, 3000);
        } while ((long) rows * cols > 200_000);
        return new SoftmaxShape(r.nextBoolean(), rows, cols, Gen.pad(r), Gen.pad(r), Gen.offset(r), Gen.offset(r),
                Gen.tail(r), r.nextInt(4) == 0, Scale.values()[r.nextInt(Scale.values().length)]);
    }

    @Override
    public List<SoftmaxShape> smaller() {
        List<SoftmaxShape> out = new ArrayList<>();
        if (rows > 1) {
            out.add(new SoftmaxShape(log, rows / 2, cols, padX, padY, offX, offY, tail, inPlace, scale));
        }
        if (cols > 1) {
            out.add(new SoftmaxShape(log, rows, cols / 2, padX, padY, offX, offY, tail, inPlace, scale));
        }
        if (padX + padY > 0) {
            out.add(new SoftmaxShape(log, rows, cols, 0, 0, offX, offY, tail, inPlace, scale));
        }
        if (offX + offY > 0) {
            out.add(new SoftmaxShape(log, rows, cols, padX, padY, 0, 0, tail, inPlace, scale));
        }
        return out;
    }

    @Override
    public String toString() {
        return (log ? "logSoftmax " : "softmax ") + rows + "x" + cols + " ld+(" + padX + "," + padY + ") off(" + offX
                + "," + offY + ") tail=" + tail + (inPlace ? " in-place" : "") + " " + scale;
    }
}
