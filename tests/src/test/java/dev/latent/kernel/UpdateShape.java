package dev.latent.kernel;

import dev.latent.prop.Gen;
import dev.latent.prop.Shrinkable;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * An optimizer-update case ({@link Elementwise#adam}, {@link Elementwise#sgd}): the rule, n, the
 * offsets of the runs w, g and the state run(s) (m then v for Adam, vel for SGD; each run in its own
 * segment) and the floats left after each run.
 */
public record UpdateShape(Rule rule, int n, int offW, int offG, int offS, int tail) implements Shrinkable<UpdateShape> {

    /** The update rules: Adam, plain SGD (mu = 0), SGD with momentum, Nesterov SGD. */
    public enum Rule { ADAM, SGD, MOMENTUM, NESTEROV }

    static List<UpdateShape> edges() {
        List<UpdateShape> out = new ArrayList<>();
        int idx = 0;
        for (Rule rule : Rule.values()) {
            for (int n : Gen.edgeSizes()) {
                out.add(new UpdateShape(rule, n, idx % 4 == 0 ? 0 : idx % 7 + 1, (idx + 3) % 9, (idx + 5) % 6,
                        idx % 2 == 0 ? 0 : 5));
                idx++;
            }
            out.add(new UpdateShape(rule, 0, 1, 0, 2, 0));
        }
        // Across SimdElementwise's chunk (4096), which the Adam and SGD loops share.
        for (Rule rule : Rule.values()) {
            for (int n : Gen.chunkSizes()) {
                out.add(new UpdateShape(rule, n, idx % 4 == 0 ? 0 : idx % 7 + 1, (idx + 3) % 9, (idx + 5) % 6,
                        idx % 2 == 0 ? 0 : 5));
                idx++;
            }
        }
        return out;
    }

    static UpdateShape random(SplittableRandom r) {
        Rule rule = Rule.values()[r.nextInt(Rule.values().length)];
        int n = r.nextInt(20) == 0 ? 0 : r.nextInt(8) == 0 ? Gen.longRun(r) : Gen.size(r, 1, 9000);
        return new UpdateShape(rule, n, Gen.offset(r), Gen.offset(r), Gen.offset(r), Gen.tail(r));
    }

    @Override
    public List<UpdateShape> smaller() {
        List<UpdateShape> out = new ArrayList<>();
        if (n > 1) {
            out.add(new UpdateShape(rule, n / 2, offW, offG, offS, tail));
        }
        if (offW + offG + offS > 0) {
            out.add(new UpdateShape(rule, n, 0, 0, 0, tail));
        }
        if (tail > 0) {
            out.add(new UpdateShape(rule, n, offW, offG, offS, 0));
        }
        return out;
    }

    @Override
    public String toString() {
        return rule.name().toLowerCase(java.util.Locale.ROOT) + " n=" + n + " off(" + offW + "," + offG + "," + offS
                + ") tail=" + tail;
    }
}
