package dev.latent.nn;

import dev.latent.prop.Shrinkable;
import dev.latent.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** A batch of (C, H, W) samples, for the layers that only see a sample's size (flatten, reshape). */
record ImageShape(int batch, int c, int h, int w) implements Shrinkable<ImageShape> {

    int[] sample() {
        return new int[] {c, h, w};
    }

    int size() {
        return c * h * w;
    }

    static ImageShape random(SplittableRandom r) {
        return new ImageShape(LayerData.batch(r, 5), 1 + r.nextInt(4), 1 + r.nextInt(6), 1 + r.nextInt(6));
    }

    static List<ImageShape> edges() {
        return List.of(new ImageShape(1, 1, 1, 1), new ImageShape(2, 3, 4, 5), new ImageShape(1, 1, 64, 65));
    }

    @Override
    public List<ImageShape> smaller() {
        List<ImageShape> out = new ArrayList<>();
        if (batch > 1) {
            out.add(new ImageShape(batch / 2, c, h, w));
        }
        if (c > 1) {
            out.add(new ImageShape(batch, c / 2, h, w));
        }
        if (h > 1) {
            out.add(new ImageShape(batch, c, h / 2, w));
        }
        if (w > 1) {
            out.add(new ImageShape(batch, c, h, w / 2));
        }
        return out;
    }

    @Override
    public String toString() {
        return Tensor.format(LayerData.batched(batch, c, h, w));
    }
}
