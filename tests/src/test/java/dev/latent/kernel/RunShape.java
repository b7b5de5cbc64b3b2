package dev.latent.kernel;

import dev.latent.prop.Gen;
import dev.latent.prop.Shrinkable;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * An {@link Elementwise} case's shape: the operation, the run length n (the bias width for ADD_BIAS),
 * rows and the ldc gap for ADD_BIAS, the offsets of x, y and the output run, floats left after each
 * run, and how runs alias. SAME makes the output the very run of x (y += alpha y, out = x * y with out
 * = x, copy onto itself, dot of x with itself); OVERLAP (copy only) puts src and dst in one segment at
 * offsets offX and offOut, which overlap when they are less than n apart (memmove).
 */
public record RunShape(Op op, int n, int rows, int pad, int offX, int offY, int offOut, int tail, Alias alias)
        implements Shrinkable<RunShape> {

    /** The Elementwise operations. */
    public enum Op { AXPY, SCALE, FILL, COPY, MUL, ADD_BIAS, ADD_ROW_BIAS, DOT }

    /** How the runs of one call share memory. */
    public enum Alias { NONE, SAME, OVERLAP }

    public RunShape {
        if (alias == Alias.SAME) {
            offY = offX;
            offOut = offX;
        }
        if (alias == Alias.OVERLAP && op != Op.COPY) {
            throw new IllegalArgumentException("only copy may partially overlap");
        }
    }

    static List<RunShape> edges() {
        List<RunShape> out = new ArrayList<>();
        int idx = 0;
        for (Op op : Op.values()) {
            for (int n : Gen.edgeSizes()) {
                Alias alias = switch (op) {
                    case COPY -> Alias.values()[idx % 3];
                    case AXPY, MUL, DOT -> idx % 3 == 0 ? Alias.SAME : Alias.NONE;
                    default -> Alias.NONE;
                };
                int offX = idx % 4 == 0 ? 0 : idx % 7 + 1;
                int offOut = offX;
                if (alias == Alias.OVERLAP) {
                    int shift = Math.max(1, n / (idx % 2 == 0 ? 2 : 7)) * (idx % 4 < 2 ? 1 : -1);
                    offX = offX + Math.max(0, -shift);
                    offOut = offX + shift;
                } else if (idx % 5 != 0) {
                    offOut = (offX + 3) % 11;
                }
                out.add(new RunShape(op, n, biased(op) ? 1 + idx % 5 : 1, idx % 3, offX, (offX + 5) % 9, offOut,
                        idx % 2 == 0 ? 0 : 5, alias));
                idx++;
            }
            out.add(new RunShape(op, 0, biased(op) ? 3 : 1, 0, 2, 1, 0, 0, Alias.NONE));
        }
        // Across SimdElementwise's chunk: every op at each chunk size, aliasing and offsets varied as above.
        for (Op op : Op.values()) {
            for (int n : Gen.chunkSizes()) {
                Alias alias = switch (op) {
                    case COPY -> Alias.values()[idx % 3];
                    case AXPY, MUL, DOT -> idx % 3 == 0 ? Alias.SAME : Alias.NONE;
                    default -> Alias.NONE;
                };
                int offX = idx % 4 == 0 ? 0 : idx % 7 + 1;
                int offOut = alias == Alias.OVERLAP ? offX + (idx % 2 == 0 ? 1 : 4096) : (offX + 3) % 11;
                if (alias == Alias.OVERLAP && idx % 4 >= 2) {
                    offOut = offX;
                    offX = offOut + (idx % 2 == 0 ? 1 : 4096);
                }
                out.add(new RunShape(op, n, biased(op) ? 1 + idx % 3 : 1, idx % 3, offX, (offX + 5) % 9, offOut,
                        idx % 2 == 0 ? 0 : 5, alias));
                idx++;
            }
        }
        return out;
    }

    static RunShape random(SplittableRandom r) {
        Op op = Op.values()[r.nextInt(Op.values().length)];
        int n = r.nextInt(20) == 0 ? 0 : !biased(op) && r.nextInt(8) == 0 ? Gen.longRun(r) : Gen.size(r, 1, biased(op) ? 1100 : 9000);
        int rows = biased(op) ? Gen.size(r, 1, 40) : 1;
        Alias alias = switch (op) {
            case COPY -> Alias.values()[r.nextInt(3)];
            case AXPY, MUL, DOT -> r.nextInt(4) == 0 ? Alias.SAME : Alias.NONE;
            default -> Alias.NONE;
        };
        int offX = Gen.offset(r);
        int offOut = Gen.offset(r);
        if (alias == Alias.OVERLAP) {
            int reach = Math.max(1, Math.min(n, 64));
            int shift = r.nextInt(-reach, reach + 1);
            offX += Math.max(0, -shift);
            offOut = offX + shift;
        }
        return new RunShape(op, n, rows, Gen.pad(r), offX, Gen.offset(r), offOut, Gen.tail(r), alias);
    }

    /** ADD_BIAS and ADD_ROW_BIAS: a rows x n matrix C with leading dimension ldc. */
    static boolean biased(Op op) {
        return op == Op.ADD_BIAS || op == Op.ADD_ROW_BIAS;
    }

    /** Floats of the x buffer (src for COPY, bias for ADD_BIAS / ADD_ROW_BIAS, the shared segment under OVERLAP). */
    int lenX() {
        if (op == Op.ADD_ROW_BIAS) {
            return offX + rows + tail;
        }
        return (alias == Alias.OVERLAP ? Math.max(offX, offOut) : offX) + n + tail;
    }

    int lenY() {
        return offY + n + tail;
    }

    int ldc() {
        return Math.max(1, n) + pad;
    }

    /** Floats of the output buffer: C for ADD_BIAS, dst for COPY, out for MUL. */
    int lenOut() {
        return biased(op) ? Gen.extent(offOut, rows, n, ldc(), tail) : offOut + n + tail;
    }

    @Override
    public List<RunShape> smaller() {
        List<RunShape> out = new ArrayList<>();
        if (n > 1) {
            int shift = offOut - offX;
            if (alias == Alias.OVERLAP) {
                // keep the overlap: shrink the shift with n
                int s = shift / 2;
                int x = offX - Math.max(0, -shift) + Math.max(0, -s);
                out.add(new RunShape(op, n / 2, rows, pad, x, offY, x + s, tail, alias));
            } else {
                out.add(new RunShape(op, n / 2, rows, pad, offX, offY, offOut, tail, alias));
            }
        }
        if (rows > 1) {
            out.add(new RunShape(op, n, rows / 2, pad, offX, offY, offOut, tail, alias));
        }
        if (pad > 0) {
            out.add(new RunShape(op, n, rows, 0, offX, offY, offOut, tail, alias));
        }
        if (alias == Alias.NONE && offX + offY + offOut > 0) {
            out.add(new RunShape(op, n, rows, pad, 0, 0, 0, tail, alias));
        }
        return out;
    }

    @Override
    public String toString() {
        String s = op.name().toLowerCase(java.util.Locale.ROOT) + " n=" + n;
        if (biased(op)) {
            s += " rows=" + rows + " ldc+" + pad;
        }
        return s + " off(" + offX + "," + offY + "," + offOut + ") tail=" + tail + (alias == Alias.NONE ? "" : " " + alias);
    }
}
