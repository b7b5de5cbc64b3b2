package dev.latent.nn;

import static dev.latent.nn.LayerData.build;
import static dev.latent.nn.LayerData.random;

import dev.latent.kernel.Kernels;
import dev.latent.prop.Shrinkable;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@link Lstm} against its double twin {@link #forward} / {@link #backward} (the formulas of the
 * class comment as plain loops, backpropagation through time written out step by step), with a
 * random initial state (h_0, c_0) that the twin captures. Parameters U(-1, 1) (LayerData.random) make
 * the gates reach saturation. Tolerances: norm-wise relative 1e-5 for forward and 1e-4 for the
 * gradients: the float layer chains T steps of GEMMs (sums of I + H + 1 terms) through sigm/tanh in
 * float, whose rounding (a few eps = 1.2e-7 a step, amplified by at most |U| H through the
 * recurrence) stays well below, while a wrong gate or a missing recurrent term is off by O(1).
 * The twin's own gradients are checked by central finite differences by the contract.
 */
class LstmLayerTest implements LayerContract<LstmLayerTest.Shape> {

    record Shape(int batch, int steps, int in, int hidden) implements Shrinkable<Shape> {
        @Override
        public List<Shape> smaller() {
            List<Shape> s = new ArrayList<>();
            if (batch > 1) {
                s.add(new Shape(batch / 2, steps, in, hidden));
            }
            if (steps > 1) {
                s.add(new Shape(batch, steps / 2, in, hidden));
            }
            if (in > 1) {
                s.add(new Shape(batch, steps, in / 2, hidden));
            }
            if (hidden > 1) {
                s.add(new Shape(batch, steps, in, hidden / 2));
            }
            return s;
        }

        @Override
        public String toString() {
            return "lstm B=" + batch + " T=" + steps + " " + in + " -> " + hidden;
        }
    }

    @Override
    public String family() {
        return "lstm";
    }

    @Override
    public List<Shape> edges() {
        return List.of(new Shape(1, 1, 1, 1), new Shape(2, 5, 3, 4), new Shape(3, 2, 9, 17), new Shape(1, 7, 1, 2));
    }

    @Override
    public Shape randomShape(SplittableRandom r) {
        return new Shape(LayerData.batch(r, 5), 1 + r.nextInt(6), 1 + r.nextInt(12), 1 + r.nextInt(10));
    }

    @Override
    public LayerSubject setUp(Shape s, Kernels k, Workspace ws, SplittableRandom r) {
        Lstm l = new Lstm("lstm", s.steps(), s.in(), s.hidden());
        build(l, new int[] {s.steps(), s.in()}, s.batch(), k, ws);
        for (Param p : l.params()) {
            p.value().copyFrom(random(r, (int) p.size()));
        }
        int b = s.batch();
        float[] h0 = random(r, b * s.hidden());
        float[] c0 = random(r, b * s.hidden());
        l.initialHidden().copyFrom(h0);
        l.initialCell().copyFrom(c0);
        double[] h0d = LayerData.dbl(h0);
        double[] c0d = LayerData.dbl(c0);
        return LayerSubject.of(s.toString(), l, new int[] {s.steps(), s.in()}, b, random(r, b * s.steps() * s.in()))
                .output(s.steps(), s.hidden())
                .twin(() -> new Twin((x, p) -> forward(s, x, p, h0d, c0d).y,
                        (x, p, dy) -> backward(s, x, p, h0d, c0d, dy)))
                .tolerances(Tolerance.norm(1e-5), Tolerance.norm(1e-4))
                .refuses(s.steps() + 1, s.in())
                .refuses(s.steps(), s.in() + 1)
                .refuses(s.steps() * s.in());
    }

    /** The forward's values: y (B,T,H), and per (b, t) the gates i, f, o, g and the cell c. */
    record Run(double[] y, double[][][] gates, double[][][] cells) {
    }

    static double sigm(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    static Run forward(Shape s, double[] x, double[][] p, double[] h0, double[] c0) {
        int bN = s.batch(), tN = s.steps(), iN = s.in(), h = s.hidden();
        double[] w = p[0], u = p[1], bias = p[2];
        double[] y = new double[bN * tN * h];
        double[][][] gates = new double[bN][tN][4 * h];
        double[][][] cells = new double[bN][tN][h];
        for (int b = 0; b < bN; b++) {
            double[] hp = java.util.Arrays.copyOfRange(h0, b * h, b * h + h);
            double[] cp = java.util.Arrays.copyOfRange(c0, b * h, b * h + h);
            for (int t = 0; t < tN; t++) {
                double[] z = new double[4 * h];
                for (int g = 0; g < 4 * h; g++) {
                    double sum = bias[g];
                    for (int i = 0; i < iN; i++) {
                        sum += x[(b * tN + t) * iN + i] * w[g * iN + i];
                    }
                    for (int j = 0; j < h; j++) {
                        sum += hp[j] * u[g * h + j];
                    }
                    z[g] = sum;
                }
                double[] hn = new double[h];
                for (int j = 0; j < h; j++) {
                    double ig = sigm(z[j]), fg = sigm(z[h + j]), og = sigm(z[2 * h + j]), gg = Math.tanh(z[3 * h + j]);
                    gates[b][t][j] = ig;
                    gates[b][t][h + j] = fg;
                    gates[b][t][2 * h + j] = og;
                    gates[b][t][3 * h + j] = gg;
                    double c = fg * cp[j] + ig * gg;
                    cells[b][t][j] = c;
                    hn[j] = og * Math.tanh(c);
                    y[(b * tN + t) * h + j] = hn[j];
                }
                hp = hn;
                cp = cells[b][t];
            }
        }
        return new Run(y, gates, cells);
    }

    /** {dx, dW, dU, db} by backpropagation through time. */
    static double[][] backward(Shape s, double[] x, double[][] p, double[] h0, double[] c0, double[] dy) {
        int bN = s.batch(), tN = s.steps(), iN = s.in(), h = s.hidden();
        Run run = forward(s, x, p, h0, c0);
        double[] w = p[0], u = p[1];
        double[] dx = new double[x.length];
        double[] dw = new double[w.length];
        double[] du = new double[u.length];
        double[] db = new double[4 * h];
        for (int b = 0; b < bN; b++) {
            double[] dhNext = new double[h];
            double[] dcNext = new double[h];
            for (int t = tN - 1; t >= 0; t--) {
                double[] gt = run.gates[b][t];
                double[] cPrev = t == 0 ? java.util.Arrays.copyOfRange(c0, b * h, b * h + h) : run.cells[b][t - 1];
                double[] hPrev = new double[h];
                for (int j = 0; j < h; j++) {
                    hPrev[j] = t == 0 ? h0[b * h + j] : run.y[(b * tN + t - 1) * h + j];
                }
                double[] dz = new double[4 * h];
                double[] dcPrev = new double[h];
                for (int j = 0; j < h; j++) {
                    double ig = gt[j], fg = gt[h + j], og = gt[2 * h + j], gg = gt[3 * h + j];
                    double tc = Math.tanh(run.cells[b][t][j]);
                    double dh = dy[(b * tN + t) * h + j] + dhNext[j];
                    double dc = dcNext[j] + dh * og * (1 - tc * tc);
                    dz[j] = dc * gg * ig * (1 - ig);
                    dz[h + j] = dc * cPrev[j] * fg * (1 - fg);
                    dz[2 * h + j] = dh * tc * og * (1 - og);
                    dz[3 * h + j] = dc * ig * (1 - gg * gg);
                    dcPrev[j] = dc * fg;
                }
                double[] dhPrev = new double[h];
                for (int g = 0; g < 4 * h; g++) {
                    db[g] += dz[g];
                    for (int i = 0; i < iN; i++) {
                        dw[g * iN + i] += dz[g] * x[(b * tN + t) * iN + i];
                        dx[(b * tN + t) * iN + i] += dz[g] * w[g * iN + i];
                    }
                    for (int j = 0; j < h; j++) {
                        du[g * h + j] += dz[g] * hPrev[j];
                        dhPrev[j] += dz[g] * u[g * h + j];
                    }
                }
                dhNext = dhPrev;
                dcNext = dcPrev;
            }
        }
        return new double[][] {dx, dw, du, db};
    }
}
