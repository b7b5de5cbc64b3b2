package dev.latent.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.io.SafeTensors;
import dev.latent.kernel.Activation;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.loss.Bce;
import dev.latent.loss.KlSparsity;
import dev.latent.loss.L1Activity;
import dev.latent.loss.Loss;
import dev.latent.loss.Mse;
import dev.latent.loss.SoftmaxCrossEntropy;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * latent's layers, losses and penalties against PyTorch: every fixture written by
 * {@code tests/fixtures/torch/make_fixtures.py} (inputs, parameters, an upstream gradient dy, and
 * torch's outputs and autograd gradients of sum(y * dy)), under every available kernel provider.
 * Each fixture's {@code __metadata__} names the kind and hyperparameters; the test builds that latent
 * layer, copies the parameters in, runs forward and backward, and compares every reference tensor in
 * the file (a tensor left uncompared fails the test). The message lists, per tensor, the largest
 * absolute difference, the largest relative difference and the worst ratio to the tolerance, pass or
 * fail; the same lines go to standard output (surefire's report) for the record.
 *
 * <p>Both sides are float32 with different summation orders, so tolerances bound the difference of
 * two roundings of the same exact value (eps = 2^-23, u = eps / 2):
 * <ul>
 *   <li><b>linear maps</b> (Linear, tied decoder, Conv2d, ConvTranspose2d, pooling, upsampling): any
 *       float sum of k terms is within k u sum|terms| of the exact value, whatever the order, so the
 *       two results differ by at most 2 k u sum|terms| = k eps sum|terms|; the test allows twice that,
 *       |d| &le; 2 k eps mag, with mag = sum|terms| per element from the fixture ({@code mag.*}: torch's
 *       same op in float64 on |inputs|, |params|, |dy|) and k the longest sum (named at each use);
 *   <li><b>copies</b> (max pooling and nearest upsampling forward): exact;
 *   <li><b>activations</b>: latent's kernels promise 1e-5 max(1, |ref|) against the exact value
 *       ({@link ActivationLayerTest}); torch's float kernels are within a few ulps, 8 eps |ref|;
 *   <li><b>everything with reductions behind a nonlinearity</b> (batch norm, losses, penalties, the
 *       autoencoder step): element errors scale with the tensor, not the element (dx of batch norm
 *       sums to 0 per channel; a softmax gradient is p - t), so the bound is max-norm relative,
 *       |d_i| &le; rel max_j |ref_j|, with rel from the longest float reduction either side may run
 *       (named at each use); scalar values are nonnegative sums, compared relative to themselves.
 * </ul>
 */
class TorchFixturesTest {

    static final double EPS = Math.ulp(1f);
    static final Path DIR = fixtureDir();

    private static Path fixtureDir() {
        URL url = TorchFixturesTest.class.getResource("/fixtures/torch");
        if (url == null) {
            throw new IllegalStateException("fixtures/torch is not on the test class path");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Stream<Arguments> cases() {
        List<String> names;
        try (Stream<Path> files = Files.list(DIR)) {
            names = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".safetensors"))
                    .map(n -> n.substring(0, n.length() - ".safetensors".length())).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertFalse(names.isEmpty(), "no fixtures in " + DIR + "; run tests/fixtures/torch/make_fixtures.py");
        List<Arguments> out = new ArrayList<>();
        for (String n : names) {
            for (String p : KernelRegistry.availableNames()) {
                out.add(Arguments.of(n, p));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} under {1}")
    @MethodSource("cases")
    void matchesTorch(String fixture, String provider) throws IOException {
        Kernels k = KernelRegistry.load(provider);
        try (Arena arena = Arena.ofConfined(); Workspace ws = new Workspace("torch-" + fixture)) {
            SafeTensors.Loaded f = SafeTensors.read(DIR.resolve(fixture + ".safetensors"), arena);
            Check c = new Check(fixture + " under " + provider, f);
            String kind = f.meta("kind");
            switch (kind) {
                case "linear", "activation", "conv2d", "conv_transpose2d", "maxpool2d", "avgpool2d", "upsample_nearest",
                     "batchnorm" -> layer(c, f, k, ws);
                case "tied_linear" -> tied(c, f, k, ws);
                case "loss" -> loss(c, f, ws);
                case "penalty" -> penalty(c, f, k, ws);
                case "sparse_autoencoder" -> sparseAutoencoder(c, f, k, ws);
                default -> throw new AssertionError(fixture + ": unknown kind '" + kind + "'");
            }
            c.finish();
        }
    }

    /** One layer: build from the metadata, copy parameters (and running statistics) in, forward, backward. */
    private static void layer(Check c, SafeTensors.Loaded f, Kernels k, Workspace ws) {
        Tensor x = c.input("x");
        int b = x.dim(0);
        int[] sample = Arrays.copyOfRange(x.shape(), 1, x.rank());
        Layer layer = newLayer(f, sample[0]);
        ParamSlab slab = new ParamSlab(ws, layer.paramCount(sample));
        layer.build(sample, b, k, slab, ws);
        Set<String> names = new TreeSet<>();
        for (Param p : layer.params()) {
            String name = suffix(p);
            names.add(name);
            p.value().copyFrom(c.input("param." + name).toArray());
        }
        assertEquals(c.namesWithPrefix("param."), names, c.what + ": the fixture's parameters vs the layer's");
        boolean training = !f.metadata().containsKey("training") || Boolean.parseBoolean(f.meta("training"));
        BatchNorm bn = layer instanceof BatchNorm n ? n : null;
        if (bn != null) {
            bn.runningMean().copyFrom(c.input("running_mean.before").toArray());
            bn.runningVar().copyFrom(c.input("running_var.before").toArray());
        }

        Tensor xs = ws.of(x.toArray(), x.shape());
        Tensor y = ws.allocate(Check.batched(b, layer.outputShape(sample)));
        layer.forward(xs, y, training);
        Tensor dy = ws.of(c.input("dy").toArray(), y.shape());
        slab.grads().fill(0f);
        Tensor dx = ws.allocate(x.shape());
        layer.backward(xs, y, dy, dx);

        String kind = f.meta("kind");
        int kk = f.metadata().containsKey("kernel") ? intMeta(f, "kernel") : 0;
        int s = f.metadata().containsKey("stride") ? intMeta(f, "stride") : 0;
        switch (kind) {
            case "linear" -> {
                int in = intMeta(f, "in");
                int out = intMeta(f, "out");
                // y: a dot product over in terms plus the bias; dx over out terms; dW and db over the batch
                c.linear("y", y, in + 1);
                c.linear("dx", dx, out);
                c.linear("grad.weight", grad(layer, "weight"), b);
                if (names.contains("bias")) {
                    c.linear("grad.bias", grad(layer, "bias"), b);
                }
            }
            case "conv2d" -> {
                int ch = intMeta(f, "in_channels");
                int oc = intMeta(f, "out_channels");
                int pixels = y.dim(2) * y.dim(3);
                // y: C k^2 taps plus the bias; dx: at most OC k^2 taps land on one input pixel;
                // dW and db: a sum over every output pixel of the batch
                c.linear("y", y, ch * kk * kk + 1);
                c.linear("dx", dx, oc * kk * kk);
                c.linear("grad.weight", grad(layer, "weight"), b * pixels);
                if (names.contains("bias")) {
                    c.linear("grad.bias", grad(layer, "bias"), b * pixels);
                }
            }
            case "conv_transpose2d" -> {
                int ch = intMeta(f, "in_channels");
                int oc = intMeta(f, "out_channels");
                // y: at most C k^2 input taps per output pixel plus the bias; dx: OC k^2 taps;
                // dW: a sum over every input pixel of the batch; db: over every output pixel
                c.linear("y", y, ch * kk * kk + 1);
                c.linear("dx", dx, oc * kk * kk);
                c.linear("grad.weight", grad(layer, "weight"), b * x.dim(2) * x.dim(3));
                if (names.contains("bias")) {
                    c.linear("grad.bias", grad(layer, "bias"), b * y.dim(2) * y.dim(3));
                }
            }
            case "maxpool2d" -> {
                c.exact("y", y);
                // overlapping windows add up to k^2 gradients into one input element
                c.linear("dx", dx, kk * kk);
            }
            case "avgpool2d" -> {
                // a window sum of k^2 terms and a division; dx: up to k^2 windows, each dy / k^2
                c.linear("y", y, kk * kk + 1);
                c.linear("dx", dx, kk * kk + 1);
            }
            case "upsample_nearest" -> {
                int scale = intMeta(f, "scale");
                c.exact("y", y);
                c.linear("dx", dx, scale * scale);
            }
            case "activation" -> {
                c.activation("y", y);
                c.activation("dx", dx);
            }
            case "batchnorm" -> {
                long n = y.size() / y.dim(1);
                // Per-channel statistics and dgamma, dbeta are reductions over N = B*S values; latent
                // runs them in double, torch may run them in float: N + 8 roundings (the 8 for the
                // normalization and affine map), on the scale of the tensor's largest element.
                double rel = 2 * (n + 8) * EPS;
                c.maxRelative("y", y, rel);
                c.maxRelative("dx", dx, rel);
                c.maxRelative("grad.gamma", grad(layer, "gamma"), rel);
                c.maxRelative("grad.beta", grad(layer, "beta"), rel);
                c.maxRelative("running_mean", bn.runningMean(), rel);
                c.maxRelative("running_var", bn.runningVar(), rel);
            }
            default -> throw new AssertionError(kind);
        }
    }

    private static Layer newLayer(SafeTensors.Loaded f, int channels) {
        String kind = f.meta("kind");
        return switch (kind) {
            case "linear" -> new Dense("layer", intMeta(f, "in"), intMeta(f, "out"), boolMeta(f, "bias"));
            case "activation" -> new ActivationLayer("layer", Activation.parse(f.meta("activation")));
            case "conv2d" -> new Conv2d("layer", intMeta(f, "in_channels"), intMeta(f, "out_channels"), intMeta(f, "kernel"),
                    intMeta(f, "stride"), intMeta(f, "padding"), boolMeta(f, "bias"));
            case "conv_transpose2d" -> new ConvTranspose2d("layer", intMeta(f, "in_channels"), intMeta(f, "out_channels"),
                    intMeta(f, "kernel"), intMeta(f, "stride"), intMeta(f, "padding"), intMeta(f, "output_padding"),
                    boolMeta(f, "bias"));
            case "maxpool2d" -> new MaxPool2d("layer", intMeta(f, "kernel"), intMeta(f, "stride"));
            case "avgpool2d" -> new AvgPool2d("layer", intMeta(f, "kernel"), intMeta(f, "stride"));
            case "upsample_nearest" -> new Upsample2d("layer", intMeta(f, "scale"));
            case "batchnorm" -> {
                assertEquals(channels, intMeta(f, "channels"), f.file() + ": channels vs the input's second axis");
                yield new BatchNorm("layer", channels, Double.parseDouble(f.meta("momentum")), Double.parseDouble(f.meta("eps")));
            }
            default -> throw new AssertionError(kind);
        };
    }

    /** The tied decoder y = h W + c: W lives in the encoder Dense (hidden, visible), its gradient too. */
    private static void tied(Check c, SafeTensors.Loaded f, Kernels k, Workspace ws) {
        Tensor h = c.input("x");
        int b = h.dim(0);
        int hid = intMeta(f, "hidden");
        int vis = intMeta(f, "visible");
        Dense enc = new Dense("enc", vis, hid, false);
        TiedDense dec = new TiedDense("dec", enc, true);
        ParamSlab slab = new ParamSlab(ws, enc.paramCount(new int[] {vis}) + dec.paramCount(new int[] {hid}));
        enc.build(new int[] {vis}, b, k, slab, ws);
        dec.build(new int[] {hid}, b, k, slab, ws);
        enc.weight().value().copyFrom(c.input("param.weight").toArray());
        dec.params().get(0).value().copyFrom(c.input("param.bias").toArray());
        Tensor hs = ws.of(h.toArray(), h.shape());
        Tensor y = ws.allocate(b, vis);
        dec.forward(hs, y, true);
        Tensor dh = ws.allocate(b, hid);
        dec.backward(hs, y, ws.of(c.input("dy").toArray(), b, vis), dh);
        // y: hid products plus the bias; dh: vis products; dW (the encoder's gradient) and dc: over the batch
        c.linear("y", y, hid + 1);
        c.linear("dx", dh, vis);
        c.linear("grad.weight", enc.weight().grad(), b);
        c.linear("grad.bias", dec.params().get(0).grad(), b);
    }

    private static void loss(Check c, SafeTensors.Loaded f, Workspace ws) {
        String name = f.meta("loss");
        Loss loss = switch (name) {
            case "mse_mean" -> Mse.mean();
            case "mse_half_sum" -> Mse.halfSumPerSample();
            case "bce" -> Bce.onProbabilities();
            case "bce_logits" -> Bce.withLogits();
            case "softmax_ce" -> new SoftmaxCrossEntropy();
            default -> throw new AssertionError(c.what + ": unknown loss '" + name + "'");
        };
        Tensor y = c.input("y");
        Tensor ys = ws.of(y.toArray(), y.shape());
        Tensor t = ws.of(c.input("target").toArray(), y.shape());
        Tensor dy = ws.allocate(y.shape());
        double v = loss.valueAndGradient(ys, t, dy);
        // Every loss here is a mean of nonnegative terms, so sum|terms| is the value itself; torch sums the
        // N terms in float (latent in double), and each term (a log or a square) adds a few roundings.
        c.scalar("loss", v, (y.size() + 8) * EPS);
        // Each gradient element is a few roundings of (p - t) / scale on either side; p - t cancels, so the
        // scale is the largest element (at least one target class per row keeps it away from 0).
        c.maxRelative("grad.y", dy, 32 * EPS);
    }

    private static void penalty(Check c, SafeTensors.Loaded f, Kernels k, Workspace ws) {
        Tensor a = c.input("a");
        int b = a.dim(0);
        int[] sample = Arrays.copyOfRange(a.shape(), 1, a.rank());
        String name = f.meta("penalty");
        Tensor as = ws.of(a.toArray(), a.shape());
        Tensor da = ws.allocate(a.shape());
        switch (name) {
            case "kl_sparsity" -> {
                KlSparsity kl = new KlSparsity(Double.parseDouble(f.meta("rho")), Double.parseDouble(f.meta("beta")));
                kl.build(sample, b, k, ws);
                double v = kl.addGradient(as, da);
                // rho_hat is a float mean over B values on both sides; the value adds one sum over the units
                int units = (int) (a.size() / b);
                c.scalar("penalty", v, 2 * (b + units + 16) * EPS);
                c.maxRelative("grad.a", da, 2 * (b + 16) * EPS);
            }
            case "l1_activity" -> {
                L1Activity l1 = new L1Activity(Double.parseDouble(f.meta("beta")));
                l1.build(sample, b, k, ws);
                double v = l1.addGradient(as, da);
                // torch sums the N values |a| in float; the gradient is (beta / B) sign(a), one rounding
                c.scalar("penalty", v, 2 * (a.size() + 8) * EPS);
                c.maxRelative("grad.a", da, 2 * EPS);
            }
            default -> throw new AssertionError(c.what + ": unknown penalty '" + name + "'");
        }
    }

    /** Dense-sigmoid-Dense-sigmoid with KL sparsity on the hidden layer and MSE half-sum: one full step. */
    private static void sparseAutoencoder(Check c, SafeTensors.Loaded f, Kernels k, Workspace ws) {
        Tensor x = c.input("x");
        int b = x.dim(0);
        int n = intMeta(f, "in");
        int m = intMeta(f, "hidden");
        try (Sequential net = new Sequential("ae", List.of(new Dense("enc", n, m), new ActivationLayer("s1", Activation.SIGMOID),
                new Dense("dec", m, n), new ActivationLayer("s2", Activation.SIGMOID)))) {
            net.penalize(1, new KlSparsity(Double.parseDouble(f.meta("rho")), Double.parseDouble(f.meta("beta"))))
                    .build(new int[] {n}, b, k);
            Set<String> names = new TreeSet<>();
            for (Param p : net.params()) {
                names.add(p.name());
                p.value().copyFrom(c.input("param." + p.name()).toArray());
            }
            assertEquals(c.namesWithPrefix("param."), names, c.what + ": the fixture's parameters vs the model's");
            Tensor xs = ws.of(x.toArray(), x.shape());
            Tensor out = net.forward(xs, true);
            net.zeroGrad();
            double loss = Mse.halfSumPerSample().valueAndGradient(out, xs, net.outputGrad());
            double penalty = net.backward(xs, net.outputGrad());
            // Activations in (0, 1): latent's sigmoid promises 1e-5 absolute; the GEMMs before it add
            // (n + 1) eps-scale roundings of O(1) sums, damped by sigmoid' <= 1/4.
            c.maxRelative("hidden", net.activation(1), 2e-5);
            c.maxRelative("y", out, 2e-5);
            // The values and gradients compose two layers of float activations (each within 1e-5 of exact
            // in latent): 1e-4 relative, as the composed step in SequentialVsReferenceTest.
            c.scalar("loss", loss, 1e-4);
            c.scalar("penalty", penalty, 1e-4);
            for (Param p : net.params()) {
                c.maxRelative("grad." + p.name(), p.grad(), 1e-4);
            }
        }
    }

    private static String suffix(Param p) {
        return p.name().substring(p.name().indexOf('.') + 1);
    }

    private static Tensor grad(Layer layer, String name) {
        for (Param p : layer.params()) {
            if (suffix(p).equals(name)) {
                return p.grad();
            }
        }
        throw new AssertionError(layer.name() + " has no parameter '" + name + "'");
    }

    private static int intMeta(SafeTensors.Loaded f, String key) {
        return Integer.parseInt(f.meta(key));
    }

    private static boolean boolMeta(SafeTensors.Loaded f, String key) {
        String v = f.meta(key);
        if (!v.equals("true") && !v.equals("false")) {
            throw new AssertionError(f.file() + ": __metadata__." + key + " = '" + v + "' is not true or false");
        }
        return v.equals("true");
    }

    /**
     * Comparisons against one fixture: records a line per tensor (largest absolute and relative
     * difference, worst ratio to the tolerance) and fails at the end, listing every line, if any tensor
     * is out of tolerance or any reference tensor in the file was never read or compared.
     */
    static final class Check {

        final String what;
        private final SafeTensors.Loaded f;
        private final Set<String> used = new TreeSet<>();
        private final List<String> lines = new ArrayList<>();
        private boolean failed;

        Check(String what, SafeTensors.Loaded f) {
            this.what = what;
            this.f = f;
        }

        Tensor input(String name) {
            used.add(name);
            return f.tensor(name);
        }

        Set<String> namesWithPrefix(String prefix) {
            Set<String> s = new TreeSet<>();
            for (String n : f.tensors().keySet()) {
                if (n.startsWith(prefix)) {
                    s.add(n.substring(prefix.length()));
                }
            }
            return s;
        }

        /** A linear map: |d_i| <= 2 k eps mag_i, mag = sum|terms| from the fixture's float64 run on |.|. */
        void linear(String name, Tensor got, int k) {
            float[] mag = input("mag." + name).toArray();
            compare(name, got, i -> 2.0 * k * EPS * mag[i], "2*k*eps*sum|terms|, k=" + k);
        }

        void exact(String name, Tensor got) {
            compare(name, got, i -> 0.0, "exact");
        }

        /** latent's activation contract (1e-5 max(1, |ref|) against exact) plus torch's few ulps. */
        void activation(String name, Tensor got) {
            float[] ref = f.tensor(name).toArray();
            compare(name, got, i -> 1e-5 * Math.max(1, Math.abs(ref[i])) + 8 * EPS * Math.abs(ref[i]),
                    "1e-5*max(1,|ref|) + 8*eps*|ref|");
        }

        /** |d_i| <= rel * max_j |ref_j|. */
        void maxRelative(String name, Tensor got, double rel) {
            float[] ref = f.tensor(name).toArray();
            double max = 0;
            for (float v : ref) {
                max = Math.max(max, Math.abs(v));
            }
            double tol = rel * max;
            compare(name, got, i -> tol, String.format(Locale.ROOT, "%.2g*max|ref|", rel));
        }

        /** A scalar (shape [] in the fixture): |d| <= rel |ref|. */
        void scalar(String name, double got, double rel) {
            Tensor ref = input(name);
            assertEquals(1, ref.size(), what + ": " + name + " should be a scalar");
            double r = ref.get(0);
            double d = Math.abs(got - r);
            double tol = rel * Math.abs(r);
            record(name, d <= tol, String.format(Locale.ROOT, "%-22s = %.9g vs torch %.9g: |d| %.3g, rel %.3g, %.3g of tol (%.2g*|ref|)",
                    name, got, r, d, d / Math.abs(r), d / tol, rel));
        }

        interface Tol {
            double at(int i);
        }

        void compare(String name, Tensor got, Tol tol, String rule) {
            Tensor refT = input(name);
            float[] ref = refT.toArray();
            float[] g = got.toArray();
            if (g.length != ref.length) {
                record(name, false, name + ": latent has " + Tensor.format(got.shape()) + ", torch " + Tensor.format(refT.shape()));
                return;
            }
            boolean shapeOk = got.rank() == 1 || refT.rank() == got.rank() && Arrays.equals(got.shape(), refT.shape())
                    || name.startsWith("grad.") || name.startsWith("running_");
            double maxAbs = 0;
            double maxRel = 0;
            double worst = 0;
            int at = 0;
            boolean ok = shapeOk;
            for (int i = 0; i < g.length; i++) {
                double d = Math.abs((double) g[i] - ref[i]);
                maxAbs = Math.max(maxAbs, d);
                if (ref[i] != 0) {
                    maxRel = Math.max(maxRel, d / Math.abs(ref[i]));
                } else if (d > 0) {
                    maxRel = Double.POSITIVE_INFINITY;
                }
                double t = tol.at(i);
                double ratio = d == 0 ? 0 : t == 0 ? Double.POSITIVE_INFINITY : d / t;
                if (Double.isNaN(g[i]) || ratio > worst) {
                    worst = Double.isNaN(g[i]) ? Double.POSITIVE_INFINITY : ratio;
                    at = i;
                }
            }
            ok &= worst <= 1;
            record(name, ok, String.format(Locale.ROOT, "%-22s %-14s max|d| %.3g, max rel %.3g, worst %.3g of tol at [%d] "
                    + "(latent %.9g, torch %.9g; tol %s)%s", name, Tensor.format(refT.shape()), maxAbs, maxRel, worst, at, g[at],
                    ref[at], rule, shapeOk ? "" : " SHAPE " + Tensor.format(got.shape())));
        }

        private void record(String name, boolean ok, String line) {
            used.add(name);
            failed |= !ok;
            lines.add((ok ? "  ok   " : "  FAIL ") + line);
        }

        void finish() {
            Set<String> unused = new TreeSet<>(f.tensors().keySet());
            unused.removeAll(used);
            String report = what + "\n" + String.join("\n", lines);
            System.out.println(report);
            assertTrue(unused.isEmpty(), what + ": fixture tensors never compared or read: " + unused + "\n" + report);
            assertFalse(failed, report);
        }

        static int[] batched(int b, int... sample) {
            int[] s = new int[sample.length + 1];
            s[0] = b;
            System.arraycopy(sample, 0, s, 1, sample.length);
            return s;
        }
    }
}
