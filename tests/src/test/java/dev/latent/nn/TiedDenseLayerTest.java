package dev.latent.nn;

import static dev.latent.nn.LayerData.random;

import dev.latent.kernel.Kernels;
import dev.latent.prop.Shrinkable;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@link TiedDense}, the decoder that reuses its encoder's W (hid, in): y = h W + c, h (B, hid),
 * against {@link Reference#tiedForward}. Its W gradient goes into the encoder's parameter, so the
 * checked parameters are the encoder's weight and the decoder's bias c. Tolerances
 * ({@link Tolerance#sum}): forward k = hid + 1; dh k = in; dW and dc k = B.
 */
class TiedDenseLayerTest implements LayerContract<TiedDenseLayerTest.Shape> {

    record Shape(int batch, int in, int hid) implements Shrinkable<Shape> {
        @Override
        public List<Shape> smaller() {
            List<Shape> s = new ArrayList<>();
            if (batch > 1) {
                s.add(new Shape(batch / 2, in, hid));
            }
            if (in > 1) {
                s.add(new Shape(batch, in / 2, hid));
            }
            if (hid > 1) {
                s.add(new Shape(batch, in, hid / 2));
            }
            return s;
        }

        @Override
        public String toString() {
            return "tied decoder B=" + batch + " " + hid + " -> " + in;
        }
    }

    @Override
    public String family() {
        return "tied";
    }

    @Override
    public List<Shape> edges() {
        return List.of(new Shape(1, 1, 1), new Shape(1, 13, 7), new Shape(4, 31, 2));
    }

    @Override
    public Shape randomShape(SplittableRandom r) {
        return new Shape(LayerData.batch(r, 9), 1 + r.nextInt(50), 1 + r.nextInt(30));
    }

    @Override
    public LayerSubject setUp(Shape s, Kernels k, Workspace ws, SplittableRandom r) {
        int b = s.batch();
        Dense enc = new Dense("enc", s.in(), s.hid(), true);
        TiedDense dec = new TiedDense("dec", enc, true);
        ParamSlab slab = new ParamSlab(ws, enc.paramCount(new int[] {s.in()}) + dec.paramCount(new int[] {s.hid()}));
        enc.build(new int[] {s.in()}, b, k, slab, ws);
        dec.build(new int[] {s.hid()}, b, k, slab, ws);
        enc.weight().value().copyFrom(random(r, s.hid() * s.in()));
        dec.params().get(0).value().copyFrom(random(r, s.in()));
        return LayerSubject.of(s.toString(), dec, new int[] {s.hid()}, b, random(r, b * s.hid()))
                .params(List.of(enc.weight(), dec.params().get(0)))
                .output(s.in())
                .twin(() -> new Twin((h, p) -> Reference.tiedForward(h, p[0], p[1], b, s.hid(), s.in()),
                        (h, p, dy) -> Reference.tiedBackward(h, p[0], dy, b, s.hid(), s.in())))
                .tolerances(Tolerance.sum(s.hid() + 1), Tolerance.sum(s.in()), Tolerance.sum(b), Tolerance.sum(b))
                .refuses(s.hid() + 1);
    }
}
