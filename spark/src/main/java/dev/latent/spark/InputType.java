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
 * (8-bit pixels scaled by 1/255, as latent's IDX reader scales them).
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
}
