package dev.latent.kernel;

/**
 * The geometry of a 2-D convolution over one image of {@code channels x height x width} (CHW):
 * a {@code kernelH x kernelW} window moved with strides (strideH, strideW) over the image padded with
 * zeros by (padH, padW) on each side. Output size {@code outH = (height + 2 padH - kernelH) / strideH + 1}
 * (floor), likewise outW.
 */
public record ConvGeometry(int channels, int height, int width, int kernelH, int kernelW,
                           int strideH, int strideW, int padH, int padW) {

    public ConvGeometry {
        require(channels >= 1, "channels", channels, ">= 1");
        require(height >= 1, "height", height, ">= 1");
        require(width >= 1, "width", width, ">= 1");
        require(kernelH >= 1, "kernelH", kernelH, ">= 1");
        require(kernelW >= 1, "kernelW", kernelW, ">= 1");
        require(strideH >= 1, "strideH", strideH, ">= 1");
        require(strideW >= 1, "strideW", strideW, ">= 1");
        require(padH >= 0, "padH", padH, ">= 0");
        require(padW >= 0, "padW", padW, ">= 0");
        if (height + 2L * padH < kernelH || width + 2L * padW < kernelW) {
            throw new IllegalArgumentException("kernel " + kernelH + "x" + kernelW + " larger than padded input "
                    + (height + 2L * padH) + "x" + (width + 2L * padW));
        }
        long rows = (long) channels * kernelH * kernelW;
        long cols = (long) ((height + 2 * padH - kernelH) / strideH + 1) * ((width + 2 * padW - kernelW) / strideW + 1);
        if (rows * cols > Integer.MAX_VALUE || (long) channels * height * width > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("convolution too large: column matrix " + rows + " x " + cols);
        }
    }

    /** Square kernel, equal strides and paddings. */
    public static ConvGeometry square(int channels, int height, int width, int kernel, int stride, int pad) {
        return new ConvGeometry(channels, height, width, kernel, kernel, stride, stride, pad, pad);
    }

    public int outH() {
        return (height + 2 * padH - kernelH) / strideH + 1;
    }

    public int outW() {
        return (width + 2 * padW - kernelW) / strideW + 1;
    }

    /** Rows of the column matrix: channels * kernelH * kernelW. */
    public int colRows() {
        return channels * kernelH * kernelW;
    }

    /** Columns of the column matrix: outH * outW. */
    public int colCols() {
        return outH() * outW();
    }

    /** Floats in one image: channels * height * width. */
    public int imageSize() {
        return channels * height * width;
    }

    private static void require(boolean ok, String field, int value, String rule) {
        if (!ok) {
            throw new IllegalArgumentException("convolution " + field + " must be " + rule + ", got " + value);
        }
    }
}
