package dev.latent.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * Properties of the Moving MNIST generator over seeded random configurations (frames, digits, frame
 * and digit sizes, speeds up to larger than the frame): every digit stays wholly in every frame,
 * pixels stay in [0, 1], the same seed gives the same bits, a digit's ink is conserved while it moves,
 * and positions change by at most the speed per frame (in each coordinate, plus rounding).
 */
class MovingMnistTest {

    static LongStream seeds() {
        long base = Long.getLong("prop.seed", 20261203L);
        return LongStream.range(0, 24).map(i -> base + i);
    }

    /** A random configuration and synthetic "digits": solid squares of ink 1 (so a frame's ink counts pixels). */
    private record Case(MovingMnist gen, MovingMnist.Config cfg, Tensor digits, Workspace ws) implements AutoCloseable {
        static Case draw(long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            int digitSize = 1 + r.nextInt(12);
            int size = digitSize + r.nextInt(20);
            double speed = r.nextDouble() * (r.nextBoolean() ? 3 : 2 * size);
            MovingMnist.Config cfg = new MovingMnist.Config(1 + r.nextInt(30), 1 + r.nextInt(3), size, digitSize, speed);
            Workspace ws = new Workspace("moving-mnist-test");
            int h = digitSize;
            Tensor digits = ws.allocate(5, h * h);
            digits.fill(1f);
            return new Case(new MovingMnist(digits, h, h, cfg), cfg, digits, ws);
        }

        @Override
        public void close() {
            ws.close();
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void digitsStayInFrameAndMoveAtMostTheSpeed(long seed) {
        try (Case c = Case.draw(seed)) {
            MovingMnist.Config cfg = c.cfg();
            for (int i = 0; i < 10; i++) {
                MovingMnist.Trajectory t = c.gen().trajectory(seed, i);
                for (int d = 0; d < cfg.digits(); d++) {
                    for (int f = 0; f < cfg.frames(); f++) {
                        int y = t.top()[d][f];
                        int x = t.left()[d][f];
                        assertTrue(y >= 0 && x >= 0 && y + cfg.digitSize() <= cfg.size() && x + cfg.digitSize() <= cfg.size(),
                                "seed " + seed + ": digit " + d + " frame " + f + " at (" + y + ", " + x + ") leaves the frame " + cfg);
                        if (f > 0) {
                            // rounding moves a position by up to 1/2 pixel at each end
                            assertTrue(Math.abs(y - t.top()[d][f - 1]) <= cfg.speed() + 1
                                    && Math.abs(x - t.left()[d][f - 1]) <= cfg.speed() + 1, "seed " + seed + ": jump at frame " + f);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void oneSolidDigitKeepsItsInkAndPixelsStayInRange(long seed) {
        try (Case c = Case.draw(seed); Workspace ws = new Workspace("frames")) {
            MovingMnist.Config cfg = c.cfg().withDigits(1);
            MovingMnist gen = new MovingMnist(c.digits(), cfg.digitSize(), cfg.digitSize(), cfg);
            Tensor seqs = gen.generate(seed, 0, 3, ws);
            assertArrayEquals(new int[] {3, cfg.frames(), cfg.pixels()}, seqs.shape());
            for (int s = 0; s < 3; s++) {
                for (int f = 0; f < cfg.frames(); f++) {
                    double ink = 0;
                    for (int p = 0; p < cfg.pixels(); p++) {
                        float v = seqs.get(((long) s * cfg.frames() + f) * cfg.pixels() + p);
                        assertTrue(v >= 0 && v <= 1, "seed " + seed + ": pixel " + v);
                        ink += v;
                    }
                    assertEquals(cfg.digitSize() * cfg.digitSize(), ink, 1e-3, "seed " + seed + ": ink of frame " + f);
                }
            }
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void sameSeedSameBitsAndPrefixesAgree(long seed) {
        try (Dataset mnist = Dataset.embeddedMnist(); Workspace ws = new Workspace("frames")) {
            SplittableRandom r = new SplittableRandom(seed);
            MovingMnist.Config cfg = new MovingMnist.Config(2 + r.nextInt(6), 1 + r.nextInt(3), 28 + r.nextInt(40), 28, 1 + 3 * r.nextDouble());
            MovingMnist gen = MovingMnist.of(mnist, cfg);
            float[] a = gen.generate(seed, 0, 4, ws).toArray();
            float[] b = gen.generate(seed, 0, 4, ws).toArray();
            float[] prefix = gen.generate(seed, 0, 2, ws).toArray();
            float[] other = gen.generate(seed + 1, 0, 4, ws).toArray();
            assertArrayEquals(a, b, "seed " + seed);
            assertArrayEquals(prefix, java.util.Arrays.copyOf(a, prefix.length), "seed " + seed);
            assertTrue(!java.util.Arrays.equals(a, other), "seed " + seed + ": another seed gave the same sequences");
            for (float v : a) {
                assertTrue(v >= 0 && v <= 1, "seed " + seed + ": pixel " + v);
            }
        }
    }

    @Test
    void standardSequencesLookLikeTheirDigits() {
        try (Dataset mnist = Dataset.embeddedMnist(); Workspace ws = new Workspace("frames")) {
            MovingMnist gen = MovingMnist.of(mnist, MovingMnist.Config.standard().withDigits(1));
            Tensor seq = gen.single(new int[] {7}, 3, ws);
            MovingMnist.Trajectory t = gen.trajectory(new int[] {7}, 3, 0);
            // at 28x28 the digit is copied exactly (bilinear at pixel centres with factor 1)
            int y = t.top()[0][5];
            int x = t.left()[0][5];
            for (int i = 0; i < 28; i++) {
                for (int j = 0; j < 28; j++) {
                    assertEquals(mnist.images().get(7, i * 28 + j), seq.get((5L * 64 + y + i) * 64 + x + j), 0f);
                }
            }
        }
    }

    @Test
    void badConfigurationsAreOneClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MovingMnist.Config(10, 2, 20, 28, 3));
        assertTrue(e.getMessage().contains("digit size"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new MovingMnist.Config(0, 2, 64, 28, 3));
        assertThrows(IllegalArgumentException.class, () -> new MovingMnist.Config(10, 2, 64, 28, Double.NaN));
    }
}
