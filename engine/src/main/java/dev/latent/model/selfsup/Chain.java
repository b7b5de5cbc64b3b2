package dev.latent.model.selfsup;

import dev.latent.kernel.Kernels;
import dev.latent.nn.Layer;
import dev.latent.nn.Param;
import dev.latent.nn.ParamSlab;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A small chain of layers (the pretext heads) that, unlike {@code nn.Sequential}, also returns dL/dx:
 * the head's input gradient is what the encoder below it backpropagates. x (B, in...) -> layer 0 ->
 * ... -> y (B, out...); buffers for the largest batch, one parameter slab; nothing allocated per step.
 */
final class Chain implements AutoCloseable {

    private final List<Layer> layers;
    private final Workspace ws;
    private final ParamSlab slab;
    private final Tensor[] acts;
    private final Tensor[] grads;
    private final int[] inShape;
    private final int maxBatch;

    Chain(String name, List<Layer> layers, int[] inShape, int maxBatch, Kernels kernels) {
        this.layers = List.copyOf(layers);
        this.inShape = inShape.clone();
        this.maxBatch = maxBatch;
        int n = layers.size();
        int[][] shapes = new int[n + 1][];
        shapes[0] = inShape.clone();
        long total = 0;
        for (int i = 0; i < n; i++) {
            total += layers.get(i).paramCount(shapes[i]);
            shapes[i + 1] = layers.get(i).outputShape(shapes[i]);
        }
        this.ws = new Workspace(name);
        this.slab = new ParamSlab(ws, total);
        this.acts = new Tensor[n];
        this.grads = new Tensor[n + 1];
        grads[0] = ws.allocate(batched(maxBatch, shapes[0]));
        for (int i = 0; i < n; i++) {
            layers.get(i).build(shapes[i], maxBatch, kernels, slab, ws);
            acts[i] = ws.allocate(batched(maxBatch, shapes[i + 1]));
            grads[i + 1] = ws.allocate(batched(maxBatch, shapes[i + 1]));
        }
    }

    private static int[] batched(int b, int[] sample) {
        int[] s = new int[sample.length + 1];
        s[0] = b;
        System.arraycopy(sample, 0, s, 1, sample.length);
        return s;
    }

    void init(SplittableRandom rnd) {
        for (Layer l : layers) {
            l.init(rnd);
        }
    }

    /** y for x (B, in...), a view of the last buffer. */
    Tensor forward(Tensor x, boolean training) {
        Layer.requireBatch("head", "input", x, inShape, maxBatch);
        int b = x.dim(0);
        Tensor in = x;
        for (int i = 0; i < layers.size(); i++) {
            Tensor out = acts[i].rows(0, b);
            layers.get(i).forward(in, out, training);
            in = out;
        }
        return in;
    }

    /** The buffer for dL/dy of a batch of b (losses write into it). */
    Tensor outputGrad(int b) {
        return grads[layers.size()].rows(0, b);
    }

    /** Adds the parameter gradients for the last forward of x and returns dL/dx (a view of scratch). */
    Tensor backward(Tensor x, Tensor dy) {
        int b = x.dim(0);
        int n = layers.size();
        Tensor top = grads[n].rows(0, b);
        if (dy != top) {
            top.copyFrom(dy);
        }
        for (int i = n - 1; i >= 0; i--) {
            Tensor in = i == 0 ? x : acts[i - 1].rows(0, b);
            layers.get(i).backward(in, acts[i].rows(0, b), grads[i + 1].rows(0, b), grads[i].rows(0, b));
        }
        return grads[0].rows(0, b);
    }

    void zeroGrad() {
        slab.grads().fill(0f);
    }

    List<Param> params() {
        return slab.params();
    }

    ParamSlab slab() {
        return slab;
    }

    @Override
    public void close() {
        ws.close();
    }
}
