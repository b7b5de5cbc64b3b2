package dev.latent.serve;

import dev.latent.io.BadInputException;
import dev.latent.io.ModelFile;
import dev.latent.io.SafeTensors;
import com.fasterxml.jackson.databind.JsonNode;
import dev.latent.kernel.Activation;
import dev.latent.kernel.Kernels;
import dev.latent.kernel.PackedDense;
import dev.latent.kernel.Transpose;
import dev.latent.model.FeatureExtractor;
import dev.latent.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A trained encoder for services: loaded from a latent model file (read once into memory that the file
 * cannot take away: replacing or truncating the file under a running service changes nothing until the
 * next load), safe to share across threads, allocation-free on the segment API. Each calling thread gets
 * its own scratch buffers on first use (freed when the last handle is closed, see below).
 *
 * <pre>{@code
 * try (Encoder enc = Encoder.load(Path.of("out/model.safetensors"))) {
 *     float[] code = enc.encode(pixels);           // one row of enc.inputSize() floats
 * }
 * }</pre>
 *
 * <p>Every model kind is served through the feature interface ({@link FeatureExtractor}; the Encoder
 * is one, and its code is the model's features). Dense kinds ({@link ModelKinds#isDense}: autoencoder,
 * residual and stacked autoencoders) run from the loaded tensors themselves; the other kinds (conv
 * autoencoder, k-means, DCGAN discriminator, Hebbian, RBM) are loaded by {@link ModelKinds#load}, one copy
 * per calling thread, so that concurrent calls never share a model's buffers.
 *
 * <p>Dense layers ({@code __metadata__.encoder}): {@code "dense"}, y = f(W x + b) on the previous layer's
 * output; {@code "shared_input_residual"} (the residual autoencoder), h = h + f(W [h; x] + b) with W of
 * shape (m, m + n): the previous output h and the encoder's own input x side by side.
 *
 * <p>Inputs containing NaN or infinity are rejected with a {@link BadInputException} naming the row and
 * column, unless {@link #allowNonFinite()} was asked for (then they propagate). A batch is checked whole
 * before any of its rows is encoded: a bad value in its last row leaves {@code out} untouched.
 *
 * <p>{@link #allowNonFinite()} returns a view: another handle on the same loaded weights, closed on its
 * own. The weights (and the per-thread models) are freed when the last open handle is closed, so closing
 * a view never disturbs the Encoder it came from, nor closing the Encoder a view still in use; a closed
 * handle refuses calls with an {@link IllegalStateException} naming the file.
 */
public final class Encoder implements FeatureExtractor {

    /** Rows processed per kernel call; larger batches are encoded in chunks of this size. */
    public static final int CHUNK = 256;

    /**
     * One dense layer: weight (out, in) and bias (out) as segments sliced from the loaded file once at
     * load, so every kernel call gets them at offset 0 (a provider that would slice an operand per
     * call, as the OpenBLAS one does at non-zero offsets, allocates nothing then). {@code in} counts
     * the previous output only: a shared-input residual layer's weight is (out, in + n), and
     * {@code shared} is its input block, sliced at column {@code in} (leading dimension in + n).
     */
    private record DenseLayer(MemorySegment weight, MemorySegment shared, MemorySegment bias, Activation activation, int in,
                              int out, boolean sharedInputResidual, PackedDense packed) {

        static DenseLayer of(Tensor w, Tensor b, Activation activation, int in, boolean sharedInputResidual) {
            MemorySegment weight = w.segment().asSlice(w.offset() * Float.BYTES, w.size() * Float.BYTES);
            MemorySegment shared = sharedInputResidual ? weight.asSlice((long) in * Float.BYTES) : null;
            return new DenseLayer(weight, shared, b.segment().asSlice(b.offset() * Float.BYTES, b.size() * Float.BYTES),
                    activation, in, w.dim(0), sharedInputResidual, null);
        }

        /**
         * This layer with its weights packed for {@link PackedDense} into {@code arena}, when {@link #packs}
         * says so; otherwise itself.
         */
        DenseLayer packedFor(Kernels kernels, PackedDense.Storage storage, Arena arena) {
            if (!packs(kernels, sharedInputResidual)) {
                return this;
            }
            PackedDense p = PackedDense.pack(out, in, weight, 0, in, bias, 0, activation, storage, arena);
            return new DenseLayer(weight, shared, bias, activation, in, out, sharedInputResidual, p);
        }
    }

    /**
     * The rule choosing a dense layer's implementation, fixed at load (so the same file, machine and
     * provider always give the same bits): a plain dense layer runs on the packed Vector API kernel
     * ({@link PackedDense}: W packed once, GEMM + bias + activation in one pass, batch 1 split across the
     * kernel threads) whenever the Vector API is readable and the provider is not {@code scalar} (the
     * reference, which keeps its plain loops); otherwise, and for shared-input residual layers, it runs
     * as the provider's GEMM (N, T) + addBias + activation. Measured on W5's layers (bench
     * {@code PackedDenseBenchmark}, 2 cores, one run) against both providers' GEMM paths, the packed kernel
     * was about 3x faster on 784 x 1000 at batch 1, 1.3x (simd) and 28x (openblas, whose spinning threads
     * collapse on a busy machine) at batch 256, and level on the 250 x 30 code layer; so the rule does not
     * depend on the shape.
     */
    static boolean packs(Kernels kernels, boolean sharedInputResidual) {
        return !sharedInputResidual && !"scalar".equals(kernels.name()) && VECTOR_API;
    }

    /** Whether the packed kernel's Vector API is readable (checked once). */
    private static final boolean VECTOR_API = PackedDense.available();

    /**
     * The models of a non-dense kind: one per calling thread (the first, loaded with the Encoder, goes to
     * the first thread that calls), all closed with the Encoder.
     */
    private static final class PerThread {
        private final List<FeatureExtractor> all = new CopyOnWriteArrayList<>();
        private final ThreadLocal<FeatureExtractor> mine;

        PerThread(Path file, Kernels kernels, FeatureExtractor first) {
            all.add(first);
            java.util.concurrent.atomic.AtomicReference<FeatureExtractor> unclaimed = new java.util.concurrent.atomic.AtomicReference<>(first);
            mine = ThreadLocal.withInitial(() -> {
                FeatureExtractor f = unclaimed.getAndSet(null);
                if (f != null) {
                    return f;
                }
                try {
                    f = ModelKinds.load(file, kernels);
                } catch (IOException e) {
                    throw new UncheckedIOException(file + ": cannot load another copy of the model for this thread", e);
                }
                all.add(f);
                return f;
            });
        }

        void close() {
            for (FeatureExtractor f : all) {
                f.close();
            }
            all.clear();
        }
    }

    /**
     * What an Encoder and its views share: the arena holding the weights and scratch buffers, and the
     * per-thread models of a non-dense kind; both freed when the last of the {@code handles} closes.
     */
    private static final class Shared {
        final Arena arena;
        final PerThread models;
        private final java.util.concurrent.atomic.AtomicInteger handles = new java.util.concurrent.atomic.AtomicInteger(1);

        Shared(Arena arena, PerThread models) {
            this.arena = arena;
            this.models = models;
        }

        /** One more handle; refused once every handle has closed (the memory is gone). */
        void acquire(Path file) {
            int h;
            do {
                h = handles.get();
                if (h == 0) {
                    throw new IllegalStateException(file + ": the Encoder and all its views are closed");
                }
            } while (!handles.compareAndSet(h, h + 1));
        }

        void release() {
            if (handles.decrementAndGet() == 0) {
                arena.close();
                if (models != null) {
                    models.close();
                }
            }
        }
    }

    private final Path file;
    private final String kind;
    private final int[] inputShape;
    private final Shared shared;
    private final Arena arena;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private final Kernels kernels;
    private final DenseLayer[] layers;
    private final PerThread models;
    private final int inputSize;
    private final int codeSize;
    private final int widest;
    private final boolean checkFinite;
    private final ThreadLocal<MemorySegment[]> scratch;

    private Encoder(Path file, String kind, Shared shared, Kernels kernels, List<DenseLayer> layers, int[] inputShape,
                    int codeSize, boolean checkFinite) {
        this.file = file;
        this.kind = kind;
        this.shared = shared;
        this.arena = shared.arena;
        this.kernels = kernels;
        this.layers = layers == null ? null : layers.toArray(DenseLayer[]::new);
        this.models = shared.models;
        this.inputShape = inputShape.clone();
        this.inputSize = Arrays.stream(inputShape).reduce(1, Math::multiplyExact);
        this.codeSize = codeSize;
        this.widest = Math.max(inputSize, layers == null ? codeSize : layers.stream().mapToInt(DenseLayer::out).max().orElseThrow());
        this.checkFinite = checkFinite;
        this.scratch = ThreadLocal.withInitial(() -> {
            synchronized (this) {
                return new MemorySegment[] {allocate(), allocate(), allocate()};
            }
        });
    }

    private MemorySegment allocate() {
        return arena.allocate((long) CHUNK * widest * Float.BYTES, 64);
    }

    /** Loads the encoder of a latent model file with the JVM's kernels. */
    public static Encoder load(Path file) throws IOException {
        return load(file, Kernels.current());
    }

    /** Loads the encoder of a latent model file of any kind, computing with {@code kernels}. */
    public static Encoder load(Path file, Kernels kernels) throws IOException {
        return load(file, kernels, PackedDense.Storage.FLOAT32);
    }

    /**
     * Loads the encoder of a latent model file, its dense layers' weights stored as {@code weights}:
     * {@code BFLOAT16} halves the bytes a call streams (the batch-1 latency is bound by them) at a
     * relative error of at most 2^-8 per weight; products and sums stay float32, and the codes are
     * exactly those of the float32 encoder whose weights were rounded to bfloat16 first. bfloat16 needs
     * a dense kind of plain dense layers (autoencoder, stacked; not the residual one), the Vector API and a
     * provider other than scalar (the packed kernel); otherwise it is
     * refused with an {@link IllegalArgumentException} naming what is missing, never served as float32.
     */
    public static Encoder load(Path file, Kernels kernels, PackedDense.Storage weights) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            SafeTensors.Loaded l = SafeTensors.read(file, arena);
            ModelFile.requireKind(l, null);
            String kind = l.meta("kind");
            if (weights == PackedDense.Storage.BFLOAT16 && !ModelKinds.isDense(kind)) {
                throw new IllegalArgumentException(file + ": bfloat16 weights are served for dense encoders (autoencoder,"
                        + " stacked); this model's kind is '" + kind + "'");
            }
            if (!ModelKinds.isDense(kind)) {
                arena.close();
                FeatureExtractor first = ModelKinds.load(file, kernels);
                return new Encoder(file, kind, new Shared(Arena.ofShared(), new PerThread(file, kernels, first)), kernels, null,
                        first.inputShape(), first.featureSize(), true);
            }
            JsonNode spec = ModelFile.json(l, "encoder");
            if (!spec.isArray() || spec.isEmpty()) {
                throw new BadInputException(file + ": __metadata__.encoder must be a non-empty array of layers");
            }
            List<DenseLayer> layers = new ArrayList<>();
            int prev = -1;
            for (int i = 0; i < spec.size(); i++) {
                JsonNode s = spec.get(i);
                String where = file + ": __metadata__.encoder[" + i + "]";
                String type = s.path("type").asText();
                boolean shared = "shared_input_residual".equals(type);
                if (!"dense".equals(type) && !shared) {
                    throw new BadInputException(file + ": model kind '" + kind + "' has a " + s.get("type")
                            + " layer in its encoder (__metadata__.encoder[" + i + "].type); its encoder must be dense or"
                            + " shared_input_residual layers");
                }
                Tensor w = l.tensor(s.path("weight").asText());
                if (w.rank() != 2) {
                    throw new BadInputException(where + ": weight " + s.path("weight").asText() + " must be rank 2, has shape "
                            + Tensor.format(w.shape()));
                }
                int out = w.dim(0);
                int in = w.dim(1);
                if (shared) {
                    // W = [W_h | W_x]: the previous output (out values, as the residual needs) and the encoder's input
                    int input = layers.isEmpty() ? -1 : layers.getFirst().in();
                    if (prev != out || in != out + input) {
                        throw new BadInputException(where + ": shared_input_residual weight " + Tensor.format(w.shape())
                                + " must be (m, m + n) for the previous layer's m = " + prev + " outputs and the input's n = " + input);
                    }
                    in = out;
                }
                if (prev >= 0 && in != prev) {
                    throw new BadInputException(where + ": weight " + Tensor.format(w.shape()) + " does not take the previous layer's "
                            + prev + " outputs");
                }
                Tensor b = l.tensor(s.path("bias").asText(), out);
                Activation a;
                try {
                    a = Activation.parse(s.path("activation").asText());
                } catch (IllegalArgumentException e) {
                    throw new BadInputException(where + ".activation: " + e.getMessage(), e);
                }
                if (shared && i == 0) {
                    throw new BadInputException(where + ": a shared_input_residual layer cannot come first");
                }
                DenseLayer layer = DenseLayer.of(w, b, a, in, shared).packedFor(kernels, weights, arena);
                if (weights == PackedDense.Storage.BFLOAT16 && layer.packed() == null) {
                    throw new IllegalArgumentException(where + ": bfloat16 weights need the packed Vector API kernel, which this"
                            + (shared ? " shared_input_residual layer does not run on" : " provider (" + kernels.name() + ") does not use"));
                }
                layers.add(layer);
                prev = out;
            }
            return new Encoder(file, kind, new Shared(arena, null), kernels, layers, new int[] {layers.getFirst().in()},
                    layers.getLast().out(), true);
        } catch (IOException | RuntimeException e) {
            if (arena.scope().isAlive()) {
                arena.close();
            }
            throw e;
        }
    }

    /**
     * A view of this encoder that passes NaN and infinity through instead of rejecting them: it shares the
     * loaded weights and is closed on its own (see the class comment); close it when done.
     */
    public Encoder allowNonFinite() {
        requireOpen();
        shared.acquire(file);
        return new Encoder(file, kind, shared, kernels, layers == null ? null : List.of(layers), inputShape, codeSize, false);
    }

    private void requireOpen() {
        if (closed.get()) {
            throw new IllegalStateException(file + ": this Encoder is closed");
        }
    }

    @Override
    public String kind() {
        return kind;
    }

    @Override
    public int[] inputShape() {
        return inputShape.clone();
    }

    @Override
    public int inputSize() {
        return inputSize;
    }

    public int codeSize() {
        return codeSize;
    }

    /** The code size: an encoder's features are its codes. */
    @Override
    public int featureSize() {
        return codeSize;
    }

    /** Not kept: an Encoder holds the file's tensors, not its model; export the model file itself. */
    @Override
    public dev.latent.model.FeatureGraph featureGraph() {
        throw new UnsupportedOperationException(file + ": a loaded Encoder has no feature graph; export the model file (latent export)");
    }

    /** {@link #encode(Tensor, Tensor)}: safe to call from many threads. */
    @Override
    public void features(Tensor x, Tensor out) {
        encode(x, out);
    }

    /** The code of one input row (inputSize floats); allocates the returned array. */
    public float[] encode(float[] x) {
        if (x.length != inputSize) {
            throw new BadInputException("encoder input row has " + x.length + " values, expected " + inputSize + " (" + file + ")");
        }
        requireOpen();
        float[] out = new float[codeSize];
        MemorySegment[] s = scratch.get();
        MemorySegment.copy(x, 0, s[0], ValueLayout.JAVA_FLOAT, 0, inputSize);
        checkFinite(s[0], 0, 1);
        MemorySegment code = run(s, 0, 1);
        MemorySegment.copy(code, ValueLayout.JAVA_FLOAT, 0, out, 0, codeSize);
        return out;
    }

    /**
     * Encodes {@code rows} rows: {@code in} holds rows x inputSize floats (row-major, from its start),
     * {@code out} receives rows x codeSize floats. The whole batch is checked before any row is written
     * (a rejected batch leaves {@code out} as it was). Allocates nothing in steady state.
     */
    public void encode(MemorySegment in, MemorySegment out, int rows) {
        requireOpen();
        if (rows < 0) {
            throw new BadInputException("rows must be >= 0, got " + rows);
        }
        if (in.byteSize() < (long) rows * inputSize * Float.BYTES) {
            throw new BadInputException("encoder input holds " + in.byteSize() / Float.BYTES + " floats, " + rows + " rows of "
                    + inputSize + " need " + (long) rows * inputSize);
        }
        if (out.byteSize() < (long) rows * codeSize * Float.BYTES) {
            throw new BadInputException("encoder output holds " + out.byteSize() / Float.BYTES + " floats, " + rows + " rows of "
                    + codeSize + " need " + (long) rows * codeSize);
        }
        MemorySegment[] s = scratch.get();
        // A batch of one chunk is checked in the copy it is encoded from; a larger one is checked chunk by
        // chunk first, so that a bad value in a late row is found before the first rows are written.
        boolean whole = rows > CHUNK;
        if (whole) {
            for (int from = 0; from < rows; from += CHUNK) {
                int n = Math.min(CHUNK, rows - from);
                MemorySegment.copy(in, (long) from * inputSize * Float.BYTES, s[0], 0, (long) n * inputSize * Float.BYTES);
                checkFinite(s[0], from, n);
            }
        }
        for (int from = 0; from < rows; from += CHUNK) {
            int n = Math.min(CHUNK, rows - from);
            MemorySegment.copy(in, (long) from * inputSize * Float.BYTES, s[0], 0, (long) n * inputSize * Float.BYTES);
            if (!whole) {
                checkFinite(s[0], from, n);
            }
            MemorySegment code = run(s, 0, n);
            MemorySegment.copy(code, 0, out, (long) from * codeSize * Float.BYTES, (long) n * codeSize * Float.BYTES);
        }
    }

    /** Encodes the rows of {@code in} (N, inputSize) into {@code out} (N, codeSize). */
    public void encode(Tensor in, Tensor out) {
        if (in.rowSize() != inputSize || out.rowSize() != codeSize || in.dim(0) != out.dim(0)) {
            throw new BadInputException("encoder expects input (N, " + inputSize + ") and output (N, " + codeSize + "), got "
                    + Tensor.format(in.shape()) + " and " + Tensor.format(out.shape()));
        }
        encode(in.segment().asSlice(in.offset() * Float.BYTES, in.size() * Float.BYTES),
                out.segment().asSlice(out.offset() * Float.BYTES, out.size() * Float.BYTES), in.dim(0));
    }

    /**
     * Runs the layers on n rows held in s[0] (kept: shared-input layers read it); outputs alternate
     * between s[1] and s[2]. Returns the segment holding the codes.
     */
    private MemorySegment run(MemorySegment[] s, int cur, int n) {
        if (layers == null) {
            models.mine.get().features(Tensor.wrap(s[0], 0, n, inputSize), Tensor.wrap(s[1], 0, n, codeSize));
            return s[1];
        }
        for (DenseLayer l : layers) {
            int next = cur == 1 ? 2 : 1;
            MemorySegment x = s[cur];
            MemorySegment y = s[next];
            if (l.packed() != null) {
                l.packed().forward(n, x, 0, l.in(), y, 0, l.out());
                cur = next;
                continue;
            }
            int ldw = l.sharedInputResidual() ? l.in() + inputSize : l.in();
            kernels.gemm().gemm(Transpose.N, Transpose.T, n, l.out(), l.in(), 1f, x, 0, l.in(),
                    l.weight(), 0, ldw, 0f, y, 0, l.out());
            if (l.sharedInputResidual()) {
                kernels.gemm().gemm(Transpose.N, Transpose.T, n, l.out(), inputSize, 1f, s[0], 0, inputSize,
                        l.shared(), 0, ldw, 1f, y, 0, l.out());
            }
            kernels.elementwise().addBias(n, l.out(), l.bias(), 0, y, 0, l.out());
            if (l.activation().kind() != Activation.Kind.IDENTITY) {
                kernels.activations().forward(l.activation(), n * l.out(), y, 0, y, 0);
            }
            if (l.sharedInputResidual()) {
                kernels.elementwise().axpy(n * l.out(), 1f, x, 0, y, 0);
            }
            cur = next;
        }
        return s[cur];
    }

    private void checkFinite(MemorySegment x, int firstRow, int n) {
        if (!checkFinite) {
            return;
        }
        long total = (long) n * inputSize;
        // Fast path: a sum of squares is finite only if every value is (a NaN or infinity makes it NaN or
        // infinite); the kernels' vectorised dot reads the rows once. Only a non-finite sum (a bad value,
        // or squares overflowing) takes the scan below, which names the first bad value or finds none.
        if (total <= Integer.MAX_VALUE && Float.isFinite(kernels.elementwise().dot((int) total, x, 0, x, 0))) {
            return;
        }
        for (long i = 0; i < total; i++) {
            float v = x.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            if (!Float.isFinite(v)) {
                throw new BadInputException("encoder input row " + (firstRow + i / inputSize) + ", column " + (i % inputSize)
                        + " is " + v + " (NaN and infinity are rejected; use allowNonFinite() to pass them through)");
            }
        }
    }

    /**
     * What {@link #warmUp} did: the calls it made, the seconds they took, and whether the time per block of
     * calls had settled (the last three blocks within 10% of each other, after at least 20) before the
     * budget ran out.
     */
    public record WarmUp(long calls, double seconds, boolean steady) {
    }

    /**
     * Runs the encoder on seeded uniform [0, 1) inputs, at one row and at {@link #CHUNK} rows a call, until
     * the time per block of calls has settled or {@code budget} has passed: until then the JIT has not
     * compiled the kernels, and a call can take tens of times its steady time. A service calls it once
     * after {@link #load}, before it takes traffic; it changes no result (the codes of every later call
     * are the same with or without it), and allocates only its two input and output buffers.
     */
    public WarmUp warmUp(java.time.Duration budget) {
        requireOpen();
        long limit = System.nanoTime() + budget.toNanos();
        long t0 = System.nanoTime();
        long calls = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate((long) CHUNK * inputSize * Float.BYTES, 64);
            MemorySegment out = arena.allocate((long) CHUNK * codeSize * Float.BYTES, 64);
            java.util.SplittableRandom rnd = new java.util.SplittableRandom(1);
            for (long i = 0; i < (long) CHUNK * inputSize; i++) {
                in.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble());
            }
            long[] last = new long[3];
            for (int block = 0; System.nanoTime() < limit; block++) {
                long b0 = System.nanoTime();
                for (int i = 0; i < 64; i++) {
                    encode(in, out, 1);
                }
                encode(in, out, CHUNK);
                calls += 65;
                last[block % 3] = System.nanoTime() - b0;
                long lo = Math.min(last[0], Math.min(last[1], last[2]));
                long hi = Math.max(last[0], Math.max(last[1], last[2]));
                if (block >= 20 && hi <= 1.1 * lo) {
                    return new WarmUp(calls, (System.nanoTime() - t0) / 1e9, true);
                }
            }
        }
        return new WarmUp(calls, (System.nanoTime() - t0) / 1e9, false);
    }

    /** Closes this handle; the weights are freed with the last open handle (this Encoder or a view of it). */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            shared.release();
        }
    }
}
