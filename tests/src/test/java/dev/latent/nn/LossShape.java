package dev.latent.nn;

import dev.latent.prop.Shrinkable;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** A (B, n) batch of predictions and targets for the loss, penalty and composed-model properties. */
record LossShape(int batch, int n) implements Shrinkable<LossShape> {

    static List<LossShape> edges() {
        return List.of(new LossShape(1, 1), new LossShape(1, 13), new LossShape(9, 2));
    }

    static LossShape random(SplittableRandom r) {
        return new LossShape(LayerData.batch(r, 9), 1 + r.nextInt(30));
    }

    @Override
    public List<LossShape> smaller() {
        List<LossShape> out = new ArrayList<>();
        if (batch > 1) {
            out.add(new LossShape(batch / 2, n));
        }
        if (n > 1) {
            out.add(new LossShape(batch, n / 2));
        }
        return out;
    }

    @Override
    public String toString() {
        return "B=" + batch + " n=" + n;
    }
}
