package dev.latent.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import javax.imageio.ImageIO;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;

/**
 * A binary column holds raw 8-bit pixels or an encoded image: a grey 28x28 PNG reads as exactly the
 * raw bytes it was made from (lossless, so equality is exact), a colour one as its BT.601 luma, and a
 * wrong size or broken file is a fault naming it, never a row of garbage.
 */
class InputTypeTest {

    private static byte[] png(BufferedImage img) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, "png", out));
        return out.toByteArray();
    }

    @Test
    void aGreyPngReadsAsItsRawPixels() throws Exception {
        byte[] raw = new byte[784];
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) (i * 7);
            img.getRaster().setSample(i % 28, i / 28, 0, raw[i] & 0xFF);
        }
        float[] fromRaw = new float[784];
        float[] fromPng = new float[784];
        assertNull(InputType.BYTES.read(RowFactory.create((Object) raw), 0, fromRaw));
        assertNull(InputType.BYTES.read(RowFactory.create((Object) png(img)), 0, fromPng));
        for (int i = 0; i < 784; i++) {
            assertEquals(fromRaw[i], fromPng[i], 1e-7f, "pixel " + i);
        }
    }

    @Test
    void aColourPngReadsAsLumaAndBadImagesAreFaults() throws Exception {
        BufferedImage rgb = new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB);
        rgb.setRGB(3, 0, 0xFF0000);
        float[] dst = new float[784];
        assertNull(InputType.BYTES.read(RowFactory.create((Object) png(rgb)), 0, dst));
        assertEquals(0.299f, dst[3], 1e-6f, "pure red: its luma");
        assertEquals(0f, dst[4]);
        String size = InputType.BYTES.read(RowFactory.create((Object) png(new BufferedImage(20, 20, BufferedImage.TYPE_BYTE_GRAY))), 0, dst);
        assertTrue(size != null && size.contains("20x20") && size.contains("784"), size);
        byte[] broken = png(rgb);
        java.util.Arrays.fill(broken, 16, broken.length, (byte) 0);
        String bad = InputType.BYTES.read(RowFactory.create((Object) broken), 0, dst);
        assertTrue(bad != null && bad.contains("does not decode"), bad);
    }
}
