package dev.latent.kernel.scalar;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Bounds;
import dev.latent.kernel.Elementwise;
import java.lang.foreign.MemorySegment;

/** Level-1 loops, one element at a time. */
final class ScalarElementwise implements Elementwise {

    @Override
    public void axpy(int n, float alpha, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        Bounds.count("axpy n", n);
        Bounds.run("axpy x", x, xOff, n);
        Bounds.run("axpy y", y, yOff, n);
        for (int i = 0; i < n; i++) {
            y.setAtIndex(JAVA_FLOAT, yOff + i, y.getAtIndex(JAVA_FLOAT, yOff + i) + alpha * x.getAtIndex(JAVA_FLOAT, xOff + i));
        }
    }

    @Override
    public void scale(int n, float alpha, MemorySegment x, long xOff) {
        Bounds.count("scale n", n);
        Bounds.run("scale x", x, xOff, n);
        for (int i = 0; i < n; i++) {
            x.setAtIndex(JAVA_FLOAT, xOff + i, alpha * x.getAtIndex(JAVA_FLOAT, xOff + i));
        }
    }

    @Override
    public void fill(int n, float value, MemorySegment x, long xOff) {
        Bounds.count("fill n", n);
        Bounds.run("fill x", x, xOff, n);
        for (int i = 0; i < n; i++) {
            x.setAtIndex(JAVA_FLOAT, xOff + i, value);
        }
    }

    @Override
    public void copy(int n, MemorySegment src, long srcOff, MemorySegment dst, long dstOff) {
        Bounds.count("copy n", n);
        Bounds.run("copy src", src, srcOff, n);
        Bounds.run("copy dst", dst, dstOff, n);
        MemorySegment.copy(src, srcOff * Float.BYTES, dst, dstOff * Float.BYTES, (long) n * Float.BYTES);
    }

    @Override
    public void mul(int n, MemorySegment x, long xOff, MemorySegment y, long yOff, MemorySegment out, long outOff) {
        Bounds.count("mul n", n);
        Bounds.run("mul x", x, xOff, n);
        Bounds.run("mul y", y, yOff, n);
        Bounds.run("mul out", out, outOff, n);
        for (int i = 0; i < n; i++) {
            out.setAtIndex(JAVA_FLOAT, outOff + i, x.getAtIndex(JAVA_FLOAT, xOff + i) * y.getAtIndex(JAVA_FLOAT, yOff + i));
        }
    }

    @Override
    public void addBias(int rows, int cols, MemorySegment bias, long biasOff, MemorySegment c, long cOff, int ldc) {
        Bounds.run("addBias bias", bias, biasOff, cols);
        Bounds.matrix("addBias C", c, cOff, rows, cols, ldc);
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                long ci = cOff + (long) r * ldc + j;
                c.setAtIndex(JAVA_FLOAT, ci, c.getAtIndex(JAVA_FLOAT, ci) + bias.getAtIndex(JAVA_FLOAT, biasOff + j));
            }
        }
    }

    @Override
    public void addRowBias(int rows, int cols, MemorySegment bias, long biasOff, MemorySegment c, long cOff, int ldc) {
        Bounds.run("addRowBias bias", bias, biasOff, rows);
        Bounds.matrix("addRowBias C", c, cOff, rows, cols, ldc);
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                long ci = cOff + (long) r * ldc + j;
                c.setAtIndex(JAVA_FLOAT, ci, c.getAtIndex(JAVA_FLOAT, ci) + bias.getAtIndex(JAVA_FLOAT, biasOff + r));
            }
        }
    }

    @Override
    public float dot(int n, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        Bounds.count("dot n", n);
        Bounds.run("dot x", x, xOff, n);
        Bounds.run("dot y", y, yOff, n);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (double) x.getAtIndex(JAVA_FLOAT, xOff + i) * y.getAtIndex(JAVA_FLOAT, yOff + i);
        }
        return (float) sum;
    }

    @Override
    public void adam(int n, float b1, float c1, float b2, float c2, float step, float eps,
                     MemorySegment w, long wOff, MemorySegment g, long gOff,
                     MemorySegment m, long mOff, MemorySegment v, long vOff) {
        Bounds.count("adam n", n);
        Bounds.run("adam w", w, wOff, n);
        Bounds.run("adam g", g, gOff, n);
        Bounds.run("adam m", m, mOff, n);
        Bounds.run("adam v", v, vOff, n);
        for (int i = 0; i < n; i++) {
            float gi = g.getAtIndex(JAVA_FLOAT, gOff + i);
            float mi = b1 * m.getAtIndex(JAVA_FLOAT, mOff + i) + c1 * gi;
            float vi = b2 * v.getAtIndex(JAVA_FLOAT, vOff + i) + c2 * gi * gi;
            m.setAtIndex(JAVA_FLOAT, mOff + i, mi);
            v.setAtIndex(JAVA_FLOAT, vOff + i, vi);
            float wi = w.getAtIndex(JAVA_FLOAT, wOff + i);
            w.setAtIndex(JAVA_FLOAT, wOff + i, wi - step * mi / ((float) Math.sqrt(vi) + eps));
        }
    }

    @Override
    public void sgd(int n, float rate, float mu, boolean nesterov, MemorySegment w, long wOff,
                    MemorySegment g, long gOff, MemorySegment vel, long velOff) {
        Bounds.count("sgd n", n);
        Bounds.run("sgd w", w, wOff, n);
        Bounds.run("sgd g", g, gOff, n);
        if (mu != 0f) {
            Bounds.run("sgd vel", vel, velOff, n);
        }
        for (int i = 0; i < n; i++) {
            float gi = g.getAtIndex(JAVA_FLOAT, gOff + i);
            float u = gi;
            if (mu != 0f) {
                float vi = mu * vel.getAtIndex(JAVA_FLOAT, velOff + i) + gi;
                vel.setAtIndex(JAVA_FLOAT, velOff + i, vi);
                u = nesterov ? gi + mu * vi : vi;
            }
            w.setAtIndex(JAVA_FLOAT, wOff + i, w.getAtIndex(JAVA_FLOAT, wOff + i) - rate * u);
        }
    }
}
