package dev.latent.nn;

import static dev.latent.nn.LayerData.dbl;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
 * {@link BatchNorm} over (B, C) and (B, C, H, W), in training mode (batch statistics, against
 * {@link ConvReference#batchNormTrain}) and in inference mode (drawn running statistics, against
 * {@link ConvReference#batchNormAffine}). Inputs are 2 g + 0.5 for a shuffled grid g of distinct values
 * in [-1, 1) (not normalized, and no channel with a variance near 0, where 1/sqrt(var + eps) would
 * spoil the twin's finite differences). The layer works in double and rounds once, so forward and
 * gradients share one tolerance ({@link Tolerance#ofMax}): 2 eps |ref| + 1e-9 max|ref|, the floor
 * covering double-precision differences under cancellation (dx sums to 0 per channel). Running
 * statistics: eps |ref| + 1e-12 (one rounding of a double update).
 */
class BatchNormLayerTest implements LayerContract<BatchNormLayerTest.Shape> {

    /** h = 0: the 1-d layout (B, C). */
    record Shape(int batch, int c, int h, int w, boolean training) implements Shrinkable<Shape> {
        int spatial() {
            return h == 0 ? 1 : h * w;
        }

        int[] sample() {
            return h == 0 ? new int[] {c} : new int[] {c, h, w};
        }

        @Override
        public List<Shape> smaller() {
            List<Shape> out = new ArrayList<>();
            for (Shape t : List.of(new Shape(Math.max(1, batch / 2), c, h, w, training), new Shape(batch, Math.max(1, c / 2), h, w, training),
                    new Shape(batch, c, h == 0 ? 0 : Math.max(1, h / 2), w, training),
                    new Shape(batch, c, h, h == 0 ? 0 : Math.max(1, w / 2), training))) {
                if (!t.equals(this) && (!t.training || t.batch * t.spatial() >= 2)) {
                    out.add(t);
                }
            }
            return out;
        }

        @Override
        public String toString() {
            return "batchNorm " + Tensor.format(LayerData.batched(batch, sample())) + (training ? " training" : " inference");
        }
    }

    @Override
    public String family() {
        return "batchNorm";
    }

    @Override
    public List<Shape> edges() {
        return List.of(new Shape(2, 1, 0, 0, true), new Shape(1, 1, 0, 0, false), new Shape(1, 2, 1, 2, true),
                new Shape(4, 3, 5, 5, true), new Shape(3, 2, 4, 1, false));
    }

    @Override
    public Shape randomShape(SplittableRandom r) {
        boolean training = r.nextInt(3) != 0;
        if (r.nextBoolean()) {
            int b = (training ? 2 : 1) + r.nextInt(8);
            return new Shape(b, 1 + r.nextInt(5), 0, 0, training);
        }
        int h = 1 + r.nextInt(6);
        int w = 1 + r.nextInt(6);
        int b = LayerData.batch(r, 4);
        if (training && b * h * w < 2) {
            b = 2;
        }
        return new Shape(b, 1 + r.nextInt(4), h, w, training);
    }

    @Override
    public LayerSubject setUp(Shape s, Kernels k, Workspace ws, SplittableRandom r) {
        int b = s.batch();
        int c = s.c();
        int sp = s.spatial();
        double eps = BatchNorm.DEFAULT_EPS;
        BatchNorm bn = new BatchNorm("bn", c);
        LayerData.build(bn, s.sample(), b, k, ws);
        bn.init(new SplittableRandom(r.nextLong()));
        bn.gamma().value().copyFrom(LayerData.random(r, c));
        bn.beta().value().copyFrom(LayerData.random(r, c));
        bn.runningMean().copyFrom(LayerData.random(r, c));
        float[] var = new float[c];
        for (int i = 0; i < c; i++) {
            var[i] = (float) (0.2 + 1.8 * r.nextDouble());
        }
        bn.runningVar().copyFrom(var);
        float[] x = LayerData.distinct(r, b * c * sp);
        for (int i = 0; i < x.length; i++) {
            x[i] = 2 * x[i] + 0.5f;
        }
        Tolerance tol = Tolerance.ofMax(2 * Tolerance.EPS, 1e-9);
        LayerSubject sub = LayerSubject.of(s.toString(), bn, s.sample(), b, x)
                .output(s.sample())
                .tolerances(tol, tol)
                .refuses(c + 1)
                .refuses(c + 1, 2, 2);
        if (s.training()) {
            return sub.twin(() -> new Twin((v, p) -> ConvReference.batchNormTrain(v, p[0], p[1], b, c, sp, eps),
                    (v, p, dy) -> ConvReference.batchNormTrainBackward(v, p[0], dy, b, c, sp, eps)));
        }
        return sub.inference().twin(() -> {
            double[] mean = dbl(bn.runningMean().toArray());
            double[] rv = dbl(bn.runningVar().toArray());
            return new Twin((v, p) -> ConvReference.batchNormAffine(v, p[0], p[1], mean, rv, b, c, sp, eps),
                    (v, p, dy) -> ConvReference.batchNormAffineBackward(v, p[0], mean, rv, dy, b, c, sp, eps));
        });
    }

    /**
     * A training forward moves the running statistics as PyTorch does (momentum 0.1, unbiased
     * variance), within eps |ref| + 1e-12; an inference forward leaves them alone.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void runningStatistics(KernelCase<Shape> c) {
        c.check(s -> {
            try (Workspace ws = new Workspace("bn running statistics")) {
                LayerSubject sub = setUp(s, KernelRegistry.load(c.provider()), ws, Prop.data(c.seed()));
                BatchNorm bn = (BatchNorm) sub.layer;
                float[] mean0 = bn.runningMean().toArray();
                float[] var0 = bn.runningVar().toArray();
                Tensor x = ws.of(sub.x, sub.batched());
                Tensor y = ws.allocate(sub.batched());
                bn.forward(x, y, sub.training);
                String what = c.provider() + " " + s;
                if (sub.training) {
                    double[][] run = ConvReference.runningUpdate(dbl(mean0), dbl(var0), dbl(sub.x), s.batch(), s.c(), s.spatial(), 0.1);
                    Tolerance stats = Tolerance.relative(Tolerance.EPS, 0);
                    double[] floor = new double[s.c()];
                    Arrays.fill(floor, 1e-12);
                    stats.check(what + " running mean", bn.runningMean().toArray(), run[0], null, floor);
                    stats.check(what + " running var (unbiased)", bn.runningVar().toArray(), run[1], null, floor);
                } else {
                    Compare.sameBits(what + ": inference changed the running mean", bn.runningMean().toArray(), mean0, i -> "[" + i + "]");
                    Compare.sameBits(what + ": inference changed the running variance", bn.runningVar().toArray(), var0, i -> "[" + i + "]");
                }
            }
        });
    }

    /** Training needs two values per channel: a (1, C) batch or a (1, C, 1, 1) image is refused, naming the layer. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#providers")
    void trainingRefusesOneValuePerChannel(String provider) {
        Kernels k = KernelRegistry.load(provider);
        for (int[] sample : new int[][] {{3}, {3, 1, 1}}) {
            try (Workspace ws = new Workspace("bn one value")) {
                BatchNorm bn = new BatchNorm("bn", 3);
                LayerData.build(bn, sample, 1, k, ws);
                Tensor x = ws.allocate(LayerData.batched(1, sample));
                Tensor y = ws.allocate(LayerData.batched(1, sample));
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> bn.forward(x, y, true), provider + ": training on one value per channel");
                assertTrue(e.getMessage().contains("bn"), e.getMessage());
                bn.forward(x, y, false);
                assertArrayEquals(LayerData.batched(1, sample), y.shape(), "inference on one value per channel is fine");
            }
        }
    }
}
