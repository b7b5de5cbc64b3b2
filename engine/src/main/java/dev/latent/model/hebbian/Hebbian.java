package dev.latent.model.hebbian;

import dev.latent.model.FeatureExtractor;
import dev.latent.model.FeatureGraph;
import dev.latent.model.Hyperparameters;
import dev.latent.model.Hyperparameters.Param;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.io.BadInputException;
import dev.latent.io.ModelFile;
import dev.latent.io.SafeTensors;
import dev.latent.kernel.Activation;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Hebbian learning (seed 003): linear units y = W x whose weights change by a local rule
 * w_ji <- w_ji + F(y_j, x_i), with no error signal, one input row at a time.
 *
 * <ul>
 *   <li>{@link Rule#HEBB}: w_j <- w_j + eta y_j x, Hebb's postulate as it stands. For centered data
 *       the expected update is eta C w_j (C the covariance), so w grows like (1 + eta lambda_1)^t
 *       along the first principal component: <b>without normalization it diverges</b> (the norm
 *       grows without bound, then overflows). With {@code normalize}, w_j is rescaled to unit norm
 *       after every update, which turns the rule into a stochastic power iteration.
 *   <li>{@link Rule#OJA}: w <- w + eta y (x - y w) (Oja 1982). This is why Oja's rule exists: it is
 *       the first-order expansion in eta of "Hebb, then divide by the norm", so the decay term
 *       -eta y^2 w holds ||w|| near 1 with a purely local update, and w converges to the unit first
 *       principal component of the input (one unit; extra units would all find the same component).
 *   <li>{@link Rule#SANGER}: Sanger's generalized Hebbian algorithm (1989),
 *       w_j <- w_j + eta y_j (x - sum_{i<=j} y_i w_i): unit j does Oja's rule on the input with the
 *       components of units 1..j-1 removed, so the k units converge to the top k principal components,
 *       in order of decreasing variance.
 * </ul>
 * The data are centered with their mean (computed in double) unless told otherwise: the rules find
 * eigenvectors of E[x x^T], which are the principal components only for zero-mean inputs. The
 * learning rate decays as eta_t = eta_0 / (1 + t / tau). Weights are kept in double.
 *
 * <p>A model file holds the weights and the mean in float32 (safetensors F32, what every reader
 * takes). The trained model, as a feature extractor ({@link #encode}), is therefore defined on those
 * float32 values, so a model and its loaded copy give the same bits; training a loaded model continues
 * from the float32 weights (and the saved step count, so eta_t continues where it stopped).
 */
public final class Hebbian implements FeatureExtractor {

    /** The learning rules. */
    public enum Rule {
        HEBB, OJA, SANGER;

        public static Rule parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "hebb", "plain" -> HEBB;
                case "oja" -> OJA;
                case "sanger", "gha" -> SANGER;
                default -> throw new IllegalArgumentException("rule must be hebb, oja or sanger, got '" + s + "'");
            };
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final String KIND = "hebbian";

    public static final Param<Rule> RULE = Param.parsed("rule", "rule", "sanger|oja|hebb", Rule.SANGER, Rule::parse, "the learning rule");
    public static final Param<Integer> UNITS = Param.integer("units", 8, 1, 1 << 16, "units (oja: always 1)");
    public static final Param<Boolean> NORMALIZE = Param.bool("normalize", true, "hebb: rescale w_j to unit norm after every update");
    /** The config keys a user chooses (dim comes from the data, steps from training). */
    public static final Hyperparameters HYPERPARAMETERS = Hyperparameters.of(RULE, UNITS, NORMALIZE);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Rule rule;
    private final int units;
    private final int d;
    private final boolean normalize;
    private final double[] w;
    private final double[] mean;
    private final double[] x;
    private final double[] y;
    private final double[] back;
    private long steps;

    /** k units on d inputs, weights drawn from N(0, 1/d) (seeded); {@code normalize} applies to {@link Rule#HEBB}. */
    public Hebbian(Rule rule, int units, int d, boolean normalize, long seed) {
        if (units < 1 || d < 1) {
            throw new IllegalArgumentException("units and d must be >= 1");
        }
        if (rule == Rule.OJA && units != 1) {
            throw new IllegalArgumentException("Oja's rule is for one unit; use sanger for " + units);
        }
        this.rule = rule;
        this.units = units;
        this.d = d;
        this.normalize = normalize;
        this.w = new double[units * d];
        this.mean = new double[d];
        this.x = new double[d];
        this.y = new double[units];
        this.back = new double[d];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < w.length; i++) {
            w[i] = r.nextGaussian() / Math.sqrt(d);
        }
    }

    public Rule rule() {
        return rule;
    }

    public int units() {
        return units;
    }

    public int dim() {
        return d;
    }

    /** Updates applied so far. */
    public long steps() {
        return steps;
    }

    /** Sets the mean subtracted from every input (d values). */
    public void setMean(double[] m) {
        System.arraycopy(m, 0, mean, 0, d);
    }

    /** The weight vector of unit j (a copy). */
    public double[] weight(int j) {
        double[] out = new double[d];
        System.arraycopy(w, j * d, out, 0, d);
        return out;
    }

    /** Euclidean norm of unit j's weights. */
    public double norm(int j) {
        double s = 0;
        for (int i = 0; i < d; i++) {
            s += w[j * d + i] * w[j * d + i];
        }
        return Math.sqrt(s);
    }

    /** Applies the rule once to row {@code row} of {@code data} with rate eta. */
    public void update(MemorySegment data, long floatOffset, double eta) {
        for (int i = 0; i < d; i++) {
            x[i] = data.getAtIndex(ValueLayout.JAVA_FLOAT, floatOffset + i) - mean[i];
        }
        for (int j = 0; j < units; j++) {
            double s = 0;
            for (int i = 0; i < d; i++) {
                s += w[j * d + i] * x[i];
            }
            y[j] = s;
        }
        switch (rule) {
            case HEBB -> {
                for (int j = 0; j < units; j++) {
                    double a = eta * y[j];
                    for (int i = 0; i < d; i++) {
                        w[j * d + i] += a * x[i];
                    }
                    if (normalize) {
                        double n = norm(j);
                        if (n > 0) {
                            for (int i = 0; i < d; i++) {
                                w[j * d + i] /= n;
                            }
                        }
                    }
                }
            }
            case OJA, SANGER -> {
                // back = sum_{i<=j} y_i w_i, built up unit by unit (for Oja, j = 0 only).
                java.util.Arrays.fill(back, 0);
                for (int j = 0; j < units; j++) {
                    double yj = y[j];
                    int at = j * d;
                    for (int i = 0; i < d; i++) {
                        back[i] += yj * w[at + i];
                    }
                    double a = eta * yj;
                    for (int i = 0; i < d; i++) {
                        w[at + i] += a * (x[i] - back[i]);
                    }
                }
            }
        }
        steps++;
    }

    /**
     * Training settings: epochs over the rows in a seeded order, eta_t = eta0 / (1 + t / tau), centering
     * on the data mean.
     */
    public record Schedule(int epochs, double eta0, double tau, boolean center, long seed) {
    }

    /** Trains on the rows of data (N, d); returns this. Stops early if a weight becomes non-finite. */
    public Hebbian fit(Tensor data, Schedule s) {
        int n = data.dim(0);
        if (data.rowSize() != d) {
            throw new IllegalArgumentException("Hebbian units on " + d + " inputs got rows of " + data.rowSize());
        }
        if (s.center()) {
            setMean(dev.latent.data.Whitening.mean(data));
        }
        SplittableRandom r = new SplittableRandom(s.seed());
        int[] order = java.util.stream.IntStream.range(0, n).toArray();
        MemorySegment seg = data.segment();
        for (int e = 0; e < s.epochs(); e++) {
            for (int i = n - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            for (int i = 0; i < n; i++) {
                double eta = s.eta0() / (1 + steps / s.tau());
                update(seg, data.offset() + (long) order[i] * d, eta);
            }
            if (!Double.isFinite(norm(0))) {
                break;
            }
        }
        return this;
    }

    /** The weights as a (units, d) tensor in {@code ws}. */
    public Tensor weights(Workspace ws) {
        Tensor t = ws.allocate(units, d);
        for (int i = 0; i < w.length; i++) {
            t.set(i, (float) w[i]);
        }
        return t;
    }

    /** The mean subtracted from every input (a copy). */
    public double[] mean() {
        return mean.clone();
    }

    /**
     * Writes the projections y = W (x - mean) of the rows of x (N, d) into y (N, units), with W and the
     * mean rounded to float32 as a model file stores them (the products summed in double, then rounded).
     */
    public void encode(Tensor x, Tensor out) {
        int n = x.dim(0);
        if (x.rowSize() != d || out.dim(0) != n || out.rowSize() != units) {
            throw new IllegalArgumentException("Hebbian encode: input (N, " + d + ") and output (N, " + units + ") expected, got "
                    + Tensor.format(x.shape()) + " and " + Tensor.format(out.shape()));
        }
        float[] wf = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            wf[i] = (float) w[i];
        }
        float[] centered = new float[d];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < d; i++) {
                centered[i] = x.get((long) r * d + i) - (float) mean[i];
            }
            for (int j = 0; j < units; j++) {
                double acc = 0;
                for (int i = 0; i < d; i++) {
                    acc += (double) wf[j * d + i] * centered[i];
                }
                out.set((long) r * units + j, (float) acc);
            }
        }
    }

    /** y = W (x - mean), with W and the mean rounded to float32 (heap tensors made for the graph). */
    @Override
    public FeatureGraph featureGraph() {
        float[] wf = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            wf[i] = (float) w[i];
        }
        float[] mf = new float[d];
        for (int i = 0; i < d; i++) {
            mf[i] = (float) mean[i];
        }
        return new FeatureGraph(new int[] {d}, List.of(new FeatureGraph.Center("mean", Tensor.wrap(MemorySegment.ofArray(mf), 0, d)),
                new FeatureGraph.Dense("hebbian", Tensor.wrap(MemorySegment.ofArray(wf), 0, units, d), null, Activation.IDENTITY)));
    }

    /** Writes a model file without extra config fields: see {@link #save(Path, Map, String)}. */
    public void save(Path file, Map<String, String> provenance) throws IOException {
        save(file, provenance, "{}");
    }

    /**
     * Writes a model file (kind hebbian): tensors weight (units, d) and mean (d), both float32;
     * {@code __metadata__.config} is {@code configJson} (a JSON object of the caller's training settings)
     * with the fields {@link #load} needs set: rule, units, dim, normalize and steps.
     */
    public void save(Path file, Map<String, String> provenance, String configJson) throws IOException {
        ObjectNode config;
        try {
            JsonNode given = JSON.readTree(configJson);
            if (given == null || !given.isObject()) {
                throw new IllegalArgumentException("Hebbian config must be a JSON object, got " + configJson);
            }
            config = (ObjectNode) given;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("Hebbian config is not JSON: " + configJson, e);
        }
        config.put("rule", rule.toString()).put("units", units).put("dim", d).put("normalize", normalize).put("steps", steps);
        try (Workspace ws = new Workspace("hebbian-save")) {
            Tensor m = ws.allocate(d);
            for (int i = 0; i < d; i++) {
                m.set(i, (float) mean[i]);
            }
            Map<String, Tensor> t = new LinkedHashMap<>();
            t.put("weight", weights(ws));
            t.put("mean", m);
            SafeTensors.write(file, t, ModelFile.metadata(KIND, config.toString(), null, provenance));
        }
    }

    /**
     * Loads a model file written by {@link #save}: the weights and the mean are the file's float32
     * values; the rule, normalization and step count come from the config. Defects are
     * {@link BadInputException}s naming the file and the field.
     */
    public static Hebbian load(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.Loaded l = SafeTensors.read(file, arena);
            ModelFile.requireKind(l, KIND);
            JsonNode c = ModelFile.json(l, "config");
            String where = file + ": __metadata__.config";
            Rule rule;
            try {
                rule = Rule.parse(field(c, "rule", where).asText());
            } catch (IllegalArgumentException e) {
                throw new BadInputException(where + ".rule: " + e.getMessage(), e);
            }
            int units = positive(c, "units", where);
            int d = positive(c, "dim", where);
            JsonNode normalize = field(c, "normalize", where);
            JsonNode steps = field(c, "steps", where);
            if (!normalize.isBoolean()) {
                throw new BadInputException(where + ".normalize must be true or false, got " + normalize);
            }
            if (!steps.isIntegralNumber() || !steps.canConvertToLong() || steps.asLong() < 0) {
                throw new BadInputException(where + ".steps must be an integer >= 0, got " + steps);
            }
            Tensor weight = l.tensor("weight", units, d);
            Tensor mean = l.tensor("mean", d);
            ModelFile.requireOnly(l, Set.of("weight", "mean"), KIND);
            Hebbian h;
            try {
                h = new Hebbian(rule, units, d, normalize.asBoolean(), 0);
            } catch (IllegalArgumentException e) {
                throw new BadInputException(where + ": " + e.getMessage(), e);
            }
            for (int i = 0; i < h.w.length; i++) {
                h.w[i] = weight.get(i);
            }
            for (int i = 0; i < d; i++) {
                h.mean[i] = mean.get(i);
            }
            h.steps = steps.asLong();
            return h;
        }
    }

    private static JsonNode field(JsonNode c, String name, String where) {
        JsonNode v = c.get(name);
        if (v == null || v.isNull()) {
            throw new BadInputException(where + "." + name + " is missing");
        }
        return v;
    }

    private static int positive(JsonNode c, String name, String where) {
        JsonNode v = field(c, name, where);
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1) {
            throw new BadInputException(where + "." + name + " must be an integer >= 1, got " + v);
        }
        return v.asInt();
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public int[] inputShape() {
        return new int[] {d};
    }

    /** One feature per unit: the projections y = W (x - mean). */
    @Override
    public int featureSize() {
        return units;
    }

    @Override
    public void features(Tensor x, Tensor out) {
        requireShapes(x, out);
        encode(x, out);
    }

    /** Nothing to free: the weights live on the heap. */
    @Override
    public void close() {
    }
}
