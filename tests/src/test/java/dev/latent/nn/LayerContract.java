package dev.latent.nn;

import static dev.latent.nn.LayerData.abs;
import static dev.latent.nn.LayerData.dbl;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.KernelCase;
import dev.latent.kernel.KernelCases;
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
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@link Layer} contract as seeded properties, the layers' counterpart of the kernel contracts
 * ({@code GemmContract}, {@code ElementwiseContract}, ...): one small test class per layer implements
 * it by naming its family, its edge shapes and random shape generator, and {@link #setUp} (the built
 * float layer, its double twin, its tolerances). Cases are every provider under test
 * ({@link KernelCases#providersUnderTest()}, so a newly registered provider is covered with no edit)
 * crossed with the edge shapes and {@link #randomCases()} random shapes; the provider, seed and shape
 * are the test's name, a failure shrinks by halving ({@link Prop#check}) and {@code -Dprop.seed=N}
 * replays it.
 *
 * <p>The properties, with the tolerances each layer states in {@link LayerSubject#tolerances}
 * (separate for forward and for each gradient, see {@link Tolerance}):
 * <ul>
 *   <li>forward equals the twin; the input is left untouched and every output element is written
 *       (the output starts as NaN);
 *   <li>backward on zeroed parameter gradients equals the twin's dx and parameter gradients (dx starts
 *       as NaN: backward writes it);
 *   <li>backward <em>adds</em> into parameter gradients (as llm.c: dW += ...) and <em>writes</em> dx:
 *       from gradients G0 and dx D0 drawn at random, the results are G0 + twin and twin; the extra
 *       allowance 2 eps (|G0| + |twin|) covers the rounding of the addition (sum|terms| grows by |G0|);
 *   <li>backward run twice gives the same bits, and with dx == null the same parameter gradients;
 *   <li>the twin's own gradients equal central finite differences in double (PyTorch gradcheck: h =
 *       1e-6, |analytic - numeric| &lt;= 1e-5 + 1e-3 |numeric|; truncation O(h^2) ~ 1e-12 and rounding
 *       ~ 1e-16 |f| / h ~ 1e-9 leave orders of magnitude of margin, while a wrong formula is off by
 *       O(1)), differentiating proj . f for a random proj, at every coordinate of tensors up to
 *       {@value #FD_COORDINATES} elements and at {@value #FD_COORDINATES} drawn ones of larger tensors;
 *       these cases use the scalar provider only (the twin does not depend on it);
 *   <li>bad shapes are rejected with an IllegalArgumentException naming the layer and the shape:
 *       an input of the wrong per-sample shape, more samples than maxBatch, an output of the wrong
 *       per-sample shape or with fewer samples than the input, and the per-sample shapes
 *       {@link Layer#outputShape} must refuse.
 * </ul>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
interface LayerContract<S extends Shrinkable<S>> {

    /** Finite-difference step (gradcheck's). */
    double H = 1e-6;
    /** Coordinates checked by finite differences per tensor. */
    int FD_COORDINATES = 96;

    /** The family name: the seed stream and the label of the cases. */
    String family();

    /** Fixed shapes every run covers (batch 1, the smallest sizes, edges of the layer's geometry). */
    List<S> edges();

    /** A random shape drawn from the shape generator r. */
    S randomShape(SplittableRandom r);

    /**
     * Builds the layer under test for shape s with kernels k and maxBatch = the case's batch, loads
     * parameters drawn from r, draws the input from r, and describes its twin and tolerances.
     */
    LayerSubject setUp(S s, Kernels k, Workspace ws, SplittableRandom r);

    /** Random shapes per provider (-Dprop.count overrides). */
    default int randomCases() {
        return 8;
    }

    default Stream<KernelCase<S>> cases() {
        return KernelCases.cases("layer/" + family(), edges(), this::randomShape, randomCases());
    }

    /** The twin's finite-difference cases: the same shapes and seeds, built with the scalar provider. */
    default Stream<KernelCase<S>> twinCases() {
        String first = KernelCases.providersUnderTest().get(0);
        return cases().filter(c -> c.provider().equals(first)).map(c -> new KernelCase<>("scalar", c.seed(), c.shape()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    default void forwardMatchesTwin(KernelCase<S> c) {
        c.check(s -> {
            try (Workspace ws = new Workspace(family() + " forward")) {
                Ran run = forward(c, s, ws);
                Twin t = run.sub.twin.get();
                double[] ref = t.forward(run.xd, run.p);
                run.sub.forward.check(run.what + " forward", run.y.toArray(), ref,
                        () -> magnitudes(run.sub, t).forward(abs(run.xd), absAll(run.p)), null);
            }
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    default void backwardMatchesTwin(KernelCase<S> c) {
        c.check(s -> {
            try (Workspace ws = new Workspace(family() + " backward")) {
                Ran run = forward(c, s, ws);
                Twin t = run.sub.twin.get();
                float[] dy = LayerData.random(run.r, (int) run.y.size());
                float[][] got = backward(run, dy, ws, null, Float.NaN, true);
                double[][] ref = t.backward(run.xd, run.p, dbl(dy));
                Supplier<double[][]> mag = memo(() -> magnitudes(run.sub, t).backward(abs(run.xd), absAll(run.p), abs(dbl(dy))));
                for (int i = 0; i < got.length; i++) {
                    int at = i;
                    run.sub.gradient(i).check(run.what + " " + gradName(run.sub, i), got[i], ref[i], () -> mag.get()[at], null);
                }
            }
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    default void backwardAddsToParameterGradientsAndWritesDx(KernelCase<S> c) {
        c.check(s -> {
            try (Workspace ws = new Workspace(family() + " accumulate")) {
                Ran run = forward(c, s, ws);
                Twin t = run.sub.twin.get();
                float[] dy = LayerData.random(run.r, (int) run.y.size());
                List<Param> ps = run.sub.params;
                float[][] g0 = new float[ps.size()][];
                for (int i = 0; i < ps.size(); i++) {
                    g0[i] = LayerData.random(run.r, (int) ps.get(i).size());
                }
                float[][] got = backward(run, dy, ws, g0, 7.5f, false);
                double[][] ref = t.backward(run.xd, run.p, dbl(dy));
                Supplier<double[][]> mag = memo(() -> magnitudes(run.sub, t).backward(abs(run.xd), absAll(run.p), abs(dbl(dy))));
                run.sub.gradient(0).check(run.what + " dx written over 7.5 (not added)", got[0], ref[0], () -> mag.get()[0], null);
                for (int i = 0; i < ps.size(); i++) {
                    int at = i + 1;
                    double[] want = new double[ref[at].length];
                    double[] extra = new double[want.length];
                    for (int j = 0; j < want.length; j++) {
                        want[j] = g0[i][j] + ref[at][j];
                        extra[j] = 2 * Tolerance.EPS * (Math.abs(g0[i][j]) + Math.abs(ref[at][j]));
                    }
                    float[] g = g0[i];
                    run.sub.gradient(at).check(run.what + " " + gradName(run.sub, at) + " added to a drawn gradient G0",
                            got[at], want, () -> {
                                double[] m = mag.get()[at].clone();
                                for (int j = 0; j < m.length; j++) {
                                    m[j] += Math.abs(g[j]);
                                }
                                return m;
                            }, extra);
                }
            }
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    default void backwardTwiceGivesTheSameBits(KernelCase<S> c) {
        c.check(s -> {
            try (Workspace ws = new Workspace(family() + " twice")) {
                Ran run = forward(c, s, ws);
                float[] dy = LayerData.random(run.r, (int) run.y.size());
                float[][] first = backward(run, dy, ws, null, Float.NaN, true);
                float[][] second = backward(run, dy, ws, null, Float.NaN, true);
                for (int i = 0; i < first.length; i++) {
                    Compare.sameBits(run.what + " " + gradName(run.sub, i) + " (backward twice)", second[i], first[i], j -> "[" + j + "]");
                }
                float[][] noDx = backward(run, dy, ws, null, Float.NaN, false);
                for (int i = 1; i < first.length; i++) {
                    Compare.sameBits(run.what + " " + gradName(run.sub, i) + " with dx == null", noDx[i], first[i], j -> "[" + j + "]");
                }
            }
        });
    }

    @ParameterizedTest(name = "twin {0}")
    @MethodSource("twinCases")
    default void twinGradientsMatchFiniteDifferences(KernelCase<S> c) {
        c.check(s -> {
            try (Workspace ws = new Workspace(family() + " finite differences")) {
                Ran run = forward(c, s, ws);
                Twin t = run.sub.twin.get();
                double[] proj = dbl(LayerData.random(run.r, (int) run.y.size()));
                double[][] analytic = t.backward(run.xd, run.p, proj);
                double[][] inputs = new double[run.p.length + 1][];
                inputs[0] = run.xd.clone();
                for (int i = 0; i < run.p.length; i++) {
                    inputs[i + 1] = run.p[i].clone();
                }
                for (int which = 0; which < inputs.length; which++) {
                    double[] v = inputs[which];
                    int n = v.length;
                    int count = Math.min(n, FD_COORDINATES);
                    for (int q = 0; q < count; q++) {
                        int i = n <= FD_COORDINATES ? q : run.r.nextInt(n);
                        double keep = v[i];
                        v[i] = keep + H;
                        double up = dot(proj, t.forward(inputs[0], Arrays.copyOfRange(inputs, 1, inputs.length)));
                        v[i] = keep - H;
                        double down = dot(proj, t.forward(inputs[0], Arrays.copyOfRange(inputs, 1, inputs.length)));
                        v[i] = keep;
                        double numeric = (up - down) / (2 * H);
                        double a = analytic[which][i];
                        String name = gradName(run.sub, which);
                        int at = i;
                        assertTrue(Math.abs(a - numeric) <= 1e-5 + 1e-3 * Math.abs(numeric), () -> "twin of " + run.what
                                + ": " + name + "[" + at + "] analytic " + a + " vs central difference " + numeric);
                    }
                }
            }
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    default void badShapesAreRejected(KernelCase<S> c) {
        c.check(s -> {
            try (Workspace ws = new Workspace(family() + " bad shapes")) {
                LayerSubject sub = setUp(s, c.subject(), ws, Prop.data(c.seed()));
                Layer l = sub.layer;
                int[] out = l.outputShape(sub.sample);
                int[] wrong = sub.sample.clone();
                wrong[wrong.length - 1]++;
                Tensor wrongSample = ws.allocate(LayerData.batched(sub.batch, wrong));
                Tensor y = ws.allocate(LayerData.batched(sub.batch, out));
                assertRejects(l.name(), Tensor.format(wrongSample.shape()), () -> l.forward(wrongSample, y, sub.training));
                Tensor tooMany = ws.allocate(LayerData.batched(sub.batch + 1, sub.sample));
                Tensor yMany = ws.allocate(LayerData.batched(sub.batch + 1, out));
                assertRejects(l.name(), Tensor.format(tooMany.shape()), () -> l.forward(tooMany, yMany, sub.training));
                int[] wrongOut = out.clone();
                wrongOut[wrongOut.length - 1]++;
                Tensor x = ws.of(sub.x, sub.batched());
                Tensor yWrong = ws.allocate(LayerData.batched(sub.batch, wrongOut));
                assertRejects(l.name(), Tensor.format(yWrong.shape()), () -> l.forward(x, yWrong, sub.training));
                if (sub.batch > 1) {
                    Tensor yShort = ws.allocate(LayerData.batched(sub.batch - 1, out));
                    assertRejects(l.name(), Tensor.format(yShort.shape()), () -> l.forward(x, yShort, sub.training));
                }
                for (int[] bad : sub.refused) {
                    assertRejects(l.name(), Tensor.format(bad), () -> l.outputShape(bad));
                }
            }
        });
    }

    /** IllegalArgumentException whose message names the layer and the shape. */
    static void assertRejects(String layer, String shape, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, layer + " accepted " + shape);
        assertTrue(e.getMessage() != null && e.getMessage().contains(layer) && e.getMessage().contains(shape),
                "message should name the layer '" + layer + "' and the shape " + shape + ": " + e.getMessage());
    }

    /** A set-up layer after its forward on the subject's input. */
    record Ran(LayerSubject sub, String what, SplittableRandom r, Tensor x, Tensor y, double[] xd, double[][] p) {
    }

    private Ran forward(KernelCase<S> c, S s, Workspace ws) {
        SplittableRandom r = Prop.data(c.seed());
        LayerSubject sub = setUp(s, KernelRegistry.load(c.provider()), ws, r);
        String what = c.provider() + " " + sub.what;
        int[] out = sub.layer.outputShape(sub.sample);
        if (sub.outSample != null) {
            assertArrayEquals(sub.outSample, out, what + ": output shape");
        }
        Tensor x = ws.of(sub.x, sub.batched());
        Tensor y = ws.allocate(LayerData.batched(sub.batch, out));
        y.fill(Float.NaN);
        sub.layer.forward(x, y, sub.training);
        Compare.sameBits(what + ": forward changed its input", x.toArray(), sub.x, i -> "x[" + i + "]");
        double[][] p = new double[sub.params.size()][];
        for (int i = 0; i < p.length; i++) {
            p[i] = dbl(sub.params.get(i).value().toArray());
        }
        return new Ran(sub, what, r, x, y, dbl(sub.x), p);
    }

    /**
     * One backward with a fresh copy of dy (layers may overwrite it). Parameter gradients start at g0
     * (zero if null), dx at dxFill, or dx is null when withDx is false. Returns {dx, gradients}.
     */
    private static float[][] backward(Ran run, float[] dy, Workspace ws, float[][] g0, float dxFill, boolean withDx) {
        List<Param> ps = run.sub.params;
        for (int i = 0; i < ps.size(); i++) {
            if (g0 == null) {
                ps.get(i).grad().fill(0f);
            } else {
                ps.get(i).grad().copyFrom(g0[i]);
            }
        }
        Tensor dx = null;
        if (withDx || g0 != null) {
            dx = ws.allocate(run.sub.batched());
            dx.fill(dxFill);
        }
        run.sub.layer.backward(run.x, run.y, ws.of(dy, run.y.shape()), dx);
        float[][] out = new float[ps.size() + 1][];
        out[0] = dx == null ? null : dx.toArray();
        for (int i = 0; i < ps.size(); i++) {
            out[i + 1] = ps.get(i).grad().toArray();
        }
        return out;
    }

    private static Twin magnitudes(LayerSubject sub, Twin t) {
        return sub.magnitudes != null ? sub.magnitudes.get() : t;
    }

    private static String gradName(LayerSubject sub, int i) {
        return i == 0 ? "dx" : "d " + sub.params.get(i - 1).name();
    }

    private static double[][] absAll(double[][] p) {
        double[][] a = new double[p.length][];
        for (int i = 0; i < p.length; i++) {
            a[i] = abs(p[i]);
        }
        return a;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static <T> Supplier<T> memo(Supplier<T> f) {
        List<T> held = new ArrayList<>(1);
        return () -> {
            if (held.isEmpty()) {
                held.add(f.get());
            }
            return held.get(0);
        };
    }
}
