package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Reshape}: (B, C*H*W) to (B, C, H, W) given as (C, -1, W), the same data both ways: exact; a
 * size the target cannot hold is refused.
 */
class ReshapeLayerTest implements LayerContract<ImageShape> {

    @Override
    public String family() {
        return "reshape";
    }

    @Override
    public List<ImageShape> edges() {
        return ImageShape.edges();
    }

    @Override
    public ImageShape randomShape(SplittableRandom r) {
        return ImageShape.random(r);
    }

    @Override
    public LayerSubject setUp(ImageShape s, Kernels k, Workspace ws, SplittableRandom r) {
        Reshape back = new Reshape("unflatten", s.c(), -1, s.w());
        LayerData.build(back, new int[] {s.size()}, s.batch(), k, ws);
        LayerSubject sub = LayerSubject.of("reshape " + s, back, new int[] {s.size()}, s.batch(), LayerData.random(r, s.batch() * s.size()))
                .output(s.sample())
                .twin(() -> new Twin((x, p) -> ConvReference.sameData(x), (x, p, dy) -> new double[][] {ConvReference.sameData(dy)}))
                .tolerances(Tolerance.exact(), Tolerance.exact());
        if (s.c() * s.w() > 1) {
            sub.refuses(s.size() + 1);
        }
        return sub;
    }

    @Test
    void aTargetOfAnotherSizeIsRefused() {
        LayerContract.assertRejects("reshape-b", Tensor.format(3, 8, 8), () -> new Reshape("reshape-b", 5, -1).outputShape(new int[] {3, 8, 8}));
    }
}
