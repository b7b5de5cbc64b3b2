package dev.latent.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.data.Dataset;
import dev.latent.serve.Encoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.SparkException;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LatentEncoderModel in local[2]: codes equal the single-machine Encoder's bit for bit; invalid rows; save and load. */
class SparkEncoderTest {

    static final int N = 1500;
    static SparkSession spark;
    static Dataset digits;
    @TempDir
    static Path dir;
    static Path model;
    static float[][] expected;

    @BeforeAll
    static void start() throws Exception {
        spark = SparkFixtures.local("local[2]");
        digits = Dataset.embeddedMnist();
        model = SparkFixtures.autoencoderFile(dir, 11);
        expected = SparkFixtures.singleMachineCodes(model, digits, N);
    }

    @AfterAll
    static void stop() {
        spark.stop();
        digits.close();
    }

    private org.apache.spark.sql.Dataset<Row> frame(int partitions) {
        return spark.createDataFrame(SparkFixtures.digitRows(digits, 0, N), SparkFixtures.digitSchema()).repartition(partitions);
    }

    @Test
    void vectorAndFloatArrayColumnsGiveTheSingleMachineCodesBitForBit() throws Exception {
        // 3 partitions of ~500 rows in random order and batches of 100 (not the CLI's 256): chunking must not matter.
        LatentEncoderModel enc = LatentEncoderModel.fromFile(model).setInputCol("pixels").setOutputCol("codes").setBatchSize(100);
        List<Row> out = enc.transform(frame(3)).collectAsList();
        assertEquals(N, out.size());
        assertEquals(List.of(), SparkFixtures.bitDifferences(out, "codes", expected));

        List<Row> floats = enc.copy(new org.apache.spark.ml.param.ParamMap()).setInputCol("floats").setOutputCol("c2")
                .setBatchSize(Encoder.CHUNK).transform(frame(2)).collectAsList();
        assertEquals(List.of(), SparkFixtures.bitDifferences(floats, "c2", expected));
        assertEquals(64, enc.featureSize());
        assertEquals("autoencoder", enc.modelKind());
    }

    @Test
    void doubleArrayAndBinaryColumns() throws Exception {
        // array<double> of the same pixels; binary: the pixels as bytes (the digits are k/255 exactly).
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("d", DataTypes.createArrayType(DataTypes.DoubleType))
                .add("b", DataTypes.BinaryType);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            float[] px = digits.images().row(i).toArray();
            List<Double> d = new ArrayList<>();
            byte[] b = new byte[px.length];
            for (int j = 0; j < px.length; j++) {
                d.add((double) px[j]);
                b[j] = (byte) Math.round(px[j] * 255f);
            }
            rows.add(RowFactory.create(i, d, b));
        }
        LatentEncoderModel enc = LatentEncoderModel.fromFile(model).setInputCol("d").setOutputCol("codes");
        assertEquals(List.of(), SparkFixtures.bitDifferences(enc.transform(spark.createDataFrame(rows, schema)).collectAsList(),
                "codes", expected));
        List<Row> fromBytes = enc.setInputCol("b").transform(spark.createDataFrame(rows, schema)).collectAsList();
        assertEquals(List.of(), SparkFixtures.bitDifferences(fromBytes, "codes", expected),
                "bytes/255 must give the IDX reader's floats");
    }

    private org.apache.spark.sql.Dataset<Row> invalidRows() {
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("pixels", SQLDataTypes.VectorType(), true);
        double[] good = new double[784];
        double[] nan = new double[784];
        nan[400] = Double.NaN;
        List<Row> rows = List.of(RowFactory.create(0, Vectors.dense(good)), RowFactory.create(1, Vectors.dense(new double[783])),
                RowFactory.create(2, Vectors.dense(nan)), RowFactory.create(3, null), RowFactory.create(4, Vectors.sparse(784, new int[] {3},
                        new double[] {0.5})));
        return spark.createDataFrame(rows, schema).coalesce(1);
    }

    @Test
    void handleInvalidErrorNamesTheRowAndTheFault() throws Exception {
        LatentEncoderModel enc = LatentEncoderModel.fromFile(model).setInputCol("pixels");
        SparkException e = assertThrows(SparkException.class, () -> enc.transform(invalidRows()).collectAsList());
        String msg = String.valueOf(e.getMessage()) + " " + (e.getCause() == null ? "" : e.getCause().getMessage());
        assertTrue(msg.contains("row 1 of partition 0") && msg.contains("has 783 values, the model encodes rows of 784"), msg);

        LatentEncoderModel nanOnly = LatentEncoderModel.fromFile(model).setInputCol("pixels");
        SparkException e2 = assertThrows(SparkException.class,
                () -> nanOnly.transform(invalidRows().filter("id = 2")).collectAsList());
        String msg2 = String.valueOf(e2.getMessage()) + " " + (e2.getCause() == null ? "" : e2.getCause().getMessage());
        assertTrue(msg2.contains("row 0 of partition 0") && msg2.contains("value 400 is NaN"), msg2);
    }

    @Test
    void handleInvalidSkipAndKeep() throws Exception {
        LatentEncoderModel enc = LatentEncoderModel.fromFile(model).setInputCol("pixels").setHandleInvalid("skip");
        List<Row> skipped = enc.transform(invalidRows()).orderBy("id").collectAsList();
        assertEquals(List.of(0, 4), skipped.stream().map(r -> r.getInt(0)).toList());
        List<Row> kept = enc.setHandleInvalid("keep").transform(invalidRows()).orderBy("id").collectAsList();
        assertEquals(5, kept.size());
        assertNull(kept.get(1).get(2));
        assertNull(kept.get(2).get(2));
        assertNull(kept.get(3).get(2));
        // the sparse row is encoded like its dense twin
        try (Encoder e = Encoder.load(model)) {
            float[] x = new float[784];
            x[3] = 0.5f;
            float[] code = e.encode(x);
            org.apache.spark.ml.linalg.Vector v = kept.get(4).getAs(2);
            for (int j = 0; j < code.length; j++) {
                assertEquals(Float.floatToRawIntBits(code[j]), Float.floatToRawIntBits((float) v.apply(j)));
            }
        }
        assertThrows(IllegalArgumentException.class, () -> enc.setHandleInvalid("ignore"));
    }

    /** A model is loaded once per JVM however many stages, copies and transforms use it; another model adds one. */
    @Test
    void aModelIsLoadedOncePerJvm() throws Exception {
        Path other = SparkFixtures.autoencoderFile(dir, 12);
        int before = ExecutorModels.loadedCount();
        LatentEncoderModel a = LatentEncoderModel.fromFile(other).setInputCol("pixels");
        LatentEncoderModel b = LatentEncoderModel.fromFile(other).setInputCol("floats").setOutputCol("c");
        a.transform(frame(2)).write().format("noop").mode("overwrite").save();
        b.transform(frame(3)).write().format("noop").mode("overwrite").save();
        a.copy(new org.apache.spark.ml.param.ParamMap()).transform(frame(2)).write().format("noop").mode("overwrite").save();
        assertEquals(before + 1, ExecutorModels.loadedCount());
    }

    @Test
    void wrongColumnTypeFailsOnTheDriver() throws Exception {
        LatentEncoderModel enc = LatentEncoderModel.fromFile(model).setInputCol("label");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> enc.transform(frame(1)));
        assertTrue(e.getMessage().contains("'label' has type double"), e.getMessage());
    }

    @Test
    void savedStageHoldsTheModelFileAndLoadsBack() throws Exception {
        LatentEncoderModel enc = LatentEncoderModel.fromFile(model).setInputCol("pixels").setOutputCol("z").setBatchSize(77);
        Path saved = dir.resolve("stage");
        enc.write().overwrite().save(saved.toString());
        Path payload = saved.resolve(LatentEncoderModel.PAYLOAD);
        assertTrue(Arrays.equals(Files.readAllBytes(model), Files.readAllBytes(payload)), "payload is the model file itself");
        try (Encoder e = Encoder.load(payload)) {
            assertEquals(64, e.codeSize());
        }
        LatentEncoderModel back = LatentEncoderModel.load(saved.toString());
        assertEquals(enc.uid(), back.uid());
        assertEquals("z", back.getOutputCol());
        assertEquals(77, (int) (Integer) back.getOrDefault(back.batchSize()));
        assertEquals(List.of(), SparkFixtures.bitDifferences(back.transform(frame(2)).collectAsList(), "z", expected));
    }
}
