package dev.latent.eval;

import dev.latent.model.Classifier;
import dev.latent.model.gan.Gan;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Vector arithmetic in a generator's noise space where labels exist (Radford, Metz, Chintala 2015,
 * section 6.3): concepts are the averages of a few z vectors (3 in the paper) whose samples show them,
 * and z(thick a) - z(thin a) + z(thin b) should draw a thick b: the thickness of a moves to b while b
 * stays b.
 *
 * <p>Concepts come from a classifier trained on real labelled images: {@code candidates} noise vectors
 * are drawn from the seed and generated (in batches of maxBatch, as samples are); a candidate shows digit
 * c when the classifier's most probable class is c with probability at least {@code minConfidence} (if
 * fewer than 2 x perConcept pass, the 2 x perConcept most probable of those labelled c). Stroke thickness
 * is measured as ink mass, the sum of the image's values in [0, 1]: thin(c) averages the z of the
 * perConcept lightest such candidates, thick(c) of the perConcept heaviest.
 *
 * <p>For every class b with concepts, taking a = the next class with concepts (cyclically), one row of
 * four images: thick(a), thin(a), thin(b), and thick(a) - thin(a) + thin(b); the four vectors of every
 * row are rendered among random draws ({@link Gan#generateAmong}). Each row reports what is true of it:
 * the classifier's label of the result (does b stay b?) and the ink of the result against thin(b)
 * (did the thickness move?).
 */
public final class GanArithmetic {

    /** Images per row: thick(a), thin(a), thin(b), result. */
    public static final int COLUMNS = 4;

    /** One equation thick(a) - thin(a) + thin(b): the classes, the result's label and confidence, and ink masses. */
    public record Row(int from, int to, int resultLabel, double resultConfidence, double inkThickFrom, double inkThinFrom,
                      double inkThinTo, double inkResult) {
        /** The classifier still sees b in the result. */
        public boolean labelKept() {
            return resultLabel == to;
        }

        /** The result has more ink than thin(b). */
        public boolean inkRose() {
            return inkResult > inkThinTo;
        }
    }

    /** The rows and their images (rows * 4, C*S*S) in [0, 1], row-major. */
    public record Result(List<Row> rows, Tensor images) {
        public double labelKeptFraction() {
            return rows.stream().filter(Row::labelKept).count() / (double) rows.size();
        }

        public double inkRoseFraction() {
            return rows.stream().filter(Row::inkRose).count() / (double) rows.size();
        }

        /** Mean over rows of ink(result) / ink(thin b). */
        public double meanInkRatio() {
            return rows.stream().mapToDouble(r -> r.inkResult() / Math.max(r.inkThinTo(), 1e-9)).average().orElse(Double.NaN);
        }
    }

    private GanArithmetic() {
    }

    /** Stroke-thickness arithmetic; see the class comment. The images are allocated in {@code out}. */
    public static Result thickness(Gan gan, Classifier classifier, int candidates, int perConcept, double minConfidence, long seed,
                                   Workspace out) {
        return thickness(gan, classifier, candidates, perConcept, minConfidence, seed, false, out);
    }

    /**
     * As above; with {@code rescale}, each concept's mean is multiplied by sqrt(perConcept), which gives an
     * average of m independent N(0, I) draws the spread of one draw again (the plain mean is shorter by
     * sqrt(m), and a generator trained on draws renders short vectors as faint strokes).
     */
    public static Result thickness(Gan gan, Classifier classifier, int candidates, int perConcept, double minConfidence, long seed,
                                   boolean rescale, Workspace out) {
        Gan.Config c = gan.config();
        if (perConcept < 1 || candidates < 2 * perConcept) {
            throw new IllegalArgumentException("arithmetic: need perConcept >= 1 and candidates >= 2 perConcept, got " + perConcept
                    + ", " + candidates);
        }
        try (Workspace tmp = new Workspace("gan-arithmetic")) {
            Tensor z = tmp.allocate(candidates, c.z());
            Gan.fillGaussian(z, new SplittableRandom(seed));
            Tensor images = tmp.allocate(candidates, c.pixels());
            gan.generate(z, images);
            Tensor probs = classifier.probabilities(images, tmp);
            int classes = probs.rowSize();
            double[] ink = ink(images);
            float[][] thin = new float[classes][];
            float[][] thick = new float[classes][];
            for (int cls = 0; cls < classes; cls++) {
                int[] shown = shows(probs, cls, minConfidence, 2 * perConcept);
                if (shown.length < 2 * perConcept) {
                    continue;
                }
                int[] byInk = Arrays.stream(shown).boxed().sorted(Comparator.comparingDouble(i -> ink[i]))
                        .mapToInt(Integer::intValue).toArray();
                float scale = rescale ? (float) Math.sqrt(perConcept) : 1f;
                thin[cls] = meanRows(z, Arrays.copyOfRange(byInk, 0, perConcept), scale);
                thick[cls] = meanRows(z, Arrays.copyOfRange(byInk, byInk.length - perConcept, byInk.length), scale);
            }
            int[] present = IntStream.range(0, classes).filter(cls -> thin[cls] != null).toArray();
            if (present.length < 2) {
                throw new IllegalStateException("arithmetic: the classifier recognises only " + present.length + " class(es) among "
                        + candidates + " samples; the generator has not learned the digits yet (train longer)");
            }
            Tensor query = tmp.allocate(present.length * COLUMNS, c.z());
            for (int r = 0; r < present.length; r++) {
                int b = present[r];
                int a = present[(r + 1) % present.length];
                float[] result = new float[c.z()];
                for (int i = 0; i < result.length; i++) {
                    result[i] = thick[a][i] - thin[a][i] + thin[b][i];
                }
                float[][] row = {thick[a], thin[a], thin[b], result};
                for (int col = 0; col < COLUMNS; col++) {
                    query.row(r * COLUMNS + col).copyFrom(row[col]);
                }
            }
            Tensor drawn = out.allocate(present.length * COLUMNS, c.pixels());
            gan.generateAmong(query, drawn, seed + 1);
            Tensor drawnProbs = classifier.probabilities(drawn, tmp);
            double[] drawnInk = ink(drawn);
            List<Row> rows = new ArrayList<>();
            for (int r = 0; r < present.length; r++) {
                int at = r * COLUMNS;
                int res = at + 3;
                int label = argmax(drawnProbs, res);
                rows.add(new Row(present[(r + 1) % present.length], present[r], label,
                        drawnProbs.get((long) res * classes + label), drawnInk[at], drawnInk[at + 1], drawnInk[at + 2], drawnInk[res]));
            }
            return new Result(List.copyOf(rows), drawn);
        }
    }

    /** Candidates labelled cls with probability >= minConfidence, or the {@code atLeast} most probable labelled cls. */
    private static int[] shows(Tensor probs, int cls, double minConfidence, int atLeast) {
        int n = probs.dim(0);
        int classes = probs.rowSize();
        int[] labelled = IntStream.range(0, n).filter(i -> argmax(probs, i) == cls).boxed()
                .sorted(Comparator.comparingDouble(i -> -probs.get((long) i * classes + cls))).mapToInt(Integer::intValue).toArray();
        int confident = (int) Arrays.stream(labelled).filter(i -> probs.get((long) i * classes + cls) >= minConfidence).count();
        return Arrays.copyOf(labelled, Math.min(labelled.length, Math.max(confident, atLeast)));
    }

    private static int argmax(Tensor probs, int row) {
        int classes = probs.rowSize();
        int best = 0;
        for (int k = 1; k < classes; k++) {
            if (probs.get((long) row * classes + k) > probs.get((long) row * classes + best)) {
                best = k;
            }
        }
        return best;
    }

    /** Ink mass of every image: the sum of its values in [0, 1]. */
    static double[] ink(Tensor images01) {
        double[] out = new double[images01.dim(0)];
        int px = images01.rowSize();
        for (int i = 0; i < out.length; i++) {
            double s = 0;
            for (int j = 0; j < px; j++) {
                s += images01.get((long) i * px + j);
            }
            out[i] = s;
        }
        return out;
    }

    private static float[] meanRows(Tensor z, int[] rows, float scale) {
        int d = z.rowSize();
        double[] sum = new double[d];
        for (int r : rows) {
            for (int i = 0; i < d; i++) {
                sum[i] += z.get((long) r * d + i);
            }
        }
        float[] mean = new float[d];
        for (int i = 0; i < d; i++) {
            mean[i] = (float) (scale * sum[i] / rows.length);
        }
        return mean;
    }
}
