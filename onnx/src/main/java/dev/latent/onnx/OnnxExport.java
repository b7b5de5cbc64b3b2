package dev.latent.onnx;

import ai.onnx.proto.OnnxMl;
import dev.latent.io.AtomicFiles;
import dev.latent.io.BadInputException;
import dev.latent.io.ModelFile;
import dev.latent.io.SafeTensors;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.model.FeatureExtractor;
import dev.latent.model.FeatureGraph;
import dev.latent.model.FeatureGraph.Step;
import dev.latent.onnx.OnnxGraph.Attr;
import dev.latent.serve.ModelKinds;
import dev.latent.tensor.Tensor;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ONNX export of a model's features: the {@link FeatureGraph} a kind declares
 * ({@link FeatureExtractor#featureGraph}) as an ONNX graph (opset 13, IR 7) that computes what
 * {@link FeatureExtractor#features} computes, for every kind that can write its features so.
 * Input {@value #INPUT}: float32 (batch, input size), the rows as latent takes them (images flattened
 * CHW); output {@value #OUTPUT}: float32 (batch, feature size); the batch is symbolic. Weights are
 * float32 initializers named after the model's tensors.
 *
 * <p>Steps and their operators:
 * <ul>
 *   <li>dense: Gemm (transB) and the activation (sigmoid -> Sigmoid, tanh -> Tanh, relu -> Relu,
 *       leaky_relu:s -> LeakyRelu(alpha = s), softplus -> Softplus, identity -> none); shared-input
 *       residual: Concat [h, x], Gemm, activation, Add h; affine: Mul, Add; center: Sub;</li>
 *   <li>conv: Conv; batch norm: BatchNormalization (running statistics); max/avg pool: MaxPool,
 *       AveragePool; grid max: Slice + ReduceMax per row band, then per column band; flatten: Flatten;
 *       windows: Slice per window, Concat on the batch axis, the window's steps, Reshape + Transpose;</li>
 *   <li>k-means: patches as a Conv with 0/1 identity kernels (exact); per-position normalization as
 *       ReduceMean, Sub, Mul, Sqrt, Div over the channels; whitening as a 1x1 Conv with W^T and the
 *       bias; unit norm: ReduceSumSquare, Sqrt, Max, Div; distances: a 1x1 Conv with the centroids,
 *       ReduceSumSquare, Sub, Add of ||c||^2, Relu, Sqrt; triangle: ReduceMean, Sub, Relu; nearest:
 *       ArgMin, OneHot; select channels: Gather; quadrant sums: MatMul with a 0/1 pooling matrix;
 *       branches: Concat.</li>
 * </ul>
 * A kind that cannot write its features so is refused with a {@link BadInputException} saying why.
 * The file is written atomically (a hidden sibling, then one rename).
 */
public final class OnnxExport {

    /** The graph's input name: rows of the model's input size. */
    public static final String INPUT = "x";
    /** The graph's output name: the features. */
    public static final String OUTPUT = "code";
    /** ONNX IR version 7 is the one that goes with opset 13. */
    static final long IR_VERSION = 7;
    /** The operator set the graph uses. */
    static final long OPSET = 13;

    private OnnxExport() {
    }

    /** Exports the features of the latent model file {@code modelFile}, of any kind that declares them, to {@code onnxFile}. */
    public static void write(Path modelFile, Path onnxFile) throws IOException {
        String version;
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.Loaded l = SafeTensors.read(modelFile, arena);
            ModelFile.requireKind(l, null);
            version = l.metadata().get("latent_version");
        }
        try (FeatureExtractor model = ModelKinds.load(modelFile, Kernels.current())) {
            writeModel(model(model, modelFile.toString(), version), onnxFile);
        }
    }

    /** Exports the features of {@code model} (its current weights) to {@code onnxFile}. */
    public static void write(FeatureExtractor model, Path onnxFile) throws IOException {
        writeModel(model(model, model.kind(), null), onnxFile);
    }

    /** The ONNX model of {@code model}'s features; {@code source} names it in errors. */
    static OnnxMl.ModelProto model(FeatureExtractor model, String source, String latentVersion) {
        FeatureGraph fg;
        try {
            fg = model.featureGraph();
        } catch (UnsupportedOperationException | BadInputException e) {
            throw new BadInputException(source + ": cannot export its " + model.kind() + " features to ONNX: " + e.getMessage(), e);
        }
        int inputSize = model.inputSize();
        int features = model.featureSize();
        OnnxGraph g = new OnnxGraph("latent-" + model.kind());
        g.input(INPUT, inputSize);
        Value x = new Value(INPUT, new int[] {inputSize});
        int[] shape = fg.inputShape();
        Value v = shape.length == 1 ? x : new Value(reshape(g, INPUT, shape), shape);
        v = new Lowering(g, x).chain(fg.steps(), v);
        if (v.shape().length != 1 || v.shape()[0] != features) {
            throw new IllegalStateException(model.kind() + ": its feature graph ends in " + Tensor.format(v.shape()) + ", not the "
                    + features + " features");
        }
        g.output(v.name(), OUTPUT, features);
        return OnnxMl.ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setProducerName("latent")
                .setProducerVersion(latentVersion != null ? latentVersion : "unknown")
                .setDomain("dev.latent")
                .setModelVersion(ModelFile.VERSION)
                .setDocString("latent " + model.kind() + " features: input '" + INPUT + "' (batch, " + inputSize + "), output '"
                        + OUTPUT + "' (batch, " + features + ")")
                .addMetadataProps(OnnxMl.StringStringEntryProto.newBuilder().setKey("latent.kind").setValue(model.kind()))
                .addMetadataProps(OnnxMl.StringStringEntryProto.newBuilder().setKey("latent.input_shape")
                        .setValue(Arrays.toString(shape)))
                .setGraph(g.build())
                .build();
    }

    /** A value of the graph and its shape per example (without the batch). */
    private record Value(String name, int[] shape) {
    }

    /** Reshape of {@code name} to (batch, shape...), the batch copied (0). */
    private static String reshape(OnnxGraph g, String name, int... shape) {
        long[] s = new long[shape.length + 1];
        for (int i = 0; i < shape.length; i++) {
            s[i + 1] = shape[i];
        }
        return g.node("Reshape", List.of(name, g.longs("shape", s)));
    }

    /** The translation of steps into nodes of one graph; {@code x} is the graph's input, for shared-input residuals. */
    private record Lowering(OnnxGraph g, Value x) {

        Value chain(List<Step> steps, Value v) {
            for (Step s : steps) {
                v = step(s, v);
            }
            return v;
        }

        Value step(Step step, Value v) {
            return switch (step) {
                case FeatureGraph.Dense d -> {
                    int[] w = vectorWeight(d.name(), d.weight(), v, 0);
                    List<String> in = new ArrayList<>(List.of(v.name(), g.floats(d.name() + ".weight", dims(w), d.weight().toArray())));
                    if (d.bias() != null) {
                        in.add(g.floats(d.name() + ".bias", new long[] {w[0]}, floats(d.bias(), w[0], d.name())));
                    }
                    yield new Value(activate(g.node("Gemm", in, Attr.i("transB", 1)), d.activation()), new int[] {w[0]});
                }
                case FeatureGraph.SharedInputResidual r -> {
                    int[] w = vectorWeight(r.name(), r.weight(), v, x.shape()[0]);
                    if (w[0] != v.shape()[0]) {
                        throw new IllegalStateException(r.name() + ": a residual block of " + w[0] + " outputs on " + v.shape()[0] + " values");
                    }
                    String cat = g.node("Concat", List.of(v.name(), x.name()), Attr.i("axis", 1));
                    String z = g.node("Gemm", List.of(cat, g.floats(r.name() + ".weight", dims(w), r.weight().toArray()),
                            g.floats(r.name() + ".bias", new long[] {w[0]}, floats(r.bias(), w[0], r.name()))), Attr.i("transB", 1));
                    yield new Value(g.node("Add", List.of(v.name(), activate(z, r.activation()))), v.shape());
                }
                case FeatureGraph.Affine a -> {
                    String out = v.name();
                    if (a.scale() != 1f) {
                        out = g.node("Mul", List.of(out, g.scalar("scale", a.scale())));
                    }
                    if (a.shift() != 0f) {
                        out = g.node("Add", List.of(out, g.scalar("shift", a.shift())));
                    }
                    yield new Value(out, v.shape());
                }
                case FeatureGraph.Center c -> {
                    requireVector(v, "center");
                    yield new Value(g.node("Sub", List.of(v.name(), g.floats(c.name(), new long[] {v.shape()[0]}, floats(c.offset(),
                            v.shape()[0], c.name())))), v.shape());
                }
                case FeatureGraph.Activate a -> new Value(activate(v.name(), a.activation()), v.shape());
                case FeatureGraph.Conv c -> conv(c, v);
                case FeatureGraph.BatchNorm b -> {
                    int ch = requireMaps(v, b.name())[0];
                    yield new Value(g.node("BatchNormalization", List.of(v.name(),
                            g.floats(b.name() + ".gamma", new long[] {ch}, floats(b.gamma(), ch, b.name())),
                            g.floats(b.name() + ".beta", new long[] {ch}, floats(b.beta(), ch, b.name())),
                            g.floats(b.name() + ".running_mean", new long[] {ch}, floats(b.mean(), ch, b.name())),
                            g.floats(b.name() + ".running_var", new long[] {ch}, floats(b.variance(), ch, b.name()))),
                            Attr.f("epsilon", (float) b.eps())), v.shape());
                }
                case FeatureGraph.MaxPool p -> pool("MaxPool", p.kernel(), p.stride(), v);
                case FeatureGraph.AvgPool p -> pool("AveragePool", p.kernel(), p.stride(), v);
                case FeatureGraph.GridMax m -> gridMax(m.cells(), v);
                case FeatureGraph.Flatten f -> {
                    int[] s = requireMaps(v, "flatten");
                    yield new Value(g.node("Flatten", List.of(v.name()), Attr.i("axis", 1)), new int[] {s[0] * s[1] * s[2]});
                }
                case FeatureGraph.Windows w -> windows(w, v);
                case FeatureGraph.Patches p -> patches(p, v);
                case FeatureGraph.NormalizeChannels n -> {
                    requireMaps(v, "normalize");
                    String mean = g.node("ReduceMean", List.of(v.name()), Attr.ints("axes", 1), Attr.i("keepdims", 1));
                    String c = g.node("Sub", List.of(v.name(), mean));
                    String var = g.node("ReduceMean", List.of(g.node("Mul", List.of(c, c))), Attr.ints("axes", 1), Attr.i("keepdims", 1));
                    String sd = g.node("Sqrt", List.of(g.node("Add", List.of(var, g.scalar("norm_eps", (float) n.eps())))));
                    yield new Value(g.node("Div", List.of(c, sd)), v.shape());
                }
                case FeatureGraph.Whiten w -> whiten(w, v);
                case FeatureGraph.UnitNorm u -> {
                    requireMaps(v, "unit norm");
                    String norm = g.node("Sqrt", List.of(g.node("ReduceSumSquare", List.of(v.name()), Attr.ints("axes", 1),
                            Attr.i("keepdims", 1))));
                    String safe = g.node("Max", List.of(norm, g.scalar("tiny", Float.MIN_NORMAL)));
                    yield new Value(g.node("Div", List.of(v.name(), safe)), v.shape());
                }
                case FeatureGraph.Distances d -> distances(d, v);
                case FeatureGraph.Dots d -> {
                    int[] s = requireMaps(v, d.name());
                    int k = d.centroids().dim(0);
                    requireCentroids(d.name(), d.centroids(), s[0]);
                    float[] shift = new float[k];
                    Arrays.fill(shift, d.shift());
                    String out = g.node("Conv", List.of(v.name(), g.floats(d.name(), new long[] {k, s[0], 1, 1}, d.centroids().toArray()),
                            g.floats(d.name() + ".shift", new long[] {k}, shift)), Attr.ints("kernel_shape", 1, 1));
                    yield new Value(out, new int[] {k, s[1], s[2]});
                }
                case FeatureGraph.Triangle t -> {
                    requireMaps(v, "triangle");
                    String mean = g.node("ReduceMean", List.of(v.name()), Attr.ints("axes", 1), Attr.i("keepdims", 1));
                    yield new Value(g.node("Relu", List.of(g.node("Sub", List.of(mean, v.name())))), v.shape());
                }
                case FeatureGraph.Nearest n -> {
                    int k = requireMaps(v, "nearest")[0];
                    String idx = g.node("ArgMin", List.of(v.name()), Attr.i("axis", 1), Attr.i("keepdims", 0));
                    yield new Value(g.node("OneHot", List.of(idx, g.longs("depth", k), g.floats("one_hot", new long[] {2},
                            new float[] {0f, 1f})), Attr.i("axis", 1)), v.shape());
                }
                case FeatureGraph.SelectChannels c -> {
                    int[] s = requireMaps(v, "select channels");
                    long[] idx = Arrays.stream(c.channels()).asLongStream().toArray();
                    for (long i : idx) {
                        if (i < 0 || i >= s[0]) {
                            throw new IllegalStateException("select channels: channel " + i + " of " + s[0]);
                        }
                    }
                    yield new Value(g.node("Gather", List.of(v.name(), g.longs("channels", idx)), Attr.i("axis", 1)),
                            new int[] {idx.length, s[1], s[2]});
                }
                case FeatureGraph.QuadrantSums q -> quadrantSums(v);
                case FeatureGraph.Concat c -> {
                    List<String> parts = new ArrayList<>();
                    int size = 0;
                    for (List<Step> branch : c.branches()) {
                        Value b = chain(branch, v);
                        requireVector(b, "a branch");
                        parts.add(b.name());
                        size += b.shape()[0];
                    }
                    yield new Value(g.node("Concat", parts, Attr.i("axis", 1)), new int[] {size});
                }
            };
        }

        private Value conv(FeatureGraph.Conv c, Value v) {
            int[] s = requireMaps(v, c.name());
            int k = c.kernel();
            int o = c.weight().dim(0);
            if (c.weight().rank() != 2 || c.weight().dim(1) != s[0] * k * k) {
                throw new IllegalStateException(c.name() + ": weight " + Tensor.format(c.weight().shape()) + " is not (O, " + s[0]
                        + " * " + k + " * " + k + ")");
            }
            List<String> in = new ArrayList<>(List.of(v.name(), g.floats(c.name() + ".weight", new long[] {o, s[0], k, k},
                    c.weight().toArray())));
            if (c.bias() != null) {
                in.add(g.floats(c.name() + ".bias", new long[] {o}, floats(c.bias(), o, c.name())));
            }
            int p = c.pad();
            String out = g.node("Conv", in, Attr.ints("kernel_shape", k, k), Attr.ints("strides", c.stride(), c.stride()),
                    Attr.ints("pads", p, p, p, p));
            return new Value(out, new int[] {o, (s[1] + 2 * p - k) / c.stride() + 1, (s[2] + 2 * p - k) / c.stride() + 1});
        }

        private Value pool(String op, int k, int stride, Value v) {
            int[] s = requireMaps(v, op);
            String out = g.node(op, List.of(v.name()), Attr.ints("kernel_shape", k, k), Attr.ints("strides", stride, stride));
            return new Value(out, new int[] {s[0], (s[1] - k) / stride + 1, (s[2] - k) / stride + 1});
        }

        /** Max over the cells of an n x n grid: first the row bands (axis 2), then the column bands (axis 3). */
        private Value gridMax(int n, Value v) {
            int[] s = requireMaps(v, "grid max");
            String out = v.name();
            for (int axis = 2; axis <= 3; axis++) {
                int side = s[axis - 1];
                List<String> bands = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    long from = (long) i * side / n;
                    long to = ((long) (i + 1) * side + n - 1) / n;
                    String band = g.node("Slice", List.of(out, g.longs("from", from), g.longs("to", to), g.longs("axis", axis)));
                    bands.add(g.node("ReduceMax", List.of(band), Attr.ints("axes", axis), Attr.i("keepdims", 1)));
                }
                out = g.node("Concat", bands, Attr.i("axis", axis));
            }
            return new Value(out, new int[] {s[0], n, n});
        }

        /** The windows side by side on the batch axis, through {@code each}, then back to one row of m F per image. */
        private Value windows(FeatureGraph.Windows w, Value v) {
            int[] s = requireMaps(v, "windows");
            List<String> crops = new ArrayList<>();
            for (int[] o : w.offsets()) {
                if (o[0] < 0 || o[1] < 0 || o[0] + w.height() > s[1] || o[1] + w.width() > s[2]) {
                    throw new IllegalStateException("window " + w.height() + "x" + w.width() + " at (" + o[0] + ", " + o[1]
                            + ") leaves the " + s[1] + "x" + s[2] + " maps");
                }
                crops.add(g.node("Slice", List.of(v.name(), g.longs("from", o[0], o[1]),
                        g.longs("to", o[0] + w.height(), o[1] + w.width()), g.longs("axes", 2, 3))));
            }
            String stacked = g.node("Concat", crops, Attr.i("axis", 0));
            Value f = chain(w.each(), new Value(stacked, new int[] {s[0], w.height(), w.width()}));
            requireVector(f, "a window's steps");
            int m = w.offsets().length;
            int size = f.shape()[0];
            String split = g.node("Reshape", List.of(f.name(), g.longs("shape", m, -1, size)));
            String perImage = g.node("Transpose", List.of(split), Attr.ints("perm", 1, 0, 2));
            return new Value(reshape(g, perImage, m * size), new int[] {m * size});
        }

        /** Patches as a convolution with 0/1 kernels: output channel c p p + y p + x copies input (c, y, x) of the window. */
        private Value patches(FeatureGraph.Patches p, Value v) {
            int[] s = requireMaps(v, "patches");
            int k = p.patch();
            int d = s[0] * k * k;
            if (s[1] < k || s[2] < k) {
                throw new IllegalStateException("patches: " + k + "x" + k + " patches of " + s[1] + "x" + s[2] + " maps");
            }
            float[] eye = new float[d * d];
            for (int o = 0; o < d; o++) {
                eye[o * d + o] = 1f;
            }
            String out = g.node("Conv", List.of(v.name(), g.floats("patch_kernel", new long[] {d, s[0], k, k}, eye)),
                    Attr.ints("kernel_shape", k, k), Attr.ints("strides", p.stride(), p.stride()));
            return new Value(out, new int[] {d, (s[1] - k) / p.stride() + 1, (s[2] - k) / p.stride() + 1});
        }

        /** x M + b per position, as a 1x1 convolution with weight M^T (e, d, 1, 1) and bias b. */
        private Value whiten(FeatureGraph.Whiten w, Value v) {
            int[] s = requireMaps(v, w.name());
            int d = s[0];
            Tensor m = w.matrix();
            if (m.rank() != 2 || m.dim(0) != d) {
                throw new IllegalStateException(w.name() + ": matrix " + Tensor.format(m.shape()) + " does not take " + d + " channels");
            }
            int e = m.dim(1);
            float[] mv = m.toArray();
            float[] t = new float[d * e];
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < e; j++) {
                    t[j * d + i] = mv[i * e + j];
                }
            }
            String out = g.node("Conv", List.of(v.name(), g.floats(w.name() + ".matrix_t", new long[] {e, d, 1, 1}, t),
                    g.floats(w.name() + ".bias", new long[] {e}, floats(w.bias(), e, w.name()))), Attr.ints("kernel_shape", 1, 1));
            return new Value(out, new int[] {e, s[1], s[2]});
        }

        /** sqrt(max(0, ||x||^2 - 2 x.c_j + ||c_j||^2)) per position, ||c_j||^2 summed in double as latent does. */
        private Value distances(FeatureGraph.Distances dist, Value v) {
            int[] s = requireMaps(v, dist.name());
            requireCentroids(dist.name(), dist.centroids(), s[0]);
            int k = dist.centroids().dim(0);
            int d = s[0];
            float[] c = dist.centroids().toArray();
            float[] cnorm = new float[k];
            for (int j = 0; j < k; j++) {
                double q = 0;
                for (int i = 0; i < d; i++) {
                    q += (double) c[j * d + i] * c[j * d + i];
                }
                cnorm[j] = (float) q;
            }
            String dots = g.node("Conv", List.of(v.name(), g.floats(dist.name(), new long[] {k, d, 1, 1}, c)), Attr.ints("kernel_shape", 1, 1));
            String xn = g.node("ReduceSumSquare", List.of(v.name()), Attr.ints("axes", 1), Attr.i("keepdims", 1));
            String twice = g.node("Mul", List.of(dots, g.scalar("two", 2f)));
            String z2 = g.node("Add", List.of(g.node("Sub", List.of(xn, twice)), g.floats(dist.name() + ".norms", new long[] {k, 1, 1}, cnorm)));
            return new Value(g.node("Sqrt", List.of(g.node("Relu", List.of(z2)))), new int[] {k, s[1], s[2]});
        }

        /** Sums over the four quadrants: (k, gh gw) times a 0/1 matrix (gh gw, 4), then (4, k) per image. */
        private Value quadrantSums(Value v) {
            int[] s = requireMaps(v, "quadrant sums");
            int k = s[0];
            int gh = s[1];
            int gw = s[2];
            int hy = (gh + 1) / 2;
            int hx = (gw + 1) / 2;
            float[] pool = new float[gh * gw * 4];
            for (int y = 0; y < gh; y++) {
                for (int x = 0; x < gw; x++) {
                    pool[(y * gw + x) * 4 + (y < hy ? 0 : 2) + (x < hx ? 0 : 1)] = 1f;
                }
            }
            String flat = reshape(g, v.name(), k, gh * gw);
            String sums = g.node("MatMul", List.of(flat, g.floats("quadrants", new long[] {gh * gw, 4}, pool)));
            String perQuadrant = g.node("Transpose", List.of(sums), Attr.ints("perm", 0, 2, 1));
            return new Value(reshape(g, perQuadrant, 4 * k), new int[] {4 * k});
        }

        private String activate(String z, Activation a) {
            return switch (a.kind()) {
                case IDENTITY -> z;
                case SIGMOID -> g.node("Sigmoid", List.of(z));
                case TANH -> g.node("Tanh", List.of(z));
                case RELU -> g.node("Relu", List.of(z));
                case SOFTPLUS -> g.node("Softplus", List.of(z));
                case LEAKY_RELU -> g.node("LeakyRelu", List.of(z), Attr.f("alpha", a.slope()));
            };
        }
    }

    /** The weight's (out, in) after checking that it takes the vector v (plus {@code extra} inputs). */
    private static int[] vectorWeight(String name, Tensor w, Value v, int extra) {
        requireVector(v, name);
        if (w.rank() != 2 || w.dim(1) != v.shape()[0] + extra) {
            throw new IllegalStateException(name + ": weight " + Tensor.format(w.shape()) + " does not take " + (v.shape()[0] + extra)
                    + " inputs");
        }
        return new int[] {w.dim(0), w.dim(1)};
    }

    private static void requireVector(Value v, String step) {
        if (v.shape().length != 1) {
            throw new IllegalStateException(step + " takes a vector, got maps " + Tensor.format(v.shape()));
        }
    }

    private static int[] requireMaps(Value v, String step) {
        if (v.shape().length != 3) {
            throw new IllegalStateException(step + " takes maps (C, H, W), got " + Tensor.format(v.shape()));
        }
        return v.shape();
    }

    private static void requireCentroids(String name, Tensor c, int d) {
        if (c.rank() != 2 || c.dim(1) != d) {
            throw new IllegalStateException(name + ": centroids " + Tensor.format(c.shape()) + " on " + d + " channels");
        }
    }

    /** The values of a tensor of {@code n} values. */
    private static float[] floats(Tensor t, int n, String name) {
        if (t.size() != n) {
            throw new IllegalStateException(name + ": " + Tensor.format(t.shape()) + " where " + n + " values belong");
        }
        return t.toArray();
    }

    private static long[] dims(int[] shape) {
        return Arrays.stream(shape).asLongStream().toArray();
    }

    private static void writeModel(OnnxMl.ModelProto model, Path file) throws IOException {
        AtomicFiles.write(file, tmp -> {
            try (OutputStream os = Files.newOutputStream(tmp)) {
                model.writeTo(os);
            }
        });
    }
}
