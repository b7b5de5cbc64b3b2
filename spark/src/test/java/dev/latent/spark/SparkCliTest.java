package dev.latent.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.data.Dataset;
import dev.latent.serve.Encoder;
import dev.latent.spark.cli.SparkCommand;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code latent spark encode|kmeans|train}: Parquet codes equal the single-machine Encoder's (what `latent encode` writes); bad input is one line, exit 2. */
class SparkCliTest {

    static final int N = 600;
    @TempDir
    static Path dir;
    static Path images;
    static Path labels;
    static Path model;

    /** The first n embedded digits as IDX files (bytes = pixel * 255, which the reader maps back exactly). */
    @BeforeAll
    static void files() throws Exception {
        images = dir.resolve("images-idx3-ubyte");
        labels = dir.resolve("labels-idx1-ubyte");
        try (Dataset d = Dataset.embeddedMnist();
             DataOutputStream im = new DataOutputStream(Files.newOutputStream(images));
             DataOutputStream lb = new DataOutputStream(Files.newOutputStream(labels))) {
            im.writeInt(0x00000803);
            im.writeInt(N);
            im.writeInt(28);
            im.writeInt(28);
            lb.writeInt(0x00000801);
            lb.writeInt(N);
            for (int i = 0; i < N; i++) {
                for (float v : d.images().row(i).toArray()) {
                    im.writeByte(Math.round(v * 255f));
                }
                lb.writeByte(d.label(i));
            }
        }
        model = SparkFixtures.autoencoderFile(dir, 31);
    }

    private static int run(ByteArrayOutputStream err, String... args) {
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            return SparkCommand.run(args);
        } finally {
            System.setErr(old);
        }
    }

    @Test
    void encodeWritesParquetWhoseCodesEqualTheEncoders() throws Exception {
        Path out = dir.resolve("codes.parquet");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(err, "encode", "--master", "local[2]", "--model", model.toString(), "--input", images.toString(),
                "--labels", labels.toString(), "--output", out.toString(), "--partitions", "3", "--batch", "64"), err.toString());
        float[][] expected;
        try (Dataset d = Dataset.readIdx(images, labels); Encoder e = Encoder.load(model); Workspace ws = new Workspace("t")) {
            Tensor codes = ws.allocate(d.size(), e.codeSize());
            e.encode(d.images(), codes);
            expected = new float[N][];
            for (int i = 0; i < N; i++) {
                expected[i] = codes.row(i).toArray();
            }
        }
        SparkSession spark = SparkFixtures.local("local[2]");
        try {
            List<Row> rows = spark.read().parquet(out.toString()).orderBy("id").collectAsList();
            assertEquals(N, rows.size());
            try (Dataset d = Dataset.readIdx(images, labels)) {
                for (Row r : rows) {
                    int id = (int) r.getLong(r.fieldIndex("id"));
                    assertEquals(d.label(id), r.getInt(r.fieldIndex("label")));
                    List<Float> c = r.getList(r.fieldIndex("codes"));
                    for (int j = 0; j < c.size(); j++) {
                        assertEquals(Float.floatToRawIntBits(expected[id][j]), Float.floatToRawIntBits(c.get(j)), "row " + id + " [" + j + "]");
                    }
                }
            }
        } finally {
            spark.stop();
        }
    }

    @Test
    void kmeansWritesAStageWhoseModelFileEncoderReads() throws Exception {
        Path out = dir.resolve("kmeans-stage");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(err, "kmeans", "--master", "local[2]", "--input", images.toString(), "--output", out.toString(), "--k", "8",
                "--patches", "2000", "--iterations", "5"), err.toString());
        try (Encoder e = Encoder.load(out.resolve(LatentEncoderModel.PAYLOAD))) {
            assertEquals("kmeans", e.kind());
            assertEquals(32, e.featureSize());
        }
    }

    @Test
    void trainWritesAStageWhoseModelFileEncoderReads() throws Exception {
        Path out = dir.resolve("ae-stage");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(err, "train", "--master", "local[2]", "--input", images.toString(), "--output", out.toString(), "--hidden", "16",
                "--epochs", "2", "--partitions", "2", "--checkpoint", dir.resolve("ae-ckpt").toString()), err.toString());
        try (Encoder e = Encoder.load(out.resolve(LatentEncoderModel.PAYLOAD))) {
            assertEquals("autoencoder", e.kind());
            assertEquals(16, e.featureSize());
        }
        assertTrue(Files.isRegularFile(dir.resolve("ae-ckpt").resolve("round.json")));
    }

    @Test
    void badInputIsOneLineAndExitTwo() throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, run(err, "encode", "--model", dir.resolve("missing.safetensors").toString(), "--output",
                dir.resolve("x").toString()));
        String msg = err.toString(StandardCharsets.UTF_8).strip();
        assertEquals(1, msg.lines().count(), msg);
        assertTrue(msg.startsWith("latent spark encode: --model ") && msg.endsWith("is not a file"), msg);

        ByteArrayOutputStream err2 = new ByteArrayOutputStream();
        assertEquals(2, run(err2, "kmeans", "--output", dir.resolve("y").toString(), "--image-shape", "28x28"));
        assertTrue(err2.toString(StandardCharsets.UTF_8).contains("--image-shape must be channels,height,width"), err2.toString());
    }
}
