package dev.latent.nn;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.latent.kernel.Kernels;
import dev.latent.prop.Shrinkable;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link ZeroPad}: y[b] = [0 x before, x[b], 0 x after]; backward dx[b, j] = dy[b, before + j]. It
 * only moves values (the zeros must be written: the output starts as NaN): exact both ways.
 */
class ZeroPadLayerTest implements LayerContract<ZeroPadLayerTest.Shape> {

    record Shape(int batch, int d, int before, int after) implements Shrinkable<Shape> {
        @Override
        public List<Shape> smaller() {
            List<Shape> s = new ArrayList<>();
            if (batch > 1) {
                s.add(new Shape(batch / 2, d, before, after));
            }
            if (d > 1) {
                s.add(new Shape(batch, d / 2, before, after));
            }
            if (before + after > 0) {
                s.add(new Shape(batch, d, before / 2, after / 2));
            }
            return s;
        }

        @Override
        public String toString() {
            return "zeroPad B=" + batch + " d=" + d + " (" + before + ", " + after + ")";
        }
    }

    @Override
    public String family() {
        return "zeroPad";
    }

    @Override
    public List<Shape> edges() {
        return List.of(new Shape(1, 1, 0, 0), new Shape(2, 5, 3, 0), new Shape(3, 7, 0, 6), new Shape(1, 40, 6, 6));
    }

    @Override
    public Shape randomShape(SplittableRandom r) {
        return new Shape(1 + r.nextInt(5), 1 + r.nextInt(40), r.nextInt(7), r.nextInt(7));
    }

    @Override
    public LayerSubject setUp(Shape s, Kernels k, Workspace ws, SplittableRandom r) {
        ZeroPad pad = new ZeroPad("pad", s.before(), s.after());
        LayerData.build(pad, new int[] {s.d()}, s.batch(), k, ws);
        int b = s.batch();
        int d = s.d();
        int pw = s.before() + d + s.after();
        return LayerSubject.of(s.toString(), pad, new int[] {d}, b, LayerData.random(r, b * d))
                .output(pw)
                .twin(() -> new Twin((x, p) -> {
                    double[] y = new double[b * pw];
                    for (int i = 0; i < b; i++) {
                        System.arraycopy(x, i * d, y, i * pw + s.before(), d);
                    }
                    return y;
                }, (x, p, dy) -> {
                    double[] dx = new double[b * d];
                    for (int i = 0; i < b; i++) {
                        System.arraycopy(dy, i * pw + s.before(), dx, i * d, d);
                    }
                    return new double[][] {dx};
                }))
                .tolerances(Tolerance.exact(), Tolerance.exact())
                .refuses(d, 1);
    }

    @Test
    void badPaddingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ZeroPad("z", -1, 0));
        assertThrows(IllegalArgumentException.class, () -> new ZeroPad("z", 1, 1).outputShape(new int[] {2, 3}));
    }
}
