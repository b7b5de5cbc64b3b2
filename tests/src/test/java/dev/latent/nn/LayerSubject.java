package dev.latent.nn;

import dev.latent.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * One layer under test, as a {@link LayerContract} implementation sets it up for a shape: the built
 * float layer with its parameters loaded, the batch it was built for (maxBatch = batch), the input,
 * the mode, the double twin and the tolerances of forward and of each gradient.
 */
final class LayerSubject {

    final String what;
    final Layer layer;
    final int[] sample;
    final int batch;
    final float[] x;
    boolean training = true;
    List<Param> params;
    int[] outSample;
    Supplier<Twin> twin;
    Supplier<Twin> magnitudes;
    Tolerance forward;
    Tolerance[] gradients;
    final List<int[]> refused = new ArrayList<>();

    private LayerSubject(String what, Layer layer, int[] sample, int batch, float[] x) {
        this.what = what;
        this.layer = layer;
        this.sample = sample.clone();
        this.batch = batch;
        this.x = x;
        this.params = layer.params();
        if (x.length != batch * Tensor.sizeOf(sample)) {
            throw new IllegalArgumentException(what + ": " + x.length + " inputs for " + batch + " x " + Tensor.format(sample));
        }
    }

    /** A built layer (sample shape, batch = maxBatch) fed x. */
    static LayerSubject of(String what, Layer layer, int[] sample, int batch, float[] x) {
        return new LayerSubject(what, layer, sample, batch, x);
    }

    /** Inference mode (default training). */
    LayerSubject inference() {
        this.training = false;
        return this;
    }

    /** The parameters whose gradients are checked, in the twin's order (default layer.params()). */
    LayerSubject params(List<Param> ps) {
        this.params = List.copyOf(ps);
        return this;
    }

    /** The per-sample output shape outputShape(sample) must give. */
    LayerSubject output(int... out) {
        this.outSample = out.clone();
        return this;
    }

    /** The twin, made after the layer's forward (so it can capture masks, noise or statistics). */
    LayerSubject twin(Supplier<Twin> t) {
        this.twin = t;
        return this;
    }

    /**
     * The twin whose values are the sum|terms| of each result (default: the twin run on |x|, |p|,
     * |dy|, which is right for linear maps; max pooling needs the argmax of x itself).
     */
    LayerSubject magnitudes(Supplier<Twin> m) {
        this.magnitudes = m;
        return this;
    }

    /** Forward tolerance, then gradient tolerances: one for all, or one for dx then one per parameter. */
    LayerSubject tolerances(Tolerance fwd, Tolerance... grads) {
        this.forward = fwd;
        this.gradients = grads.clone();
        return this;
    }

    /** A per-sample input shape outputShape must refuse (IllegalArgumentException naming layer and shape). */
    LayerSubject refuses(int... badSample) {
        refused.add(badSample.clone());
        return this;
    }

    Tolerance gradient(int i) {
        return gradients.length == 1 ? gradients[0] : gradients[i];
    }

    int[] batched() {
        return LayerData.batched(batch, sample);
    }

    int[] outBatched() {
        return LayerData.batched(batch, layer.outputShape(sample));
    }
}
