package dev.latent.bench.harness;

import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.nn.Dense;
import dev.latent.workload.EncoderWorkload;
import java.util.List;

/**
 * The result check of W5 ({@link EncoderWorkload}), run once before timing by the JMH benchmark and by
 * {@code latent bench encode} for every engine (latent, ONNX Runtime), so a fast wrong one cannot win:
 * the codes of the first {@value #CHECK_ROWS} input rows, recomputed in double precision from the
 * model's float weights, must match within {@value #TOLERANCE}.
 */
public final class EncodeCheck {

    static final int CHECK_ROWS = 8;
    /** Observed |float - double| is ~1e-6 on this encoder (OnnxExportTest); 1e-4 flags real errors only. */
    static final double TOLERANCE = 1e-4;

    private final double[] reference;

    /** The reference codes of the first rows of {@code x} (row-major, {@link EncoderWorkload#INPUT} per row) through {@code ae}'s encoder. */
    public EncodeCheck(Autoencoder ae, float[] x) {
        List<Dense> layers = ae.encoders();
        int n = EncoderWorkload.INPUT;
        int m = EncoderWorkload.CODE;
        reference = new double[CHECK_ROWS * m];
        for (int r = 0; r < CHECK_ROWS; r++) {
            double[] h = new double[n];
            for (int i = 0; i < n; i++) {
                h[i] = x[r * n + i];
            }
            for (int l = 0; l < layers.size(); l++) {
                float[] w = layers.get(l).weight().value().toArray();
                float[] b = layers.get(l).bias().value().toArray();
                double[] y = new double[b.length];
                for (int o = 0; o < y.length; o++) {
                    double z = b[o];
                    for (int i = 0; i < h.length; i++) {
                        z += (double) w[o * h.length + i] * h[i];
                    }
                    y[o] = l == layers.size() - 1 ? z : 1 / (1 + Math.exp(-z)); // sigmoid, linear code
                }
                h = y;
            }
            System.arraycopy(h, 0, reference, r * m, m);
        }
    }

    /**
     * Null when the first codes of a call on {@code rows} rows ({@code codes}, row-major) match the
     * reference, else what is wrong (first mismatch). Fill the output with NaN before the call, so a
     * call that writes nothing fails.
     */
    public String mismatch(float[] codes, int rows) {
        int m = EncoderWorkload.CODE;
        for (int i = 0; i < Math.min(rows, CHECK_ROWS) * m; i++) {
            if (!(Math.abs(codes[i] - reference[i]) <= TOLERANCE)) {
                return "code[" + i / m + ", " + i % m + "] = " + codes[i] + " but the double-precision reference is "
                        + reference[i] + " (tolerance " + TOLERANCE + ")";
            }
        }
        return null;
    }
}
