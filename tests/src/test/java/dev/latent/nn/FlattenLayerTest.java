package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Workspace;
import java.util.List;
import java.util.SplittableRandom;

/** {@link Flatten}: (B, C, H, W) to (B, C*H*W), the same data both ways: exact. */
class FlattenLayerTest implements LayerContract<ImageShape> {

    @Override
    public String family() {
        return "flatten";
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
        Flatten flat = new Flatten("flatten");
        LayerData.build(flat, s.sample(), s.batch(), k, ws);
        return LayerSubject.of("flatten " + s, flat, s.sample(), s.batch(), LayerData.random(r, s.batch() * s.size()))
                .output(s.size())
                .twin(() -> new Twin((x, p) -> ConvReference.sameData(x), (x, p, dy) -> new double[][] {ConvReference.sameData(dy)}))
                .tolerances(Tolerance.exact(), Tolerance.exact());
    }
}
