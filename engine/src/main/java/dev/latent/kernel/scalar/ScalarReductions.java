package dev.latent.kernel.scalar;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Bounds;
import dev.latent.kernel.Reductions;
import java.lang.foreign.MemorySegment;

/** Row and column sums accumulated in double. */
final class ScalarReductions implements Reductions {

    @Override
    public void rowSums(int rows, int cols, MemorySegment x, long xOff, int ldx, float beta, MemorySegment out, long outOff) {
        Bounds.matrix("rowSums X", x, xOff, rows, cols, ldx);
        Bounds.run("rowSums out", out, outOff, rows);
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int j = 0; j < cols; j++) {
                sum += x.getAtIndex(JAVA_FLOAT, xOff + (long) r * ldx + j);
            }
            if (beta != 0f) {
                sum += (double) beta * out.getAtIndex(JAVA_FLOAT, outOff + r);
            }
            out.setAtIndex(JAVA_FLOAT, outOff + r, (float) sum);
        }
    }

    @Override
    public void colSums(int rows, int cols, MemorySegment x, long xOff, int ldx, float beta, MemorySegment out, long outOff) {
        Bounds.matrix("colSums X", x, xOff, rows, cols, ldx);
        Bounds.run("colSums out", out, outOff, cols);
        for (int j = 0; j < cols; j++) {
            double sum = 0;
            for (int r = 0; r < rows; r++) {
                sum += x.getAtIndex(JAVA_FLOAT, xOff + (long) r * ldx + j);
            }
            if (beta != 0f) {
                sum += (double) beta * out.getAtIndex(JAVA_FLOAT, outOff + j);
            }
            out.setAtIndex(JAVA_FLOAT, outOff + j, (float) sum);
        }
    }
}
