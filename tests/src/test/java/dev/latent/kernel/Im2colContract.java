package dev.latent.kernel;

import dev.latent.prop.Compare;
import dev.latent.prop.Gen;
import dev.latent.prop.Prop;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@link Im2col} contract as properties against the scalar reference: im2col is pure data
 * movement and must match bit for bit (the column matrix starts NaN-filled, so an element left unwritten
 * shows); col2im accumulates up to kh * kw column entries into each pixel and may sum them in any order.
 */
public interface Im2colContract {

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#im2col")
    default void im2colMatchesReferenceExactly(KernelCase<ConvShape> c) {
        c.check(s -> checkIm2col(c.subject(), c.seed(), s));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#im2col")
    default void col2imMatchesReference(KernelCase<ConvShape> c) {
        c.check(s -> checkCol2im(c.subject(), c.seed(), s));
    }

    /**
     * The batched kernels against the scalar reference, exactly (pure data movement; col2imBatch's
     * per-pixel order is fixed by the contract): nb (1..5, from the seed) images, a leading dimension
     * padded by 0..9 floats, NaN-filled columns (a gap between nb*L and ld must stay NaN, i.e. untouched).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#im2col")
    default void batchedKernelsMatchReferenceExactly(KernelCase<ConvShape> c) {
        c.check(s -> checkBatch(c.subject(), c.seed(), s));
    }

    /** Image or column runs outside their segment, negative offsets: IllegalArgumentException. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.latent.kernel.KernelCases#providers")
    default void im2colRejectsBadArguments(String provider) {
        Im2col ic = KernelRegistry.load(provider).im2col();
        ConvGeometry g = ConvGeometry.square(2, 4, 4, 3, 1, 1); // image 32 floats, columns 18 x 16 = 288
        try (Workspace ws = new Workspace("im2col bad arguments")) {
            MemorySegment img = ws.allocateFloats(32);
            MemorySegment cols = ws.allocateFloats(288);
            MemorySegment shortImg = ws.allocateFloats(31);
            MemorySegment shortCols = ws.allocateFloats(287);
            String p = provider + " im2col ";
            Compare.rejects(() -> p + "image in 31 floats", () -> ic.im2col(g, shortImg, 0, cols, 0));
            Compare.rejects(() -> p + "columns in 287 floats", () -> ic.im2col(g, img, 0, shortCols, 0));
            Compare.rejects(() -> p + "image offset 1", () -> ic.im2col(g, img, 1, cols, 0));
            Compare.rejects(() -> p + "columns offset -1", () -> ic.im2col(g, img, 0, cols, -1));
            Compare.rejects(() -> p + "col2im image in 31 floats", () -> ic.col2im(g, cols, 0, shortImg, 0));
            Compare.rejects(() -> p + "col2im columns offset 1", () -> ic.col2im(g, cols, 1, img, 0));
            Compare.rejects(() -> p + "col2im image offset -1", () -> ic.col2im(g, cols, 0, img, -1));
            Compare.rejects(() -> p + "im2colBatch nb = -1", () -> ic.im2colBatch(g, -1, img, 0, cols, 0, 16));
            Compare.rejects(() -> p + "im2colBatch ld 15 < 16", () -> ic.im2colBatch(g, 1, img, 0, cols, 0, 15));
            Compare.rejects(() -> p + "im2colBatch 2 images in 32 floats", () -> ic.im2colBatch(g, 2, img, 0, cols, 0, 32));
            Compare.rejects(() -> p + "col2imBatch columns 18 x 16 ld 17 in 288", () -> ic.col2imBatch(g, 1, cols, 0, 17, img, 0));
            Compare.rejects(() -> p + "col2imBatch image offset 1", () -> ic.col2imBatch(g, 1, cols, 0, 16, img, 1));
        }
    }

    private static void checkIm2col(Kernels subject, long seed, ConvShape s) {
        SplittableRandom r = Prop.data(seed);
        float[] img = Gen.values(r, s.imageLength());
        float[] cols0 = Gen.nan(s.colsLength());
        float[] expected = runIm2col(KernelCase.reference().im2col(), s, img, cols0);
        float[] actual = runIm2col(subject.im2col(), s, img, cols0);
        float[] again = runIm2col(subject.im2col(), s, img, cols0);
        IntFunction<String> where = i -> colsIndex(s, i);
        Compare.sameBits(s.toString(), actual, again, where);
        // Pure data movement (and zeros for the padding): exact, every element of the column segment.
        Compare.close("im2col " + s, actual, expected, new double[actual.length], where);
    }

    private static void checkCol2im(Kernels subject, long seed, ConvShape s) {
        SplittableRandom r = Prop.data(seed);
        float[] img0 = Gen.values(r, s.imageLength());
        float[] cols = Gen.values(r, s.colsLength());
        Im2col ref = KernelCase.reference().im2col();
        float[] expected = runCol2im(ref, s, cols, img0);
        float[] actual = runCol2im(subject.im2col(), s, cols, img0);
        float[] again = runCol2im(subject.im2col(), s, cols, img0);
        float[] absSum = runCol2im(ref, s, Gen.abs(cols), Gen.abs(img0));
        IntFunction<String> where = i -> {
            int rel = i - s.offImg();
            ConvGeometry g = s.g();
            return rel >= 0 && rel < g.imageSize()
                    ? "img[" + rel / (g.height() * g.width()) + ", " + rel / g.width() % g.height() + ", " + rel % g.width() + "]"
                    : "image segment float " + i + " (outside the image, must be untouched)";
        };
        Compare.sameBits(s.toString(), actual, again, where);
        double[] tol = new double[actual.length];
        int terms = s.g().kernelH() * s.g().kernelW() + 1;
        for (int i = s.offImg(); i < s.offImg() + s.g().imageSize(); i++) {
            // each pixel adds at most kh*kw column entries to its old value: a float sum of that many terms in any
            // order errs by at most ~terms eps of the sum of their magnitudes (x2 slack).
            tol[i] = 2 * terms * Gen.EPS * absSum[i];
        }
        Compare.close("col2im " + s, actual, expected, tol, where);
    }

    private static void checkBatch(Kernels subject, long seed, ConvShape s) {
        SplittableRandom r = Prop.data(seed);
        ConvGeometry g = s.g();
        int nb = 1 + r.nextInt(5);
        int ld = nb * g.colCols() + Gen.pad(r);
        int imgLen = s.offImg() + nb * g.imageSize() + s.tail();
        int colsLen = Gen.extent(s.offCols(), g.colRows(), nb * g.colCols(), ld, s.tail());
        float[] img = Gen.values(r, imgLen);
        float[] cols = Gen.values(r, colsLen);
        Im2col ref = KernelCase.reference().im2col();
        IntFunction<String> where = i -> "float " + i;
        float[] expected = runBatch(ref, true, g, nb, s, ld, img, Gen.nan(colsLen));
        float[] actual = runBatch(subject.im2col(), true, g, nb, s, ld, img, Gen.nan(colsLen));
        float[] again = runBatch(subject.im2col(), true, g, nb, s, ld, img, Gen.nan(colsLen));
        Compare.sameBits("im2colBatch nb=" + nb + " ld=" + ld + " " + s, actual, again, where);
        Compare.close("im2colBatch nb=" + nb + " ld=" + ld + " " + s, actual, expected, new double[colsLen], where);
        expected = runBatch(ref, false, g, nb, s, ld, img, cols);
        actual = runBatch(subject.im2col(), false, g, nb, s, ld, img, cols);
        again = runBatch(subject.im2col(), false, g, nb, s, ld, img, cols);
        Compare.sameBits("col2imBatch nb=" + nb + " ld=" + ld + " " + s, actual, again, where);
        Compare.close("col2imBatch nb=" + nb + " ld=" + ld + " " + s, actual, expected, new double[imgLen], where);
    }

    /** Runs im2colBatch (returns the column segment) or col2imBatch (returns the image segment). */
    private static float[] runBatch(Im2col ic, boolean im2col, ConvGeometry g, int nb, ConvShape s, int ld,
                                    float[] img, float[] cols) {
        try (Workspace ws = new Workspace("batch " + s)) {
            MemorySegment is = Gen.segment(ws, img);
            MemorySegment cs = Gen.segment(ws, cols);
            if (im2col) {
                ic.im2colBatch(g, nb, is, s.offImg(), cs, s.offCols(), ld);
                return Gen.read(cs);
            }
            ic.col2imBatch(g, nb, cs, s.offCols(), ld, is, s.offImg());
            return Gen.read(is);
        }
    }

    private static String colsIndex(ConvShape s, int i) {
        int rel = i - s.offCols();
        int n = s.g().colCols();
        return rel >= 0 && rel < s.g().colRows() * n ? "cols[" + rel / n + ", " + rel % n + "]"
                : "column segment float " + i + " (outside the column matrix, must be untouched)";
    }

    private static float[] runIm2col(Im2col ic, ConvShape s, float[] img, float[] cols0) {
        try (Workspace ws = new Workspace("im2col " + s)) {
            MemorySegment cols = Gen.segment(ws, cols0);
            ic.im2col(s.g(), Gen.segment(ws, img), s.offImg(), cols, s.offCols());
            return Gen.read(cols);
        }
    }

    private static float[] runCol2im(Im2col ic, ConvShape s, float[] cols, float[] img0) {
        try (Workspace ws = new Workspace("col2im " + s)) {
            MemorySegment img = Gen.segment(ws, img0);
            ic.col2im(s.g(), Gen.segment(ws, cols), s.offCols(), img, s.offImg());
            return Gen.read(img);
        }
    }
}
