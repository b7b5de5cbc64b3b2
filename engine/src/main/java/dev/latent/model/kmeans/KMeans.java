package dev.latent.model.kmeans;

import dev.latent.kernel.Gemm;
import dev.latent.kernel.Kernels;
import dev.latent.kernel.Transpose;
import dev.latent.kernel.KernelPool;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * K-means clustering of the rows of x (N, d) into k centroids (k, d): the "clustering learning" of
 * filters of Coates, Lee and Ng (2011) and of seed 001.
 *
 * <ul>
 *   <li>Seeding: k-means++ (Arthur and Vassilvitskii 2007: each new centroid is a row drawn with
 *       probability proportional to its squared distance to the nearest centroid so far) or k distinct
 *       random rows.
 *   <li>{@link #lloydStep}: one full Lloyd iteration: every row goes to its nearest centroid, every
 *       centroid moves to the mean of its rows; a centroid left with no rows is re-seeded with the row
 *       farthest from its own centroid (which then leaves its old cluster).
 *   <li>{@link #miniBatchStep}: Sculley's (2010) web-scale variant: a random batch is assigned, and each
 *       centroid moves towards each of its batch rows with a per-centroid rate 1 / (rows seen so far).
 *   <li>Spherical ({@link Config#spherical}): centroids are kept at unit norm (the update normalizes the
 *       mean), so the nearest centroid is the one of largest dot product x.c; meant for rows that are
 *       themselves normalized.
 * </ul>
 *
 * Distances are one GEMM per chunk of rows on the kernel provider: ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2,
 * with {@code -2 X C^T} from {@code gemm} and the argmin of {@code ||c||^2 + (-2 x.c)} vectorized over
 * centroids; the distance matrix never exists beyond one chunk. When the provider has a single-threaded
 * GEMM, every kernel thread runs its own chunks (GEMM, then argmin while the block is still in its L2,
 * as scikit-learn's Lloyd does); otherwise one multi-threaded GEMM per larger chunk is followed by a
 * parallel argmin. Sums for the update are accumulated in double during the same pass, per fixed part
 * of the rows, and added in part order: the same seed and provider give the same bits on any number of
 * threads.
 */
public final class KMeans implements AutoCloseable {

    /** Seeding methods. */
    public enum Init { PLUS_PLUS, RANDOM }

    /**
     * Settings of {@link #fit}: {@code iterations} Lloyd iterations (or mini-batch steps of {@code batch}
     * rows), stopping early when no row changes cluster (Lloyd) or when the relative drop of the
     * inertia falls below {@code tolerance}.
     */
    public record Config(int k, Init init, boolean miniBatch, boolean spherical, int iterations, int batch,
                         double tolerance, long seed) {
        public Config {
            if (k < 1) {
                throw new IllegalArgumentException("k must be >= 1, got " + k);
            }
            if (iterations < 0 || batch < 1) {
                throw new IllegalArgumentException("iterations must be >= 0 and batch >= 1");
            }
        }

        public static Config lloyd(int k, int iterations, long seed) {
            return new Config(k, Init.PLUS_PLUS, false, false, iterations, 1000, 0, seed);
        }

        public Config withMiniBatch(int batchSize) {
            return new Config(k, init, true, spherical, iterations, batchSize, tolerance, seed);
        }

        public Config withSpherical(boolean on) {
            return new Config(k, init, miniBatch, on, iterations, batch, tolerance, seed);
        }

        public Config withInit(Init i) {
            return new Config(k, i, miniBatch, spherical, iterations, batch, tolerance, seed);
        }

        public Config withTolerance(double t) {
            return new Config(k, init, miniBatch, spherical, iterations, batch, t, seed);
        }

        public String method() {
            return (spherical ? "spherical-" : "") + (miniBatch ? "minibatch" : "lloyd");
        }
    }

    /** What one iteration did: the inertia (sum of squared distances to the nearest centroid, before the move), rows that changed cluster, clusters re-seeded. */
    public record Step(double inertia, int changed, int reseeded) {
    }

    /**
     * Floats in one chunk of the distance matrix: 2^20 (4 MB, e.g. 655 rows at k = 1600) stays within
     * the last-level cache while making each GEMM large enough that its threading overhead is small.
     */
    static final int CHUNK_FLOATS = Integer.getInteger("latent.kmeans.chunkFloats", 1 << 20);
    /**
     * Fixed parts of the rows, each with its own double accumulators, added in order (so that the sums
     * do not depend on the thread count): 16 lets a slowed thread on a shared machine hand work over.
     */
    private static final int PARTS = 16;
    /**
     * Floats of one per-thread distance chunk: 2^17 (512 KB, e.g. 80 rows at k = 1600 or 512 at k = 256)
     * stays within a core's L2 next to the centroids, so the argmin reads what the GEMM just wrote.
     */
    static final int THREAD_CHUNK_FLOATS = Integer.getInteger("latent.kmeans.threadChunkFloats", 1 << 17);
    /** {@code -Dlatent.kmeans.perThread=false} forces the shared-GEMM path (for comparisons). */
    private static final boolean PER_THREAD = Boolean.parseBoolean(System.getProperty("latent.kmeans.perThread", "true"));

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private final int k;
    private final int d;
    private final boolean spherical;
    private final Kernels kernels;
    private final Workspace ws;
    private final Tensor centroids;
    /** Distance scratch of the shared-GEMM path, allocated on its first pass. */
    private Tensor dots;
    /** Rows per GEMM: CHUNK_FLOATS / k, at least 64, at most 16,384. */
    private final int chunk;
    /** Rows per per-thread chunk: THREAD_CHUNK_FLOATS / k rounded down to a multiple of 8, in [8, 2048]. */
    private final int threadChunk;
    /** Distance scratch of each part, allocated on the first per-thread pass. */
    private Tensor[] partDots;
    private final float[] cnorm;
    private final double[][] sums;
    /** One row of x per part, copied out of its segment once for the norm and the sums. */
    private final float[][] partRow;
    private final long[][] counts;
    private final double[] partInertia;
    private final int[] partChanged;
    /** Rows seen per centroid by the mini-batch updates. */
    private final long[] seen;
    private Tensor batchBuf;
    private int[] labels = new int[0];
    private float[] dist = new float[0];

    public KMeans(int k, int d, boolean spherical, Kernels kernels) {
        if (k < 1 || d < 1) {
            throw new IllegalArgumentException("k and d must be >= 1, got k = " + k + ", d = " + d);
        }
        this.k = k;
        this.d = d;
        this.spherical = spherical;
        this.kernels = kernels;
        this.ws = new Workspace("kmeans");
        this.centroids = ws.allocate(k, d);
        this.chunk = Math.max(64, Math.min(16_384, CHUNK_FLOATS / k));
        this.threadChunk = Math.max(8, Math.min(2048, THREAD_CHUNK_FLOATS / k / 8 * 8));
        this.cnorm = new float[k];
        this.sums = new double[PARTS][k * d];
        this.partRow = new float[PARTS][d];
        this.counts = new long[PARTS][k];
        this.partInertia = new double[PARTS];
        this.partChanged = new int[PARTS];
        this.seen = new long[k];
    }

    /** Seeds, then runs the configured iterations on x; returns the last step. */
    public static KMeans fit(Tensor x, Config c, Kernels kernels) {
        KMeans km = new KMeans(c.k(), x.rowSize(), c.spherical(), kernels);
        try {
            km.seed(x, c.init(), c.seed());
            SplittableRandom r = new SplittableRandom(c.seed() ^ 0x5DEECE66DL);
            double previous = Double.POSITIVE_INFINITY;
            for (int it = 0; it < c.iterations(); it++) {
                Step s = c.miniBatch() ? km.miniBatchStep(x, c.batch(), r) : km.lloydStep(x);
                if (!c.miniBatch() && it > 0 && s.changed() == 0 && s.reseeded() == 0) {
                    break;
                }
                if (c.tolerance() > 0 && previous - s.inertia() <= c.tolerance() * Math.abs(previous)) {
                    break;
                }
                previous = s.inertia();
            }
            return km;
        } catch (RuntimeException e) {
            km.close();
            throw e;
        }
    }

    public int k() {
        return k;
    }

    public int dim() {
        return d;
    }

    public boolean spherical() {
        return spherical;
    }

    /** The centroids (k, d), owned by this object. */
    public Tensor centroids() {
        return centroids;
    }

    /** Replaces the centroids (k, d), e.g. from a model file. */
    public void setCentroids(Tensor c) {
        centroids.copyFrom(c.reshape(k, d));
    }

    /** Seeds the centroids from rows of x. */
    public void seed(Tensor x, Init init, long seed) {
        checkData(x);
        if (x.dim(0) < k) {
            throw new IllegalArgumentException(k + " clusters need at least " + k + " rows, got " + x.dim(0));
        }
        Arrays.fill(seen, 0);
        if (init == Init.RANDOM) {
            seedRandom(x, seed);
        } else {
            seedPlusPlus(x, seed);
        }
        if (spherical) {
            normalizeCentroids();
        }
    }

    private void seedRandom(Tensor x, long seed) {
        int n = x.dim(0);
        int[] idx = IntStream.range(0, n).toArray();
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < k; i++) {
            int j = i + r.nextInt(n - i);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
            centroids.row(i).copyFrom(x.row(idx[i]));
        }
    }

    /** Rows per block of the k-means++ distance updates and sums (fixed: deterministic sums). */
    private static final int SEED_BLOCK = 4096;

    private void seedPlusPlus(Tensor x, long seed) {
        int n = x.dim(0);
        SplittableRandom r = new SplittableRandom(seed);
        float[] mind = new float[n];
        Arrays.fill(mind, Float.POSITIVE_INFINITY);
        int blocks = (n + SEED_BLOCK - 1) / SEED_BLOCK;
        double[] blockSum = new double[blocks];
        int pick = r.nextInt(n);
        float[] c = new float[d];
        MemorySegment seg = x.segment();
        long base = x.offset();
        for (int t = 0; t < k; t++) {
            centroids.row(t).copyFrom(x.row(pick));
            MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT, (base + (long) pick * d) * Float.BYTES, c, 0, d);
            if (t == k - 1) {
                break;
            }
            IntStream.range(0, blocks).parallel().forEach(b -> {
                double s = 0;
                for (int i = b * SEED_BLOCK; i < Math.min(n, (b + 1) * SEED_BLOCK); i++) {
                    float q = squaredDistance(seg, (base + (long) i * d) * Float.BYTES, c, d);
                    if (q < mind[i]) {
                        mind[i] = q;
                    }
                    s += mind[i];
                }
                blockSum[b] = s;
            });
            double total = 0;
            for (double s : blockSum) {
                total += s;
            }
            if (!(total > 0)) {
                // Every row coincides with a centroid: any row will do.
                pick = r.nextInt(n);
                continue;
            }
            double u = r.nextDouble() * total;
            int b = 0;
            while (b < blocks - 1 && u >= blockSum[b]) {
                u -= blockSum[b];
                b++;
            }
            int i = b * SEED_BLOCK;
            int end = Math.min(n, (b + 1) * SEED_BLOCK);
            int last = i;
            for (; i < end; i++) {
                if (mind[i] > 0) {
                    last = i;
                    if (u < mind[i]) {
                        break;
                    }
                    u -= mind[i];
                }
            }
            pick = i < end ? i : last;
        }
    }

    private static float squaredDistance(MemorySegment seg, long byteOff, float[] c, int d) {
        FloatVector acc = FloatVector.zero(F);
        int j = 0;
        for (int bound = F.loopBound(d); j < bound; j += F.length()) {
            FloatVector diff = FloatVector.fromMemorySegment(F, seg, byteOff + (long) j * Float.BYTES, ByteOrder.nativeOrder())
                    .sub(FloatVector.fromArray(F, c, j));
            acc = diff.fma(diff, acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; j < d; j++) {
            float diff = seg.getAtIndex(ValueLayout.JAVA_FLOAT, byteOff / Float.BYTES + j) - c[j];
            s += diff * diff;
        }
        return s;
    }

    /**
     * The nearest centroid of every row of x into {@code out} (length N), and the squared distance
     * into {@code outDist} (may be null). Returns the sum of squared distances.
     */
    public double assign(Tensor x, int[] out, float[] outDist) {
        checkData(x);
        return pass(x, out, outDist, false);
    }

    /** The cluster of each row in the last Lloyd step (a copy). */
    public int[] labels() {
        return labels.clone();
    }

    /** The assignment pass of a Lloyd step; leaves the rows' sums and counts in sums[0], counts[0]. Returns the inertia. */
    private double accumulate(Tensor x) {
        int n = x.dim(0);
        if (labels.length != n) {
            labels = new int[n];
            Arrays.fill(labels, -1);
            dist = new float[n];
        }
        for (int p = 0; p < PARTS; p++) {
            Arrays.fill(sums[p], 0);
            Arrays.fill(counts[p], 0);
        }
        double inertia = pass(x, labels, dist, true);
        double[] sum = sums[0];
        long[] count = counts[0];
        for (int p = 1; p < PARTS; p++) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += sums[p][i];
            }
            for (int j = 0; j < k; j++) {
                count[j] += counts[p][j];
            }
        }
        return inertia;
    }

    /**
     * One shard's share of a Lloyd step under the current centroids: the per-centroid sums of its rows
     * (k * d, row-major, in double), their counts (k) and the shard's inertia (sum of squared distances).
     * The sums are the ones {@link #lloydStep} adds up, in the same fixed order, so a step assembled from
     * one shard's partial is that step bit for bit; a distributed caller adds the shards' partials in a
     * fixed order of its own.
     */
    public record Partial(double[] sum, long[] count, double inertia) {
    }

    /** The {@link Partial} of x under the current centroids; the centroids are not changed. */
    public Partial partialSums(Tensor x) {
        checkData(x);
        double inertia = accumulate(x);
        return new Partial(sums[0].clone(), counts[0].clone(), inertia);
    }

    /** One full Lloyd iteration over x (see the class documentation). */
    public Step lloydStep(Tensor x) {
        checkData(x);
        double inertia = accumulate(x);
        int changed = 0;
        for (int c : partChanged) {
            changed += c;
        }
        double[] sum = sums[0];
        long[] count = counts[0];
        int reseeded = reseedEmpty(x, sum, count);
        MemorySegment cs = centroids.segment();
        long cb = centroids.offset();
        for (int j = 0; j < k; j++) {
            if (count[j] == 0) {
                continue;
            }
            double inv = 1.0 / count[j];
            for (int q = 0; q < d; q++) {
                cs.setAtIndex(ValueLayout.JAVA_FLOAT, cb + (long) j * d + q, (float) (sum[j * d + q] * inv));
            }
        }
        if (spherical) {
            normalizeCentroids();
        }
        return new Step(inertia, changed, reseeded);
    }

    /** Gives every empty cluster the row farthest from its centroid, moving it out of its old cluster's sums. */
    private int reseedEmpty(Tensor x, double[] sum, long[] count) {
        int empty = 0;
        for (long c : count) {
            if (c == 0) {
                empty++;
            }
        }
        if (empty == 0) {
            return 0;
        }
        int n = x.dim(0);
        // Rows by decreasing distance, ties by index: distances are >= 0, so their float bits sort like
        // the values, and one primitive sort of (MAX - bits, index) keys does it without boxing.
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            int bits = Float.isNaN(dist[i]) ? 0 : Float.floatToRawIntBits(Math.max(0f, dist[i]));
            keys[i] = ((long) (Integer.MAX_VALUE - bits) << 32) | i;
        }
        Arrays.sort(keys);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = (int) keys[i];
        }
        MemorySegment seg = x.segment();
        long base = x.offset();
        int used = 0;
        int done = 0;
        for (int j = 0; j < k; j++) {
            if (count[j] != 0) {
                continue;
            }
            // Skip rows whose own cluster would become empty by giving them away.
            while (used < n && count[labels[order[used]]] <= 1) {
                used++;
            }
            if (used == n) {
                break;
            }
            int row = order[used++];
            int old = labels[row];
            for (int q = 0; q < d; q++) {
                double v = seg.getAtIndex(ValueLayout.JAVA_FLOAT, base + (long) row * d + q);
                sum[old * d + q] -= v;
                sum[j * d + q] = v;
            }
            count[old]--;
            count[j] = 1;
            labels[row] = j;
            dist[row] = 0;
            done++;
        }
        return done;
    }

    /**
     * One mini-batch step: {@code batch} rows drawn uniformly with replacement from x, assigned with
     * the current centroids; then, in batch order, c_j <- c_j + (x - c_j) / seen_j with seen_j
     * counting every row centroid j has received so far. Returns the batch's inertia.
     */
    public Step miniBatchStep(Tensor x, int batch, SplittableRandom r) {
        checkData(x);
        if (batchBuf == null || batchBuf.dim(0) != batch) {
            batchBuf = ws.allocate(batch, d);
        }
        int n = x.dim(0);
        MemorySegment src = x.segment();
        MemorySegment dst = batchBuf.segment();
        for (int i = 0; i < batch; i++) {
            int row = r.nextInt(n);
            MemorySegment.copy(src, (x.offset() + (long) row * d) * Float.BYTES,
                    dst, (batchBuf.offset() + (long) i * d) * Float.BYTES, (long) d * Float.BYTES);
        }
        int[] lab = new int[batch];
        double inertia = pass(batchBuf, lab, null, false);
        MemorySegment cs = centroids.segment();
        long cb = centroids.offset();
        for (int i = 0; i < batch; i++) {
            int j = lab[i];
            seen[j]++;
            float eta = (float) (1.0 / seen[j]);
            long co = cb + (long) j * d;
            long xo = batchBuf.offset() + (long) i * d;
            for (int q = 0; q < d; q++) {
                float c = cs.getAtIndex(ValueLayout.JAVA_FLOAT, co + q);
                float v = dst.getAtIndex(ValueLayout.JAVA_FLOAT, xo + q);
                cs.setAtIndex(ValueLayout.JAVA_FLOAT, co + q, c + eta * (v - c));
            }
        }
        if (spherical) {
            normalizeCentroids();
        }
        return new Step(inertia, batch, 0);
    }

    /**
     * Assigns every row of x (labels into {@code lab}, squared distances into {@code outDist} when not
     * null); with {@code accumulate}, also adds each row into the double sums of its part and counts
     * rows whose label changed. Returns the inertia.
     *
     * <p>With a single-threaded GEMM ({@link Gemm#singleThreaded()}), the rows are split into
     * {@link #PARTS} fixed parts of whole chunks; the kernel threads take parts as they come, and each
     * part runs GEMM and argmin chunk after chunk on its own distance scratch into its own sums. Without
     * one (OpenBLAS, whose threads are its own), one multi-threaded GEMM per chunk is followed by the
     * argmin in {@link #PARTS} parallel sub-blocks. Either way every row lands in a fixed part and the
     * parts are added in order, so the result does not depend on the number of threads or their timing.
     */
    private double pass(Tensor x, int[] lab, float[] outDist, boolean accumulate) {
        int n = x.dim(0);
        if (lab.length < n) {
            throw new IllegalArgumentException("label array of " + lab.length + " for " + n + " rows");
        }
        MemorySegment cs = centroids.segment();
        long cb = centroids.offset();
        for (int j = 0; j < k; j++) {
            double s = 0;
            for (int q = 0; q < d; q++) {
                float v = cs.getAtIndex(ValueLayout.JAVA_FLOAT, cb + (long) j * d + q);
                s += (double) v * v;
            }
            cnorm[j] = (float) s;
        }
        Arrays.fill(partInertia, 0);
        Arrays.fill(partChanged, 0);
        Optional<Gemm> serial = PER_THREAD ? kernels.gemm().singleThreaded() : Optional.empty();
        if (serial.isPresent()) {
            perThreadPass(serial.get(), x, lab, outDist, accumulate);
        } else {
            sharedGemmPass(x, lab, outDist, accumulate);
        }
        double total = 0;
        for (double v : partInertia) {
            total += v;
        }
        return total;
    }

    private void perThreadPass(Gemm gemm, Tensor x, int[] lab, float[] outDist, boolean accumulate) {
        int n = x.dim(0);
        int rows = threadChunk;
        int chunks = (n + rows - 1) / rows;
        int parts = Math.min(PARTS, chunks);
        if (partDots == null) {
            partDots = new Tensor[PARTS];
            for (int p = 0; p < PARTS; p++) {
                partDots[p] = ws.allocate(rows, k);
            }
        }
        MemorySegment xs = x.segment();
        MemorySegment cs = centroids.segment();
        KernelPool.SHARED.run(parts, p -> {
            Tensor dp = partDots[p];
            MemorySegment ds = dp.segment();
            int c1 = (int) ((long) (p + 1) * chunks / parts);
            for (int c = (int) ((long) p * chunks / parts); c < c1; c++) {
                int from = c * rows;
                int m = Math.min(rows, n - from);
                gemm.gemm(Transpose.N, Transpose.T, m, k, d, -2f, xs, x.offset() + (long) from * d, d,
                        cs, centroids.offset(), d, 0f, ds, dp.offset(), k);
                assignRows(x, from, m, ds, dp.offset(), p, lab, outDist, accumulate);
            }
        });
    }

    private void sharedGemmPass(Tensor x, int[] lab, float[] outDist, boolean accumulate) {
        int n = x.dim(0);
        if (dots == null) {
            dots = ws.allocate(chunk, k);
        }
        MemorySegment xs = x.segment();
        MemorySegment ds = dots.segment();
        for (int from = 0; from < n; from += chunk) {
            int rows = Math.min(chunk, n - from);
            kernels.gemm().gemm(Transpose.N, Transpose.T, rows, k, d, -2f, xs, x.offset() + (long) from * d, d,
                    centroids.segment(), centroids.offset(), d, 0f, ds, dots.offset(), k);
            int chunkFrom = from;
            int per = (rows + PARTS - 1) / PARTS;
            IntStream.range(0, PARTS).parallel().forEach(p -> {
                int lo = Math.min(rows, p * per);
                int hi = Math.min(rows, lo + per);
                assignRows(x, chunkFrom + lo, hi - lo, ds, dots.offset() + (long) lo * k, p, lab, outDist, accumulate);
            });
        }
    }

    /**
     * Rows [from, from + m) of x, whose -2 x.c values are the rows of the (m, k) block at {@code dotOff}
     * of {@code ds}: nearest centroid, distance, and (accumulate) the sums and counts of part p.
     */
    private void assignRows(Tensor x, int from, int m, MemorySegment ds, long dotOff, int p, int[] lab, float[] outDist,
                            boolean accumulate) {
        MemorySegment xs = x.segment();
        double inertia = 0;
        int changed = 0;
        double[] sum = sums[p];
        long[] count = counts[p];
        float[] v = partRow[p];
        for (int i = 0; i < m; i++) {
            int row = from + i;
            long best = argmin(ds, (dotOff + (long) i * k) * Float.BYTES);
            int j = (int) best;
            MemorySegment.copy(xs, ValueLayout.JAVA_FLOAT, (x.offset() + (long) row * d) * Float.BYTES, v, 0, d);
            double xn = 0;
            for (int q = 0; q < d; q++) {
                xn += (double) v[q] * v[q];
            }
            float dd = (float) Math.max(0, xn + Float.intBitsToFloat((int) (best >>> 32)));
            inertia += dd;
            if (outDist != null) {
                outDist[row] = dd;
            }
            if (accumulate) {
                if (lab[row] != j) {
                    changed++;
                }
                count[j]++;
                int at = j * d;
                for (int q = 0; q < d; q++) {
                    sum[at + q] += v[q];
                }
            }
            lab[row] = j;
        }
        partInertia[p] += inertia;
        partChanged[p] += changed;
    }

    /**
     * argmin over j of cnorm[j] + dots[j] (one row of k values at {@code byteOff}); the smallest index
     * wins ties. Returns the index in the low 32 bits and the float bits of the minimum in the high 32.
     */
    private long argmin(MemorySegment ds, long byteOff) {
        // Two vector passes over the row (it is in L1): the minimum, then the first lane equal to it.
        // Both use only lane-wise min/compare, which the JIT compiles to plain SIMD instructions.
        int bound = F.loopBound(k);
        float best = Float.POSITIVE_INFINITY;
        int j = 0;
        if (bound > 0) {
            FloatVector minV = FloatVector.broadcast(F, Float.POSITIVE_INFINITY);
            for (; j < bound; j += F.length()) {
                FloatVector v = FloatVector.fromArray(F, cnorm, j)
                        .add(FloatVector.fromMemorySegment(F, ds, byteOff + (long) j * Float.BYTES, ByteOrder.nativeOrder()));
                minV = minV.min(v);
            }
            best = minV.reduceLanes(VectorOperators.MIN);
        }
        for (; j < k; j++) {
            best = Math.min(best, cnorm[j] + ds.get(ValueLayout.JAVA_FLOAT, byteOff + (long) j * Float.BYTES));
        }
        int bestIdx = -1;
        for (j = 0; j < bound; j += F.length()) {
            FloatVector v = FloatVector.fromArray(F, cnorm, j)
                    .add(FloatVector.fromMemorySegment(F, ds, byteOff + (long) j * Float.BYTES, ByteOrder.nativeOrder()));
            VectorMask<Float> eq = v.compare(VectorOperators.EQ, best);
            if (eq.anyTrue()) {
                bestIdx = j + eq.firstTrue();
                break;
            }
        }
        if (bestIdx < 0) {
            for (j = bound; j < k; j++) {
                if (cnorm[j] + ds.get(ValueLayout.JAVA_FLOAT, byteOff + (long) j * Float.BYTES) == best) {
                    bestIdx = j;
                    break;
                }
            }
        }
        if (bestIdx < 0) {
            // NaN distances (NaN input): report centroid 0 with a NaN distance rather than fail.
            bestIdx = 0;
            best = Float.NaN;
        }
        return ((long) Float.floatToRawIntBits(best) << 32) | (bestIdx & 0xffffffffL);
    }

    private void normalizeCentroids() {
        MemorySegment cs = centroids.segment();
        long cb = centroids.offset();
        for (int j = 0; j < k; j++) {
            double s = 0;
            for (int q = 0; q < d; q++) {
                float v = cs.getAtIndex(ValueLayout.JAVA_FLOAT, cb + (long) j * d + q);
                s += (double) v * v;
            }
            if (s == 0) {
                continue;
            }
            float inv = (float) (1 / Math.sqrt(s));
            for (int q = 0; q < d; q++) {
                long at = cb + (long) j * d + q;
                cs.setAtIndex(ValueLayout.JAVA_FLOAT, at, cs.getAtIndex(ValueLayout.JAVA_FLOAT, at) * inv);
            }
        }
    }

    private void checkData(Tensor x) {
        if (x.rank() < 2 || x.rowSize() != d) {
            throw new IllegalArgumentException("k-means on " + d + "-dimensional rows got shape " + Tensor.format(x.shape()));
        }
    }

    @Override
    public void close() {
        ws.close();
    }
}
