package dev.latent.kernel;

import dev.latent.prop.Gen;
import dev.latent.prop.Shrinkable;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A {@link Reductions} case's shape: row or column sums of a rows x cols matrix X with leading
 * dimension cols + pad at offset offX, into a run at offOut, floats left after each, and how beta is
 * chosen (0 over a NaN-filled output, 1, or drawn from [-2, 2]).
 */
public record ReductionShape(boolean rowWise, int rows, int cols, int pad, int offX, int offOut, int tail, Beta beta)
        implements Shrinkable<ReductionShape> {

    /** How beta is chosen. */
    public enum Beta { ZERO_OVER_NAN, ONE, DRAWN }

    int ldx() {
        return Math.max(1, cols) + pad;
    }

    int outLength() {
        return rowWise ? rows : cols;
    }

    /** Each edge size as the summed length and as the kept length, both directions. */
    static List<ReductionShape> edges() {
        List<ReductionShape> out = new ArrayList<>();
        int[] partners = {1, 3, 7, 13, 65, 2};
        int idx = 0;
        for (int s : Gen.edgeSizes()) {
            for (int d = 0; d < 4; d++) {
                boolean rowWise = d < 2;
                boolean summedIsEdge = d % 2 == 0;
                int other = partners[idx % partners.length];
                int summed = summedIsEdge ? s : other;
                int kept = summedIsEdge ? other : s;
                out.add(new ReductionShape(rowWise, rowWise ? kept : summed, rowWise ? summed : kept, idx % 3,
                        idx % 4 == 0 ? 0 : idx % 7 + 1, idx % 5, idx % 2 == 0 ? 0 : 3, Beta.values()[idx % 3]));
                idx++;
            }
        }
        // Long rows and columns across the vector kernels' chunk lengths, against short partners (1, 3, 2).
        int[] shortPartners = {1, 3, 2};
        for (int s : Gen.chunkSizes()) {
            for (int d = 0; d < 4; d++) {
                boolean rowWise = d < 2;
                boolean summedIsEdge = d % 2 == 0;
                int other = shortPartners[idx % shortPartners.length];
                int summed = summedIsEdge ? s : other;
                int kept = summedIsEdge ? other : s;
                out.add(new ReductionShape(rowWise, rowWise ? kept : summed, rowWise ? summed : kept, idx % 3,
                        idx % 4 == 0 ? 0 : idx % 7 + 1, idx % 5, idx % 2 == 0 ? 0 : 3, Beta.values()[idx % 3]));
                idx++;
            }
        }
        out.add(new ReductionShape(true, 5, 0, 0, 0, 1, 0, Beta.ZERO_OVER_NAN));
        out.add(new ReductionShape(false, 0, 5, 0, 0, 1, 0, Beta.ONE));
        return out;
    }

    static ReductionShape random(SplittableRandom r) {
        int rows;
        int cols;
        do {
            rows = Gen.size(r, 1, 1100);
            cols = Gen.size(r, 1, 1100);
        } while ((long) rows * cols > 400_000);
        return new ReductionShape(r.nextBoolean(), rows, cols, Gen.pad(r), Gen.offset(r), Gen.offset(r), Gen.tail(r),
                Beta.values()[r.nextInt(3)]);
    }

    @Override
    public List<ReductionShape> smaller() {
        List<ReductionShape> out = new ArrayList<>();
        if (rows > 1) {
            out.add(new ReductionShape(rowWise, rows / 2, cols, pad, offX, offOut, tail, beta));
        }
        if (cols > 1) {
            out.add(new ReductionShape(rowWise, rows, cols / 2, pad, offX, offOut, tail, beta));
        }
        if (pad > 0) {
            out.add(new ReductionShape(rowWise, rows, cols, 0, offX, offOut, tail, beta));
        }
        if (offX + offOut > 0) {
            out.add(new ReductionShape(rowWise, rows, cols, pad, 0, 0, tail, beta));
        }
        return out;
    }

    @Override
    public String toString() {
        return (rowWise ? "rowSums " : "colSums ") + rows + "x" + cols + " ldx+" + pad + " off(" + offX + "," + offOut
                + ") tail=" + tail + " beta=" + beta;
    }
}
