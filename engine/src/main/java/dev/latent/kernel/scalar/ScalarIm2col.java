package dev.latent.kernel.scalar;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Bounds;
import dev.latent.kernel.ConvGeometry;
import dev.latent.kernel.Im2col;
import java.lang.foreign.MemorySegment;

/** im2col / col2im written exactly as the index formula of {@link Im2col}. */
final class ScalarIm2col implements Im2col {

    @Override
    public void im2col(ConvGeometry g, MemorySegment img, long imgOff, MemorySegment cols, long colsOff) {
        Bounds.run("im2col image", img, imgOff, g.imageSize());
        Bounds.run("im2col columns", cols, colsOff, (long) g.colRows() * g.colCols());
        int outH = g.outH();
        int outW = g.outW();
        for (int c = 0; c < g.channels(); c++) {
            for (int i = 0; i < g.kernelH(); i++) {
                for (int j = 0; j < g.kernelW(); j++) {
                    long row = ((long) c * g.kernelH() + i) * g.kernelW() + j;
                    for (int y = 0; y < outH; y++) {
                        int iy = y * g.strideH() - g.padH() + i;
                        for (int x = 0; x < outW; x++) {
                            int ix = x * g.strideW() - g.padW() + j;
                            float v = iy >= 0 && iy < g.height() && ix >= 0 && ix < g.width()
                                    ? img.getAtIndex(JAVA_FLOAT, imgOff + ((long) c * g.height() + iy) * g.width() + ix)
                                    : 0f;
                            cols.setAtIndex(JAVA_FLOAT, colsOff + row * outH * outW + (long) y * outW + x, v);
                        }
                    }
                }
            }
        }
    }

    @Override
    public void col2im(ConvGeometry g, MemorySegment cols, long colsOff, MemorySegment img, long imgOff) {
        Bounds.run("col2im image", img, imgOff, g.imageSize());
        Bounds.run("col2im columns", cols, colsOff, (long) g.colRows() * g.colCols());
        int outH = g.outH();
        int outW = g.outW();
        for (int c = 0; c < g.channels(); c++) {
            for (int i = 0; i < g.kernelH(); i++) {
                for (int j = 0; j < g.kernelW(); j++) {
                    long row = ((long) c * g.kernelH() + i) * g.kernelW() + j;
                    for (int y = 0; y < outH; y++) {
                        int iy = y * g.strideH() - g.padH() + i;
                        if (iy < 0 || iy >= g.height()) {
                            continue;
                        }
                        for (int x = 0; x < outW; x++) {
                            int ix = x * g.strideW() - g.padW() + j;
                            if (ix < 0 || ix >= g.width()) {
                                continue;
                            }
                            long ii = imgOff + ((long) c * g.height() + iy) * g.width() + ix;
                            float v = cols.getAtIndex(JAVA_FLOAT, colsOff + row * outH * outW + (long) y * outW + x);
                            img.setAtIndex(JAVA_FLOAT, ii, img.getAtIndex(JAVA_FLOAT, ii) + v);
                        }
                    }
                }
            }
        }
    }

    @Override
    public void im2colBatch(ConvGeometry g, int nb, MemorySegment img, long imgOff, MemorySegment cols, long colsOff, int ld) {
        Im2col.checkBatch("im2colBatch", g, nb, img, imgOff, cols, colsOff, ld);
        int outW = g.outW();
        int l = g.colCols();
        for (int n = 0; n < nb; n++) {
            long image = imgOff + (long) n * g.imageSize();
            for (int c = 0; c < g.channels(); c++) {
                for (int i = 0; i < g.kernelH(); i++) {
                    for (int j = 0; j < g.kernelW(); j++) {
                        long row = ((long) c * g.kernelH() + i) * g.kernelW() + j;
                        for (int q = 0; q < l; q++) {
                            int iy = q / outW * g.strideH() - g.padH() + i;
                            int ix = q % outW * g.strideW() - g.padW() + j;
                            float v = iy >= 0 && iy < g.height() && ix >= 0 && ix < g.width()
                                    ? img.getAtIndex(JAVA_FLOAT, image + ((long) c * g.height() + iy) * g.width() + ix)
                                    : 0f;
                            cols.setAtIndex(JAVA_FLOAT, colsOff + row * ld + (long) n * l + q, v);
                        }
                    }
                }
            }
        }
    }

    @Override
    public void col2imBatch(ConvGeometry g, int nb, MemorySegment cols, long colsOff, int ld, MemorySegment img, long imgOff) {
        Im2col.checkBatch("col2imBatch", g, nb, img, imgOff, cols, colsOff, ld);
        int outW = g.outW();
        int l = g.colCols();
        for (int n = 0; n < nb; n++) {
            long image = imgOff + (long) n * g.imageSize();
            for (int p = 0; p < g.imageSize(); p++) {
                img.setAtIndex(JAVA_FLOAT, image + p, 0f);
            }
            for (int c = 0; c < g.channels(); c++) {
                for (int i = 0; i < g.kernelH(); i++) {
                    for (int j = 0; j < g.kernelW(); j++) {
                        long row = ((long) c * g.kernelH() + i) * g.kernelW() + j;
                        for (int q = 0; q < l; q++) {
                            int iy = q / outW * g.strideH() - g.padH() + i;
                            int ix = q % outW * g.strideW() - g.padW() + j;
                            if (iy >= 0 && iy < g.height() && ix >= 0 && ix < g.width()) {
                                long ii = image + ((long) c * g.height() + iy) * g.width() + ix;
                                float v = cols.getAtIndex(JAVA_FLOAT, colsOff + row * ld + (long) n * l + q);
                                img.setAtIndex(JAVA_FLOAT, ii, img.getAtIndex(JAVA_FLOAT, ii) + v);
                            }
                        }
                    }
                }
            }
        }
    }
}
