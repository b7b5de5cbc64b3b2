package dev.latent.spark;

import dev.latent.data.Dataset;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.serve.Encoder;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** What the Spark tests share: a small session, a model file, the digits as rows, single-machine codes. */
final class SparkFixtures {

    private SparkFixtures() {
    }

    /** A local[2] session sized for a shared 2-core machine (no UI, 2 shuffle partitions). */
    static SparkSession local(String master) {
        return SparkSession.builder().master(master).appName("latent-spark-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.default.parallelism", "2")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .getOrCreate();
    }

    /** An untrained (seeded) 784-64 sigmoid autoencoder: its codes depend on every weight, which is what the equality needs. */
    static Path autoencoderFile(Path dir, long seed) throws Exception {
        Path file = dir.resolve("ae-" + seed + ".safetensors");
        try (Autoencoder ae = Autoencoder.builder(784).hidden(64).build().init(seed)) {
            ae.save(file, Map.of());
        }
        return file;
    }

    static StructType digitSchema() {
        return new StructType().add("id", DataTypes.IntegerType, false).add("label", DataTypes.DoubleType, false)
                .add("pixels", SQLDataTypes.VectorType(), false)
                .add("floats", DataTypes.createArrayType(DataTypes.FloatType, false), false);
    }

    /** The first n embedded digits as rows (id, label, pixels as Vector, pixels as array<float>). */
    static List<Row> digitRows(Dataset d, int from, int n) {
        List<Row> rows = new ArrayList<>(n);
        int w = d.features();
        for (int i = from; i < from + n; i++) {
            float[] px = d.images().row(i).toArray();
            double[] v = new double[w];
            List<Float> f = new ArrayList<>(w);
            for (int j = 0; j < w; j++) {
                v[j] = px[j];
                f.add(px[j]);
            }
            rows.add(RowFactory.create(i, (double) d.label(i), Vectors.dense(v), f));
        }
        return rows;
    }

    /** The codes `latent encode` writes: one Encoder.encode over the whole data set, rows [0, n). */
    static float[][] singleMachineCodes(Path model, Dataset d, int n) throws Exception {
        try (Encoder enc = Encoder.load(model); Workspace ws = new Workspace("expected")) {
            Tensor codes = ws.allocate(d.size(), enc.codeSize());
            enc.encode(d.images(), codes);
            float[][] out = new float[n][];
            for (int i = 0; i < n; i++) {
                out[i] = codes.row(i).toArray();
            }
            return out;
        }
    }

    /** Rows whose codes differ from {@code expected} in any bit, as "id: first differing index" strings. */
    static List<String> bitDifferences(List<Row> rows, String codeCol, float[][] expected) {
        List<String> bad = new ArrayList<>();
        for (Row r : rows) {
            int id = r.getInt(r.fieldIndex("id"));
            org.apache.spark.ml.linalg.Vector v = r.getAs(codeCol);
            float[] e = expected[id];
            if (v.size() != e.length) {
                bad.add(id + ": size " + v.size());
                continue;
            }
            for (int j = 0; j < e.length; j++) {
                double x = v.apply(j);
                if ((float) x != x || Float.floatToRawIntBits((float) x) != Float.floatToRawIntBits(e[j])) {
                    bad.add(id + ": [" + j + "] " + x + " vs " + e[j]);
                    break;
                }
            }
        }
        return bad;
    }
}
