package dev.latent.kernel;

import dev.latent.prop.Gen;
import dev.latent.prop.Shrinkable;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** An {@link Im2col} case's shape: the convolution geometry, the image and column offsets, and the tail. */
public record ConvShape(ConvGeometry g, int offImg, int offCols, int tail) implements Shrinkable<ConvShape> {

    int imageLength() {
        return offImg + g.imageSize() + tail;
    }

    int colsLength() {
        return offCols + g.colRows() * g.colCols() + tail;
    }

    /** 1x1 (identity), 3x3 same, non-square kernels and strides, stride = kernel, stride > kernel (gaps), windows in the padding, one huge side. */
    static List<ConvShape> edges() {
        List<ConvGeometry> gs = List.of(
                ConvGeometry.square(1, 1, 1, 1, 1, 0),
                ConvGeometry.square(4, 8, 8, 1, 1, 0),
                ConvGeometry.square(3, 7, 13, 3, 1, 1),
                new ConvGeometry(2, 13, 7, 5, 3, 2, 1, 2, 0),
                ConvGeometry.square(1, 31, 31, 2, 2, 0),
                ConvGeometry.square(13, 9, 9, 3, 3, 0),
                ConvGeometry.square(2, 10, 10, 2, 3, 0),
                ConvGeometry.square(3, 65, 64, 4, 2, 1),
                ConvGeometry.square(1, 5, 5, 7, 1, 1),
                ConvGeometry.square(1, 2, 2, 3, 1, 2),
                ConvGeometry.square(2, 127, 3, 3, 2, 1),
                ConvGeometry.square(1, 3, 1021, 3, 1, 1),
                new ConvGeometry(1, 1021, 2, 3, 1, 1, 1, 1, 0),
                ConvGeometry.square(1, 64, 65, 3, 1, 1),
                ConvGeometry.square(1, 257, 7, 3, 1, 0),
                ConvGeometry.square(16, 31, 31, 5, 1, 2),
                new ConvGeometry(3, 17, 19, 1, 7, 1, 3, 0, 3));
        List<ConvShape> out = new ArrayList<>();
        for (int i = 0; i < gs.size(); i++) {
            out.add(new ConvShape(gs.get(i), i % 3 == 0 ? 0 : i % 7 + 1, i % 4 == 0 ? 0 : i % 5 + 1, i % 2 == 0 ? 0 : 3));
        }
        return out;
    }

    static ConvShape random(SplittableRandom r) {
        while (true) {
            int c = r.nextInt(5) == 0 ? Gen.size(r, 1, 16) : r.nextInt(1, 4);
            boolean wide = r.nextBoolean();
            int h = wide ? r.nextInt(1, 20) : Gen.size(r, 1, 130);
            int w = wide ? Gen.size(r, 1, 300) : r.nextInt(1, 40);
            int kh = r.nextInt(1, 6);
            int kw = r.nextBoolean() ? kh : r.nextInt(1, 6);
            int sh = r.nextInt(1, 4);
            int sw = r.nextBoolean() ? sh : r.nextInt(1, 4);
            int ph = r.nextInt(0, 3);
            int pw = r.nextBoolean() ? ph : r.nextInt(0, 3);
            if (h + 2 * ph < kh || w + 2 * pw < kw) {
                continue;
            }
            ConvGeometry g = new ConvGeometry(c, h, w, kh, kw, sh, sw, ph, pw);
            if ((long) g.colRows() * g.colCols() > 400_000) {
                continue;
            }
            return new ConvShape(g, Gen.offset(r), Gen.offset(r), Gen.tail(r));
        }
    }

    @Override
    public List<ConvShape> smaller() {
        List<ConvShape> out = new ArrayList<>();
        int[] f = {g.channels(), g.height(), g.width(), g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.padH(), g.padW()};
        for (int i = 0; i < f.length; i++) {
            int min = i >= 7 ? 0 : 1;
            if (f[i] / 2 >= min && f[i] / 2 < f[i]) {
                int[] h = f.clone();
                h[i] = f[i] / 2;
                if (h[1] + 2 * h[7] >= h[3] && h[2] + 2 * h[8] >= h[4]) {
                    out.add(new ConvShape(new ConvGeometry(h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]),
                            offImg, offCols, tail));
                }
            }
        }
        if (offImg + offCols > 0) {
            out.add(new ConvShape(g, 0, 0, tail));
        }
        return out;
    }

    @Override
    public String toString() {
        return "conv c=" + g.channels() + " " + g.height() + "x" + g.width() + " k=" + g.kernelH() + "x" + g.kernelW()
                + " s=" + g.strideH() + "," + g.strideW() + " p=" + g.padH() + "," + g.padW() + " off(" + offImg + ","
                + offCols + ") tail=" + tail;
    }
}
