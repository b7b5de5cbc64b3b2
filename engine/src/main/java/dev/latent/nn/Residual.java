package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A skip block: y = x + f(x), f the chain of inner layers, which must map the per-sample shape to
 * itself. x (B, S...), y (B, S...). The block owns its inner layers: it builds them (their
 * parameters are taken from the slab in order, named by the inner layers), and holds, per inner
 * layer, an output buffer and an output-gradient buffer sized for maxBatch.
 *
 * <p>Backward: g_last = dy (copied, since inner layers may overwrite their dy), back through the
 * chain; the first inner layer writes its dx straight into dx, then dx += dy (the skip path).
 * With dx == null only the inner parameter gradients are accumulated.
 */
public final class Residual implements Layer {

    private final String name;
    private final List<Layer> inner;
    private Kernels k;
    private int maxBatch;
    private int[] sample;
    private Tensor[] acts;
    private Tensor[] grads;
    private Tensor[] actViews;
    private Tensor[] gradViews;
    private int viewBatch = -1;

    public Residual(String name, List<Layer> inner) {
        if (inner.isEmpty()) {
            throw new IllegalArgumentException(name + ": a residual block needs at least one inner layer");
        }
        this.name = name;
        this.inner = List.copyOf(inner);
    }

    @Override
    public String name() {
        return name;
    }

    public List<Layer> inner() {
        return inner;
    }

    private int[][] shapes(int[] inputShape) {
        int[][] s = new int[inner.size() + 1][];
        s[0] = inputShape.clone();
        for (int i = 0; i < inner.size(); i++) {
            try {
                s[i + 1] = inner.get(i).outputShape(s[i]);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(name + ": per-sample input " + Tensor.format(inputShape)
                        + " rejected inside the block: " + e.getMessage(), e);
            }
        }
        if (!Arrays.equals(s[inner.size()], inputShape)) {
            throw new IllegalArgumentException(name + ": inner layers must preserve the shape, but map per-sample input "
                    + Tensor.format(inputShape) + " to " + Tensor.format(s[inner.size()]));
        }
        return s;
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        shapes(inputShape);
        return inputShape.clone();
    }

    @Override
    public long paramCount(int[] inputShape) {
        int[][] s = shapes(inputShape);
        long total = 0;
        for (int i = 0; i < inner.size(); i++) {
            total += inner.get(i).paramCount(s[i]);
        }
        return total;
    }

    @Override
    public void build(int[] inputShape, int maxBatch, Kernels kernels, ParamSlab slab, Workspace scratch) {
        int[][] s = shapes(inputShape);
        this.sample = inputShape.clone();
        this.k = kernels;
        this.maxBatch = maxBatch;
        int n = inner.size();
        acts = new Tensor[n];
        grads = new Tensor[n];
        for (int i = 0; i < n; i++) {
            inner.get(i).build(s[i], maxBatch, kernels, slab, scratch);
            acts[i] = scratch.allocate(batched(maxBatch, s[i + 1]));
            grads[i] = scratch.allocate(batched(maxBatch, s[i + 1]));
        }
        actViews = new Tensor[n];
        gradViews = new Tensor[n];
    }

    private static int[] batched(int b, int[] sample) {
        int[] s = new int[sample.length + 1];
        s[0] = b;
        System.arraycopy(sample, 0, s, 1, sample.length);
        return s;
    }

    /** Initialises the inner layers in order from the same generator. */
    @Override
    public void init(SplittableRandom rnd) {
        for (Layer l : inner) {
            l.init(rnd);
        }
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        Layer.requireBatch(name, "input", x, sample, maxBatch);
        int b = x.dim(0);
        Batches.requireExact(name, "output", y, sample, b);
        views(b);
        Tensor in = x;
        for (int i = 0; i < inner.size(); i++) {
            inner.get(i).forward(in, actViews[i], training);
            in = actViews[i];
        }
        int n = (int) x.size();
        k.elementwise().copy(n, x.segment(), x.offset(), y.segment(), y.offset());
        k.elementwise().axpy(n, 1f, in.segment(), in.offset(), y.segment(), y.offset());
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        Layer.requireBatch(name, "input", x, sample, maxBatch);
        int b = x.dim(0);
        Batches.requireExact(name, "output gradient", dy, sample, b);
        if (b != viewBatch) {
            throw new IllegalStateException(name + ": backward for a batch of " + b + " after a forward of " + viewBatch);
        }
        if (dx != null) {
            Batches.requireExact(name, "input gradient", dx, sample, b);
        }
        int last = inner.size() - 1;
        gradViews[last].copyFrom(dy);
        for (int i = last; i >= 0; i--) {
            Tensor in = i == 0 ? x : actViews[i - 1];
            Tensor dIn = i == 0 ? dx : gradViews[i - 1];
            inner.get(i).backward(in, actViews[i], gradViews[i], dIn);
        }
        if (dx != null) {
            k.elementwise().axpy((int) dx.size(), 1f, dy.segment(), dy.offset(), dx.segment(), dx.offset());
        }
    }

    private void views(int b) {
        if (b == viewBatch) {
            return;
        }
        for (int i = 0; i < inner.size(); i++) {
            actViews[i] = acts[i].rows(0, b);
            gradViews[i] = grads[i].rows(0, b);
        }
        viewBatch = b;
    }

    /** Every inner parameter, in build order. */
    @Override
    public List<Param> params() {
        List<Param> ps = new ArrayList<>();
        for (Layer l : inner) {
            ps.addAll(l.params());
        }
        return ps;
    }
}
