package dev.latent.eval;

import dev.latent.kernel.Kernels;
import dev.latent.kernel.Transpose;
import dev.latent.optim.Lbfgs;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;

/**
 * The few-label head on frozen features: multinomial logistic regression, trained to convergence by
 * full-batch L-BFGS ({@link Lbfgs}), its L2 strength chosen by cross-validation on the labelled draw.
 *
 * <p>Model: logits z = W x / sqrt(d) + b for a row x of d features, W (classes x d), b (classes).
 * Objective: J = (1/n) sum_i [logsumexp(z_i) - z_i,y_i] + (lambda / 2) ||W||^2, the bias not decayed.
 * Gradient: with P the softmax of z and Y the one-hot labels, D = (P - Y) / n (n x classes),
 * dJ/dW = D^T X / sqrt(d) + lambda W and dJ/db = column sums of D.
 *
 * <p>Why 1 / sqrt(d): the features come standardized (unit variance per column, {@link FewLabel#standardize}),
 * so a row's squared norm grows with d; divided by sqrt(d) it is at most about 1 whatever d is, the Gram
 * matrix X X^T / d has a unit diagonal, and one lambda means the same penalty relative to the data term
 * for 100 features as for 10,000.
 *
 * <p>Training: from W = 0, b = 0, L-BFGS (memory 20) until |grad J| &lt; {@link Settings#tolerance} or
 * {@link Settings#maxIterations}. lambda comes from {@link Settings#lambdas} (strongest first) by stratified
 * k-fold cross-validation ({@link CrossValidation}) on the draw alone, k = min(5, labels per class); each
 * fold walks the grid from the strongest lambda down, warm-starting every fit from the previous one
 * (the regularization path), and the final fit on the whole draw walks the same path down to the chosen
 * lambda. With 1 label per class a held-out row's class is absent from its training folds (leave-one-out
 * would score every lambda 0), so lambda is then {@link Settings#singleLabelLambda}. The logits and their
 * gradient are two GEMMs of the kernels (float); the softmax, loss and penalty are summed in double. The
 * same draw, settings and kernel provider give the same bits.
 */
public final class LogisticHead {

    /**
     * The lambda grid (strongest first), the default for 1 label per class, and the convergence test.
     * Defaults ({@link #defaults}): lambda in {0.1, 0.01, ..., 1e-5}; 1e-2 at 1 label per class (a strong
     * penalty for 10 rows; cross-validation picks 1e-3 at 10 labels per class and 1e-5 at 100 on the
     * demo's raw pixels, so it falls with the draw's size); |grad| &lt; 1e-4 within 500 iterations: the
     * reference pipeline trains to convergence, and on k-means features (1,600 of them) 1e-3 and 150
     * iterations stopped early enough to cost 0.4 points at 100 labels per class (94.8 against 95.2;
     * 1e-5 and 1,000 iterations gave 95.3 at three times the cost).
     */
    public record Settings(double[] lambdas, double singleLabelLambda, int maxIterations, double tolerance) {
        public Settings {
            if (lambdas.length == 0) {
                throw new IllegalArgumentException("the lambda grid is empty");
            }
            for (int i = 0; i < lambdas.length; i++) {
                if (!(lambdas[i] >= 0) || Double.isInfinite(lambdas[i]) || (i > 0 && lambdas[i] >= lambdas[i - 1])) {
                    throw new IllegalArgumentException("lambdas must be finite, >= 0 and decreasing, got " + java.util.Arrays.toString(lambdas));
                }
            }
            lambdas = lambdas.clone();
        }

        public static Settings defaults() {
            return new Settings(new double[] {1e-1, 1e-2, 1e-3, 1e-4, 1e-5}, 1e-2, 500, 1e-4);
        }
    }

    /** A trained head: its lambda, the cross-validated accuracy of every grid value (empty without CV), W and b. */
    public record Fit(double lambda, double[] cvAccuracy, float[] weights, float[] bias, int features) {

        /** The predicted class of every row of x (rows of {@link #features}). */
        public int[] predict(Tensor x, Kernels k) {
            int n = x.dim(0);
            int d = x.rowSize();
            if (d != features) {
                throw new IllegalArgumentException("head reads rows of " + features + " features, got " + d);
            }
            int classes = bias.length;
            int[] out = new int[n];
            try (Workspace ws = new Workspace("logistic-predict")) {
                Tensor w = ws.of(weights, classes, d);
                int chunk = 1024;
                Tensor z = ws.allocate(Math.min(chunk, Math.max(n, 1)), classes);
                for (int from = 0; from < n; from += chunk) {
                    int m = Math.min(chunk, n - from);
                    k.gemm().gemm(Transpose.N, Transpose.T, m, classes, d, (float) (1 / Math.sqrt(d)),
                            x.segment(), x.offset() + (long) from * d, d, w.segment(), w.offset(), d, 0f, z.segment(), z.offset(), classes);
                    for (int i = 0; i < m; i++) {
                        int best = 0;
                        double bestZ = Double.NEGATIVE_INFINITY;
                        for (int c = 0; c < classes; c++) {
                            double v = z.get((long) i * classes + c) + bias[c];
                            if (v > bestZ) {
                                bestZ = v;
                                best = c;
                            }
                        }
                        out[from + i] = best;
                    }
                }
            }
            return out;
        }

        /** Fraction of rows of x predicted as their label. */
        public double accuracy(Tensor x, int[] labels, Kernels k) {
            return rightAnswers(predict(x, k), labels) / (double) labels.length;
        }
    }

    private LogisticHead() {
    }

    /**
     * Trains on the rows of x (n x d) with labels in 0..classes-1, lambda chosen by cross-validation on
     * these rows alone (folds seeded with {@code seed}).
     */
    public static Fit train(Tensor x, int[] labels, int classes, Settings s, long seed, Kernels k) {
        check(x, labels, classes);
        int k0 = CrossValidation.foldsFor(minPerClass(labels, classes));
        double[] lambdas = s.lambdas();
        int chosen;
        double[] cv;
        if (k0 < 2) {
            return fitAt(x, labels, classes, new double[] {s.singleLabelLambda()}, s, k, new double[0]);
        }
        try (Workspace ws = new Workspace("logistic-cv")) {
            CrossValidation.Choice c = CrossValidation.choose(labels, k0, seed, lambdas.length, (train, held) -> {
                Tensor xt = FewLabel.gather(x, train, ws);
                Tensor xh = FewLabel.gather(x, held, ws);
                int[] yt = pick(labels, train);
                int[] yh = pick(labels, held);
                int[] right = new int[lambdas.length];
                try (Problem p = new Problem(xt, yt, classes, k)) {
                    for (int g = 0; g < lambdas.length; g++) {
                        p.minimize(lambdas[g], s);
                        right[g] = rightAnswers(p.fit(lambdas[g], null).predict(xh, k), yh);
                    }
                }
                return right;
            });
            chosen = c.index();
            cv = c.accuracy();
        }
        return fitAt(x, labels, classes, java.util.Arrays.copyOf(lambdas, chosen + 1), s, k, cv);
    }

    /** Trains at one lambda (from zero parameters, no cross-validation). */
    public static Fit train(Tensor x, int[] labels, int classes, double lambda, Settings s, Kernels k) {
        check(x, labels, classes);
        return fitAt(x, labels, classes, new double[] {lambda}, s, k, new double[0]);
    }

    /**
     * J(theta) and its gradient for theta = [W (classes x d) row-major, b (classes)] on the rows of x: the
     * objective of the class documentation, for tests against a double-precision twin.
     */
    public static double objective(Tensor x, int[] labels, int classes, double lambda, float[] theta, float[] grad, Kernels k) {
        check(x, labels, classes);
        try (Problem p = new Problem(x, labels, classes, k)) {
            p.theta.copyFrom(theta);
            p.lambda = lambda;
            double f = p.valueAndGradient();
            float[] g = p.grad.toArray();
            System.arraycopy(g, 0, grad, 0, g.length);
            return f;
        }
    }

    private static Fit fitAt(Tensor x, int[] labels, int classes, double[] path, Settings s, Kernels k, double[] cv) {
        try (Problem p = new Problem(x, labels, classes, k)) {
            for (double lambda : path) {
                p.minimize(lambda, s);
            }
            return p.fit(path[path.length - 1], cv);
        }
    }

    private static void check(Tensor x, int[] labels, int classes) {
        if (x.dim(0) != labels.length) {
            throw new IllegalArgumentException(x.dim(0) + " feature rows but " + labels.length + " labels");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("label " + labels[i] + " at row " + i + " outside 0.." + (classes - 1));
            }
        }
    }

    static int minPerClass(int[] labels, int classes) {
        int[] count = new int[classes];
        for (int y : labels) {
            count[y]++;
        }
        int min = Integer.MAX_VALUE;
        for (int c : count) {
            if (c > 0) {
                min = Math.min(min, c);
            }
        }
        return min == Integer.MAX_VALUE ? 0 : min;
    }

    static int[] pick(int[] labels, int[] rows) {
        int[] out = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            out[i] = labels[rows[i]];
        }
        return out;
    }

    static int rightAnswers(int[] predicted, int[] labels) {
        int right = 0;
        for (int i = 0; i < labels.length; i++) {
            if (predicted[i] == labels[i]) {
                right++;
            }
        }
        return right;
    }

    /** One training set: the parameters, their gradient and the n x classes work matrices, allocated once. */
    private static final class Problem implements AutoCloseable {
        private final Tensor x;
        private final int[] y;
        private final int n;
        private final int d;
        private final int classes;
        private final float alpha;
        private final Kernels k;
        private final Workspace ws;
        private final Tensor theta;
        private final Tensor grad;
        private final Tensor z;
        private double lambda;

        Problem(Tensor x, int[] y, int classes, Kernels k) {
            this.x = x;
            this.y = y;
            this.n = x.dim(0);
            this.d = x.rowSize();
            this.classes = classes;
            this.alpha = (float) (1 / Math.sqrt(d));
            this.k = k;
            this.ws = new Workspace("logistic-head");
            this.theta = ws.allocate(classes * d + classes);
            this.grad = ws.allocate(classes * d + classes);
            this.z = ws.allocate(Math.max(n, 1), classes);
        }

        void minimize(double lambda, Settings s) {
            this.lambda = lambda;
            try (Lbfgs opt = new Lbfgs(theta, grad, 20, k)) {
                opt.minimize(this::valueAndGradient, s.maxIterations(), s.tolerance(), null);
            }
        }

        double valueAndGradient() {
            long wAt = theta.offset();
            long bAt = wAt + (long) classes * d;
            // z = X W^T / sqrt(d): (n x d) (d x classes).
            k.gemm().gemm(Transpose.N, Transpose.T, n, classes, d, alpha, x.segment(), x.offset(), d,
                    theta.segment(), wAt, d, 0f, z.segment(), z.offset(), classes);
            double loss = 0;
            double[] gb = new double[classes];
            double[] row = new double[classes];
            for (int i = 0; i < n; i++) {
                long at = (long) i * classes;
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < classes; c++) {
                    row[c] = z.get(at + c) + theta.get((long) classes * d + c);
                    max = Math.max(max, row[c]);
                }
                double sum = 0;
                for (int c = 0; c < classes; c++) {
                    sum += Math.exp(row[c] - max);
                }
                double lse = max + Math.log(sum);
                loss += lse - row[y[i]];
                for (int c = 0; c < classes; c++) {
                    double dz = (Math.exp(row[c] - lse) - (c == y[i] ? 1 : 0)) / n;
                    gb[c] += dz;
                    z.set(at + c, (float) dz);
                }
            }
            // dW = D^T X / sqrt(d) + lambda W: (classes x n) (n x d).
            k.gemm().gemm(Transpose.T, Transpose.N, classes, d, n, alpha, z.segment(), z.offset(), classes,
                    x.segment(), x.offset(), d, 0f, grad.segment(), grad.offset(), d);
            double penalty = 0;
            int wSize = classes * d;
            for (int j = 0; j < wSize; j++) {
                double w = theta.get(j);
                penalty += w * w;
            }
            if (lambda != 0) {
                k.elementwise().axpy(wSize, (float) lambda, theta.segment(), wAt, grad.segment(), grad.offset());
            }
            for (int c = 0; c < classes; c++) {
                grad.set(wSize + c, (float) gb[c]);
            }
            return loss / n + 0.5 * lambda * penalty;
        }

        Fit fit(double lambda, double[] cv) {
            float[] all = theta.toArray();
            float[] w = java.util.Arrays.copyOf(all, classes * d);
            float[] b = java.util.Arrays.copyOfRange(all, classes * d, all.length);
            return new Fit(lambda, cv == null ? new double[0] : cv, w, b, d);
        }

        @Override
        public void close() {
            ws.close();
        }
    }
}
