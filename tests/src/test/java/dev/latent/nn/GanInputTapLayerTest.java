package dev.latent.nn;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.latent.kernel.KernelCase;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.prop.Compare;
import dev.latent.prop.Prop;
import dev.latent.prop.Shrinkable;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link GanInputTap}: the identity (y = x copied, dx = dy copied), exact both ways, over vector and
 * image samples; and its tap: after a backward, {@link GanInputTap#inputGradient()} holds that dy
 * (dL/d(D's input), handed to the generator), and before any backward it refuses.
 */
class GanInputTapLayerTest implements LayerContract<GanInputTapLayerTest.Shape> {

    record Shape(int batch, int[] sample) implements Shrinkable<Shape> {
        @Override
        public List<Shape> smaller() {
            List<Shape> s = new ArrayList<>();
            if (batch > 1) {
                s.add(new Shape(batch / 2, sample));
            }
            int last = sample[sample.length - 1];
            if (last > 1) {
                int[] t = sample.clone();
                t[t.length - 1] = last / 2;
                s.add(new Shape(batch, t));
            }
            return s;
        }

        @Override
        public String toString() {
            return "ganInputTap " + Tensor.format(LayerData.batched(batch, sample));
        }
    }

    @Override
    public String family() {
        return "ganInputTap";
    }

    @Override
    public List<Shape> edges() {
        return List.of(new Shape(1, new int[] {1}), new Shape(2, new int[] {1, 28, 28}), new Shape(3, new int[] {4097}));
    }

    @Override
    public Shape randomShape(SplittableRandom r) {
        int[] sample = r.nextBoolean() ? new int[] {1 + r.nextInt(60)}
                : new int[] {1 + r.nextInt(3), 1 + r.nextInt(9), 1 + r.nextInt(9)};
        return new Shape(LayerData.batch(r, 6), sample);
    }

    @Override
    public LayerSubject setUp(Shape s, Kernels k, Workspace ws, SplittableRandom r) {
        GanInputTap tap = new GanInputTap("tap");
        LayerData.build(tap, s.sample(), s.batch(), k, ws);
        return LayerSubject.of(s.toString(), tap, s.sample(), s.batch(), LayerData.random(r, (int) (s.batch() * Tensor.sizeOf(s.sample()))))
                .output(s.sample())
                .twin(() -> new Twin((x, p) -> x.clone(), (x, p, dy) -> new double[][] {dy.clone()}))
                .tolerances(Tolerance.exact(), Tolerance.exact());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void inputGradientIsTheLastDy(KernelCase<Shape> c) {
        c.check(s -> {
            try (Workspace ws = new Workspace("tap")) {
                SplittableRandom r = Prop.data(c.seed());
                LayerSubject sub = setUp(s, KernelRegistry.load(c.provider()), ws, r);
                GanInputTap tap = (GanInputTap) sub.layer;
                assertThrows(IllegalStateException.class, tap::inputGradient, "inputGradient() before any backward");
                Tensor x = ws.of(sub.x, sub.batched());
                Tensor y = ws.allocate(sub.batched());
                tap.forward(x, y, true);
                float[] dy = LayerData.random(r, sub.x.length);
                Tensor dyt = ws.of(dy, sub.batched());
                tap.backward(x, y, dyt, null);
                Compare.sameBits(c + ": inputGradient() after a backward with dx == null", tap.inputGradient().toArray(), dy,
                        i -> "[" + i + "]");
            }
        });
    }
}
