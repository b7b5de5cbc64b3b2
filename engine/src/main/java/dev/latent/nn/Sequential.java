package dev.latent.nn;

import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A chain of layers with its memory planned once: one {@link ParamSlab} for every parameter and
 * gradient, and per layer an output buffer and an output-gradient buffer sized for the largest batch.
 * Per-batch views are cached, so steady-state forward and backward allocate nothing.
 *
 * <p>x (B, input...) -> layer 0 -> a_0 -> ... -> a_{L-1} = output (B, output...). Activity penalties
 * attach to a layer's output a_i; {@link #backward} adds their gradients into dL/da_i before
 * propagating through layer i.
 */
public final class Sequential implements AutoCloseable {

    private final String name;
    private final List<Layer> layers;
    private final Map<Integer, ActivityPenalty> penalties = new HashMap<>();
    private Workspace ws;
    private Kernels kernels;
    private ParamSlab slab;
    private int[] inputShape;
    private int[][] shapes;
    private int maxBatch;
    private Tensor[] acts;
    private Tensor[] grads;
    private Tensor[] actViews;
    private Tensor[] gradViews;
    private int viewBatch = -1;

    public Sequential(String name, List<Layer> layers) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException(name + ": a Sequential needs at least one layer");
        }
        this.name = name;
        this.layers = List.copyOf(layers);
    }

    /** Adds a penalty on the output of layer {@code index} (before build). */
    public Sequential penalize(int index, ActivityPenalty penalty) {
        if (ws != null) {
            throw new IllegalStateException(name + ": add penalties before build()");
        }
        if (index < 0 || index >= layers.size()) {
            throw new IllegalArgumentException(name + ": no layer " + index + " (" + layers.size() + " layers)");
        }
        penalties.put(index, penalty);
        return this;
    }

    /** Plans memory for per-sample inputs of {@code inputShape} and batches up to {@code maxBatch}. */
    public Sequential build(int[] inputShape, int maxBatch, Kernels kernels) {
        if (ws != null) {
            throw new IllegalStateException(name + " is already built");
        }
        if (maxBatch < 1) {
            throw new IllegalArgumentException(name + ": maxBatch must be >= 1, got " + maxBatch);
        }
        this.kernels = kernels;
        this.inputShape = inputShape.clone();
        this.maxBatch = maxBatch;
        int n = layers.size();
        shapes = new int[n + 1][];
        shapes[0] = inputShape.clone();
        long total = 0;
        for (int i = 0; i < n; i++) {
            total += layers.get(i).paramCount(shapes[i]);
            shapes[i + 1] = layers.get(i).outputShape(shapes[i]);
        }
        ws = new Workspace(name);
        try {
            slab = new ParamSlab(ws, total);
            acts = new Tensor[n];
            grads = new Tensor[n];
            for (int i = 0; i < n; i++) {
                layers.get(i).build(shapes[i], maxBatch, kernels, slab, ws);
                acts[i] = ws.allocate(batched(maxBatch, shapes[i + 1]));
                grads[i] = ws.allocate(batched(maxBatch, shapes[i + 1]));
                ActivityPenalty p = penalties.get(i);
                if (p != null) {
                    p.build(shapes[i + 1], maxBatch, kernels, ws);
                }
            }
            if (!slab.full()) {
                throw new IllegalStateException(name + ": layers took fewer parameters than they declared");
            }
        } catch (RuntimeException e) {
            ws.close();
            ws = null;
            throw e;
        }
        actViews = new Tensor[n];
        gradViews = new Tensor[n];
        return this;
    }

    private static int[] batched(int b, int[] sample) {
        int[] s = new int[sample.length + 1];
        s[0] = b;
        System.arraycopy(sample, 0, s, 1, sample.length);
        return s;
    }

    /** Draws every layer's initial parameters from one seeded generator, in layer order. */
    public void init(long seed) {
        requireBuilt();
        SplittableRandom rnd = new SplittableRandom(seed);
        for (Layer l : layers) {
            l.init(rnd);
        }
    }

    /** Runs the chain on x (B, input...) and returns a view of the output (B, output...). */
    public Tensor forward(Tensor x, boolean training) {
        return forward(x, training, layers.size() - 1);
    }

    /** Runs layers 0..last on x and returns a view of layer last's output (e.g. an encoder's code). */
    public Tensor forward(Tensor x, boolean training, int last) {
        requireBuilt();
        if (last < 0 || last >= layers.size()) {
            throw new IllegalArgumentException(name + ": no layer " + last + " (" + layers.size() + " layers)");
        }
        Layer.requireBatch(name, "input", x, inputShape, maxBatch);
        views(x.dim(0));
        Tensor in = x;
        for (int i = 0; i <= last; i++) {
            layers.get(i).forward(in, actViews[i], training);
            in = actViews[i];
        }
        return in;
    }

    /**
     * Backpropagates dL/d(output) (B, output...) for the batch of the last forward: adds every
     * parameter gradient (and the penalties' gradients) and returns the total penalty value.
     * dOut may be the buffer from {@link #outputGrad()}.
     */
    public double backward(Tensor x, Tensor dOut) {
        return backward(x, dOut, 0);
    }

    /**
     * As {@link #backward(Tensor, Tensor)}, through layers last..{@code lowest} only: layer {@code lowest}
     * gets no input gradient (dx = null, as layer 0 always does) and the layers below it are skipped
     * (their parameter gradients stay as they are). For a caller that needs the parameter gradients of
     * the upper layers but not dL/dx, such as a discriminator step, which then skips the first
     * convolution's col2im.
     */
    public double backward(Tensor x, Tensor dOut, int lowest) {
        return backward(x, dOut, lowest, true);
    }

    /**
     * dL/d(output) back to the first layer's input gradient only, for a network whose parameters are
     * not being updated (the discriminator during the generator's step): every layer's
     * {@link Layer#backwardInput}, so the weight-gradient GEMMs (and a convolution's im2col of its
     * input) are skipped, and the parameter gradients are left as they were or added to (zero them
     * before the next {@link #backward}). Layer 0 gets dx = null, as in {@link #backward}: a first
     * layer that records its input gradient (a GAN's input tap) still gets dy. Returns the penalty.
     */
    public double backwardInput(Tensor x, Tensor dOut) {
        return backward(x, dOut, 0, false);
    }

    private double backward(Tensor x, Tensor dOut, int lowest, boolean params) {
        requireBuilt();
        if (lowest < 0 || lowest >= layers.size()) {
            throw new IllegalArgumentException(name + ": no layer " + lowest + " (" + layers.size() + " layers)");
        }
        int b = x.dim(0);
        if (b != viewBatch) {
            throw new IllegalStateException(name + ": backward for a batch of " + b + " after a forward of " + viewBatch);
        }
        int last = layers.size() - 1;
        if (dOut != gradViews[last]) {
            gradViews[last].copyFrom(dOut);
        }
        double penalty = 0;
        for (int i = last; i >= lowest; i--) {
            ActivityPenalty p = penalties.get(i);
            if (p != null) {
                penalty += p.addGradient(actViews[i], gradViews[i]);
            }
            Tensor in = i == 0 ? x : actViews[i - 1];
            Tensor dIn = i == lowest ? null : gradViews[i - 1];
            if (params) {
                layers.get(i).backward(in, actViews[i], gradViews[i], dIn);
            } else {
                layers.get(i).backwardInput(in, actViews[i], gradViews[i], dIn);
            }
        }
        return penalty;
    }

    /** The total penalty on the activations of the last forward (without gradients). */
    public double penaltyValue() {
        double v = 0;
        for (Map.Entry<Integer, ActivityPenalty> e : penalties.entrySet()) {
            v += e.getValue().value(actViews[e.getKey()]);
        }
        return v;
    }

    /** The buffer for dL/d(output) of the current batch: losses can write into it directly. */
    public Tensor outputGrad() {
        return gradViews[layers.size() - 1];
    }

    /** The output of layer i for the batch of the last forward. */
    public Tensor activation(int i) {
        return actViews[i];
    }

    /** Zeroes every parameter gradient. */
    public void zeroGrad() {
        Tensor g = slab.grads();
        kernels.elementwise().fill((int) g.size(), 0f, g.segment(), g.offset());
    }

    private void views(int b) {
        if (b == viewBatch) {
            return;
        }
        for (int i = 0; i < layers.size(); i++) {
            actViews[i] = acts[i].rows(0, b);
            gradViews[i] = grads[i].rows(0, b);
        }
        viewBatch = b;
    }

    public List<Layer> layers() {
        return layers;
    }

    public Layer layer(int i) {
        return layers.get(i);
    }

    /** Every parameter in build order. */
    public List<Param> params() {
        requireBuilt();
        return slab.params();
    }

    public ParamSlab slab() {
        requireBuilt();
        return slab;
    }

    public Kernels kernels() {
        return kernels;
    }

    public int maxBatch() {
        return maxBatch;
    }

    public int[] inputShape() {
        return inputShape.clone();
    }

    /** Per-sample output shape of layer i. */
    public int[] outputShape(int i) {
        return shapes[i + 1].clone();
    }

    public int[] outputShape() {
        return shapes[layers.size()].clone();
    }

    public String name() {
        return name;
    }

    private void requireBuilt() {
        if (ws == null) {
            throw new IllegalStateException(name + " is not built: call build(inputShape, maxBatch, kernels)");
        }
        if (!ws.isOpen()) {
            throw new IllegalStateException(name + " is closed");
        }
    }

    @Override
    public void close() {
        if (ws != null) {
            ws.close();
        }
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            parts.add(layers.get(i).name() + Arrays.toString(shapes == null ? new int[0] : shapes[i + 1]));
        }
        return name + parts;
    }
}
