package dev.latent.spark;

import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * The column types latent's stages read rows from (checked on the driver), and the one reader of a row
 * into floats that every stage uses: Vector (dense or sparse), array&lt;float&gt;, array&lt;double&gt;, or binary
 * (8-bit pixels scaled by 1/255, as latent's IDX reader scales them; or a PNG or JPEG file, decoded to
 * grey levels / 255, which must have the model's pixel count).
 */
enum InputType {
    VECTOR, FLOATS, DOUBLES, BYTES;

    static InputType of(DataType t, String col) {
        if (t instanceof VectorUDT) {
            return VECTOR;
        }
        if (t instanceof ArrayType a && a.elementType().equals(DataTypes.FloatType)) {
            return FLOATS;
        }
        if (t instanceof ArrayType a && a.elementType().equals(DataTypes.DoubleType)) {
            return DOUBLES;
        }
        if (t.equals(DataTypes.BinaryType)) {
            return BYTES;
        }
        throw new IllegalArgumentException("latent-spark: input column '" + col + "' has type " + t.simpleString()
                + "; expected vector, array<float>, array<double> or binary");
    }

    /**
     * Copies column {@code col} of row {@code r} into {@code dst} (whose length is the expected row size),
     * or returns what is wrong with it (null, a null element, wrong length, NaN or infinity).
     */
    String read(Row r, int col, float[] dst) {
        int inputSize = dst.length;
        if (r.isNullAt(col)) {
            return "value is null";
        }
        int len;
        switch (this) {
            case VECTOR -> {
                Vector v = r.getAs(col);
                len = v.size();
                if (len == inputSize) {
                    for (int j = 0; j < len; j++) {
                        dst[j] = (float) v.apply(j);
                    }
                }
            }
            case FLOATS -> {
                List<Object> a = r.getList(col);
                len = a.size();
                if (len == inputSize) {
                    for (int j = 0; j < len; j++) {
                        Object o = a.get(j);
                        if (o == null) {
                            return "element " + j + " is null";
                        }
                        dst[j] = (Float) o;
                    }
                }
            }
            case DOUBLES -> {
                List<Object> a = r.getList(col);
                len = a.size();
                if (len == inputSize) {
                    for (int j = 0; j < len; j++) {
                        Object o = a.get(j);
                        if (o == null) {
                            return "element " + j + " is null";
                        }
                        dst[j] = (float) (double) (Double) o;
                    }
                }
            }
            default -> {
                byte[] b = (byte[]) r.get(col);
                if (encodedImage(b)) {
                    String fault = decode(b, dst);
                    // A row of raw pixels that merely starts like an image header is still raw pixels.
                    if (fault == null || b.length != inputSize) {
                        return fault;
                    }
                }
                len = b.length;
                if (len == inputSize) {
                    for (int j = 0; j < len; j++) {
                        dst[j] = (b[j] & 0xFF) / 255f;
                    }
                }
            }
        }
        if (len != inputSize) {
            return "has " + len + " values, the model encodes rows of " + inputSize;
        }
        for (int j = 0; j < inputSize; j++) {
            if (!Float.isFinite(dst[j])) {
                return "value " + j + " is " + dst[j] + " (NaN and infinity are invalid)";
            }
        }
        return null;
    }

    /** Whether the bytes are a PNG or JPEG file (by their magic numbers) rather than raw pixels. */
    static boolean encodedImage(byte[] b) {
        boolean png = b.length >= 8 && (b[0] & 0xFF) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G' && b[4] == 0x0D
                && b[5] == 0x0A && b[6] == 0x1A && b[7] == 0x0A;
        boolean jpeg = b.length >= 4 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xD8 && (b[2] & 0xFF) == 0xFF
                && ((b[3] & 0xF0) == 0xE0 || (b[3] & 0xFF) == 0xDB);
        return png || jpeg;
    }

    /**
     * A PNG or JPEG image into dst as grey levels / 255 in row-major order (colour by ITU-R BT.601 luma,
     * as image tools turn colour into grey), or what is wrong with it: undecodable, or a pixel count
     * other than the model's input size.
     */
    private static String decode(byte[] b, float[] dst) {
        java.awt.image.BufferedImage img;
        try {
            img = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(b));
        } catch (java.io.IOException | RuntimeException e) {
            img = null;
        }
        if (img == null) {
            return "starts like a PNG or JPEG image but does not decode as one";
        }
        int w = img.getWidth();
        int h = img.getHeight();
        if ((long) w * h != dst.length) {
            return "is a " + w + "x" + h + " image (" + (long) w * h + " pixels), the model encodes rows of " + dst.length;
        }
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = img.getRGB(x, y);
                double grey = img.getRaster().getNumBands() == 1 ? img.getRaster().getSample(x, y, 0) * 255.0
                        / ((1 << img.getColorModel().getComponentSize(0)) - 1)
                        : 0.299 * ((rgb >> 16) & 0xFF) + 0.587 * ((rgb >> 8) & 0xFF) + 0.114 * (rgb & 0xFF);
                dst[y * w + x] = (float) (grey / 255.0);
            }
        }
        return null;
    }
}
