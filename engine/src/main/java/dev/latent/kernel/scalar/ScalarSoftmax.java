package dev.latent.kernel.scalar;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Bounds;
import dev.latent.kernel.Softmax;
import java.lang.foreign.MemorySegment;

/** Max-shifted softmax and log-softmax per row, in double. */
final class ScalarSoftmax implements Softmax {

    @Override
    public void softmax(int rows, int cols, MemorySegment x, long xOff, int ldx, MemorySegment y, long yOff, int ldy) {
        check(rows, cols, x, xOff, ldx, y, yOff, ldy);
        for (int r = 0; r < rows; r++) {
            double max = max(x, xOff + (long) r * ldx, cols);
            double sum = 0;
            for (int j = 0; j < cols; j++) {
                sum += Math.exp(x.getAtIndex(JAVA_FLOAT, xOff + (long) r * ldx + j) - max);
            }
            for (int j = 0; j < cols; j++) {
                double e = Math.exp(x.getAtIndex(JAVA_FLOAT, xOff + (long) r * ldx + j) - max);
                y.setAtIndex(JAVA_FLOAT, yOff + (long) r * ldy + j, (float) (e / sum));
            }
        }
    }

    @Override
    public void logSoftmax(int rows, int cols, MemorySegment x, long xOff, int ldx, MemorySegment y, long yOff, int ldy) {
        check(rows, cols, x, xOff, ldx, y, yOff, ldy);
        for (int r = 0; r < rows; r++) {
            double max = max(x, xOff + (long) r * ldx, cols);
            double sum = 0;
            for (int j = 0; j < cols; j++) {
                sum += Math.exp(x.getAtIndex(JAVA_FLOAT, xOff + (long) r * ldx + j) - max);
            }
            double logSum = Math.log(sum);
            for (int j = 0; j < cols; j++) {
                double v = x.getAtIndex(JAVA_FLOAT, xOff + (long) r * ldx + j) - max - logSum;
                y.setAtIndex(JAVA_FLOAT, yOff + (long) r * ldy + j, (float) v);
            }
        }
    }

    private static double max(MemorySegment x, long off, int cols) {
        double m = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < cols; j++) {
            m = Math.max(m, x.getAtIndex(JAVA_FLOAT, off + j));
        }
        return m;
    }

    static void check(int rows, int cols, MemorySegment x, long xOff, int ldx, MemorySegment y, long yOff, int ldy) {
        if (cols < 1 && rows > 0) {
            throw new IllegalArgumentException("softmax needs at least one column, got " + cols);
        }
        Bounds.matrix("softmax X", x, xOff, rows, cols, ldx);
        Bounds.matrix("softmax Y", y, yOff, rows, cols, ldy);
    }
}
