package dev.latent.data;

import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.SplittableRandom;

/**
 * Moving MNIST (Srivastava, Mansimov &amp; Salakhutdinov 2015): sequences of frames in which a few
 * digits drift across a square frame and bounce off its edges, made from any set of digit images
 * (the embedded MNIST digits by default, {@link #of(Dataset, Config)}).
 *
 * <p>Each digit of a sequence is a source image resized to {@code digitSize} (bilinear sampling at
 * pixel centres; a factor-2 reduction averages 2x2 blocks), placed at a uniform top-left corner in
 * [0, size - digitSize]^2 and given a uniform direction and the speed {@code speed} (pixels a frame).
 * Each frame moves it by its velocity; a digit that would leave the frame is put back on the edge and
 * that velocity component reversed, so every digit stays wholly inside every frame. A frame is the
 * pixelwise maximum of its digits (values stay in [0, 1]); positions are rounded to whole pixels.
 *
 * <p>Seeded: sequence i of a call with seed s depends only on (s, i), so the first n sequences of a
 * larger draw equal a draw of n.
 */
public final class MovingMnist {

    /** {@code frames} per sequence, {@code digits} per sequence, frames of size x size, digits resized to digitSize. */
    public record Config(int frames, int digits, int size, int digitSize, double speed) {
        public Config {
            if (frames < 1 || digits < 1 || digitSize < 1 || size < digitSize || !(speed >= 0) || Double.isInfinite(speed)) {
                throw new IllegalArgumentException("moving mnist: frames >= 1, digits >= 1, 1 <= digit size <= frame size and a finite"
                        + " speed >= 0 expected, got frames " + frames + ", digits " + digits + ", size " + size + ", digit size "
                        + digitSize + ", speed " + speed);
            }
        }

        /** Srivastava et al.'s setting: 20 frames of 64x64, two 28x28 digits, about 3 pixels a frame. */
        public static Config standard() {
            return new Config(20, 2, 64, 28, 3);
        }

        public Config withFrames(int t) {
            return new Config(t, digits, size, digitSize, speed);
        }

        public Config withDigits(int d) {
            return new Config(frames, d, size, digitSize, speed);
        }

        public int pixels() {
            return size * size;
        }
    }

    /** Which source rows a sequence uses and every digit's top-left corner (row, column) in every frame. */
    public record Trajectory(int[] sources, int[][] top, int[][] left) {
    }

    private final Tensor digits;
    private final int height;
    private final int width;
    private final Config config;

    /**
     * A generator over the rows of {@code digits} (N, height * width), values in [0, 1]; the tensor
     * must stay open while the generator is used.
     */
    public MovingMnist(Tensor digits, int height, int width, Config config) {
        if (digits.rank() != 2 || digits.dim(0) == 0 || digits.dim(1) != height * width) {
            throw new IllegalArgumentException("moving mnist: digit rows of " + height + "x" + width + " expected, got "
                    + Tensor.format(digits.shape()));
        }
        this.digits = digits;
        this.height = height;
        this.width = width;
        this.config = config;
    }

    /** A generator over a data set's images. */
    public static MovingMnist of(Dataset d, Config config) {
        return new MovingMnist(d.images(), d.height(), d.width(), config);
    }

    public Config config() {
        return config;
    }

    /** The trajectory of sequence {@code index} of the draw {@code seed}, with source digits drawn uniformly. */
    public Trajectory trajectory(long seed, long index) {
        SplittableRandom r = random(seed, index);
        int[] sources = new int[config.digits()];
        for (int d = 0; d < sources.length; d++) {
            sources[d] = r.nextInt(digits.dim(0));
        }
        return trajectory(sources, r);
    }

    /** A trajectory of the given source rows (one per digit), drawn from (seed, index). */
    public Trajectory trajectory(int[] sources, long seed, long index) {
        return trajectory(sources.clone(), random(seed, index));
    }

    private static SplittableRandom random(long seed, long index) {
        long z = seed * 0x9E3779B97F4A7C15L + index * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL;
        return new SplittableRandom(z);
    }

    private Trajectory trajectory(int[] sources, SplittableRandom r) {
        for (int s : sources) {
            if (s < 0 || s >= digits.dim(0)) {
                throw new IllegalArgumentException("moving mnist: source digit " + s + " out of range [0, " + digits.dim(0) + ")");
            }
        }
        int t = config.frames();
        int n = sources.length;
        double lim = config.size() - config.digitSize();
        int[][] top = new int[n][t];
        int[][] left = new int[n][t];
        for (int d = 0; d < n; d++) {
            double y = r.nextDouble() * lim;
            double x = r.nextDouble() * lim;
            double theta = r.nextDouble() * 2 * Math.PI;
            double vy = config.speed() * Math.sin(theta);
            double vx = config.speed() * Math.cos(theta);
            for (int f = 0; f < t; f++) {
                top[d][f] = (int) Math.round(y);
                left[d][f] = (int) Math.round(x);
                y += vy;
                x += vx;
                if (y < 0) {
                    y = Math.min(-y, lim);
                    vy = -vy;
                } else if (y > lim) {
                    y = Math.max(2 * lim - y, 0);
                    vy = -vy;
                }
                if (x < 0) {
                    x = Math.min(-x, lim);
                    vx = -vx;
                } else if (x > lim) {
                    x = Math.max(2 * lim - x, 0);
                    vx = -vx;
                }
            }
        }
        return new Trajectory(sources, top, left);
    }

    /** Renders a trajectory into out (frames, size * size), overwriting it. */
    public void render(Trajectory tr, Tensor out) {
        int t = config.frames();
        int size = config.size();
        int ds = config.digitSize();
        if (out.size() != (long) t * size * size) {
            throw new IllegalArgumentException("moving mnist: " + t + " frames of " + size + "x" + size + " expected, got "
                    + Tensor.format(out.shape()));
        }
        Tensor flat = out.reshape(t, size * size);
        flat.fill(0f);
        for (int d = 0; d < tr.sources().length; d++) {
            float[] img = resized(tr.sources()[d]);
            for (int f = 0; f < t; f++) {
                int y0 = tr.top()[d][f];
                int x0 = tr.left()[d][f];
                long base = (long) f * size * size;
                for (int i = 0; i < ds; i++) {
                    for (int j = 0; j < ds; j++) {
                        long p = base + (long) (y0 + i) * size + x0 + j;
                        float v = img[i * ds + j];
                        if (v > flat.get(p)) {
                            flat.set(p, v);
                        }
                    }
                }
            }
        }
    }

    /** Source row s resized to digitSize x digitSize, values clamped to [0, 1]. */
    private float[] resized(int s) {
        int ds = config.digitSize();
        float[] out = new float[ds * ds];
        Tensor src = digits.row(s);
        double sy = (double) height / ds;
        double sx = (double) width / ds;
        for (int i = 0; i < ds; i++) {
            double y = Math.max(0, Math.min(height - 1, (i + 0.5) * sy - 0.5));
            int y0 = (int) Math.floor(y);
            int y1 = Math.min(y0 + 1, height - 1);
            double fy = y - y0;
            for (int j = 0; j < ds; j++) {
                double x = Math.max(0, Math.min(width - 1, (j + 0.5) * sx - 0.5));
                int x0 = (int) Math.floor(x);
                int x1 = Math.min(x0 + 1, width - 1);
                double fx = x - x0;
                double v = (1 - fy) * ((1 - fx) * src.get(y0 * width + x0) + fx * src.get(y0 * width + x1))
                        + fy * ((1 - fx) * src.get(y1 * width + x0) + fx * src.get(y1 * width + x1));
                out[i * ds + j] = (float) Math.min(1, Math.max(0, v));
            }
        }
        return out;
    }

    /** Sequences [first, first + n) of the draw {@code seed}: a tensor (n, frames, size * size) in ws. */
    public Tensor generate(long seed, long first, int n, Workspace ws) {
        Tensor out = ws.allocate(n, config.frames(), config.pixels());
        for (int i = 0; i < n; i++) {
            render(trajectory(seed, first + i), out.reshape(n, config.frames() * config.pixels()).row(i));
        }
        return out;
    }

    /** One sequence per given source row (a single digit each), trajectories drawn from (seed, i): (n, frames, pixels). */
    public Tensor single(int[] sources, long seed, Workspace ws) {
        int n = sources.length;
        Tensor out = ws.allocate(n, config.frames(), config.pixels());
        for (int i = 0; i < n; i++) {
            render(trajectory(new int[] {sources[i]}, seed, i), out.reshape(n, config.frames() * config.pixels()).row(i));
        }
        return out;
    }
}
