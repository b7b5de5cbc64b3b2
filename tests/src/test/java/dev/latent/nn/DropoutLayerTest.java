package dev.latent.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.KernelCase;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.prop.Compare;
import dev.latent.prop.Prop;
import dev.latent.prop.Shrinkable;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Dropout} (inverted: kept units scaled by 1 / (1 - p)). Training: y = x * mask, dx = dy * mask
 * with the mask the forward drew, one float rounding of a product: {@link Tolerance#sum} with k = 1
 * (2 eps |ref|) both ways. Inference: the identity, exact. Also: mask values are 0 or 1 / (1 - p);
 * reseeding replays the mask; the number of dropped units Z ~ Binomial(N, p) satisfies
 * |Z - N p| &lt;= 5 sqrt(N p (1 - p)) (a 5-sigma bound, false alarm below 1e-6; seeded, so a pass is
 * reproducible).
 */
class DropoutLayerTest implements LayerContract<DropoutLayerTest.Shape> {

    record Shape(int batch, int c, int h, int w, double p, boolean training) implements Shrinkable<Shape> {
        int[] sample() {
            return new int[] {c, h, w};
        }

        @Override
        public List<Shape> smaller() {
            List<Shape> out = new ArrayList<>();
            if (batch > 1) {
                out.add(new Shape(batch / 2, c, h, w, p, training));
            }
            if (h > 1) {
                out.add(new Shape(batch, c, h / 2, w, p, training));
            }
            if (w > 1) {
                out.add(new Shape(batch, c, h, w / 2, p, training));
            }
            return out;
        }

        @Override
        public String toString() {
            return "dropout p=" + p + " " + Tensor.format(LayerData.batched(batch, c, h, w)) + (training ? " training" : " inference");
        }
    }

    @Override
    public String family() {
        return "dropout";
    }

    @Override
    public List<Shape> edges() {
        return List.of(new Shape(1, 1, 1, 1, 0.5, true), new Shape(2, 1, 1, 4097, 0.1, true), new Shape(3, 2, 3, 4, 0.8, false));
    }

    @Override
    public Shape randomShape(SplittableRandom r) {
        return new Shape(LayerData.batch(r, 6), 1 + r.nextInt(3), 1 + r.nextInt(7), 1 + r.nextInt(7),
                new double[] {0.1, 0.25, 0.5, 0.8}[r.nextInt(4)], r.nextInt(4) != 0);
    }

    @Override
    public LayerSubject setUp(Shape s, Kernels k, Workspace ws, SplittableRandom r) {
        Dropout drop = new Dropout("dropout", s.p(), r.nextLong());
        LayerData.build(drop, s.sample(), s.batch(), k, ws);
        int n = s.batch() * s.c() * s.h() * s.w();
        LayerSubject sub = LayerSubject.of(s.toString(), drop, s.sample(), s.batch(), LayerData.random(r, n)).output(s.sample());
        if (!s.training()) {
            return sub.inference()
                    .twin(() -> new Twin((x, p) -> x.clone(), (x, p, dy) -> new double[][] {dy.clone()}))
                    .tolerances(Tolerance.exact(), Tolerance.exact());
        }
        return sub.twin(() -> {
            double[] mask = LayerData.dbl(Arrays.copyOf(drop.mask().toArray(), n));
            return new Twin((x, p) -> ConvReference.maskMul(x, mask), (x, p, dy) -> new double[][] {ConvReference.maskMul(dy, mask)});
        }).tolerances(Tolerance.sum(1), Tolerance.sum(1));
    }

    /** The mask holds 0 or 1 / (1 - p), and reseeding with the same seed replays it. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void maskValuesAndReplay(KernelCase<Shape> c) {
        c.check(s -> {
            try (Workspace ws = new Workspace("dropout mask")) {
                LayerSubject sub = setUp(s, KernelRegistry.load(c.provider()), ws, Prop.data(c.seed()));
                Dropout drop = (Dropout) sub.layer;
                Tensor x = ws.of(sub.x, sub.batched());
                Tensor y = ws.allocate(sub.batched());
                drop.reseed(c.seed());
                drop.forward(x, y, true);
                float[] mask = Arrays.copyOf(drop.mask().toArray(), sub.x.length);
                float keep = (float) (1 / (1 - s.p()));
                for (float m : mask) {
                    assertTrue(m == 0f || m == keep, c + ": mask value " + m + " is neither 0 nor " + keep);
                }
                drop.reseed(c.seed());
                drop.forward(x, y, true);
                Compare.sameBits(c + ": reseed does not replay the mask", Arrays.copyOf(drop.mask().toArray(), sub.x.length), mask,
                        i -> "mask[" + i + "]");
            }
        });
    }

    /** Z zeros among N = 8 x 4096 units, Z ~ Binomial(N, p): within 5 standard deviations of N p. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void dropsUnitsAtItsRate(KernelCase<Shape> c) {
        Kernels k = KernelRegistry.load(c.provider());
        double p = c.shape().p();
        int units = 4096;
        int batch = 8;
        try (Workspace ws = new Workspace("dropout-rate")) {
            Dropout drop = new Dropout("dropout", p, c.seed());
            LayerData.build(drop, new int[] {units}, batch, k, ws);
            Tensor ones = ws.allocate(batch, units);
            ones.fill(1f);
            Tensor y = ws.allocate(batch, units);
            drop.forward(ones, y, true);
            long zeros = 0;
            for (float v : y.toArray()) {
                zeros += v == 0f ? 1 : 0;
            }
            double total = (double) units * batch;
            double sd = Math.sqrt(total * p * (1 - p));
            long z = zeros;
            assertTrue(Math.abs(z - total * p) <= 5 * sd, () -> c + ": dropout p=" + p + " dropped " + z + " of " + (long) total
                    + " units, expected " + total * p + " +- 5*" + sd);
        }
    }
}
