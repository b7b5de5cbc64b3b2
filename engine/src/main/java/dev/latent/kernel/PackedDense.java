package dev.latent.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A dense layer for serving, with its weights packed once: y = f(x W^T + b).
 *
 * <pre>
 * x (n, in) row-major, leading dimension ldx;  W (out, in) and b (out), fixed at construction;
 * y (n, out) row-major, leading dimension ldy, overwritten (never read).
 * y[i, j] = f(sum_{p &lt; in} x[i, p] W[j, p] + b[j])   (f: an {@link Activation})
 * </pre>
 *
 * <p>Contract of every implementation:
 * <ul>
 *   <li>accuracy: |y - f(z)| &lt;= Lip(f) * 2 (in + 1) eps sum_p |x[i, p] W[j, p]| + |b[j]| eps, plus
 *       the {@link Activations} bound of f, with z computed in double precision;
 *   <li>row-wise: each y[i, j] depends on row i of x (and W, b) only, with the same bits whatever n,
 *       the row's position in the batch, the thread count or the thread that runs it; repeated calls
 *       give the same bits;
 *   <li>x and y must not overlap; allocates nothing in steady state (per-thread state on first use).
 * </ul>
 */
public interface PackedDense {

    /** Inputs per row. */
    int in();

    /** Outputs per row. */
    int out();

    /** Whether {@link #pack} works in this JVM: the Vector API (jdk.incubator.vector) is readable. */
    static boolean available() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /**
     * How the packed weights are stored. {@code BFLOAT16} keeps the upper 16 bits of each float32 weight,
     * rounded to nearest even (8 significant bits: a relative error of at most 2^-8 per weight, the unit roundoff), and
     * halves the bytes every call streams, which is what bounds a small batch; the products and sums stay
     * float32. The result then has exactly the bits of the {@code FLOAT32} layer whose weights were
     * rounded to bfloat16 first ({@link #roundToBfloat16}), so the contract above holds for those weights.
     */
    enum Storage { FLOAT32, BFLOAT16 }

    /**
     * W (out, in) at {@code wOff} with leading dimension {@code ldw} and b (out) at {@code bOff}, packed
     * into memory of {@code arena} for the Vector API implementation; requires {@link #available()}.
     */
    static PackedDense pack(int out, int in, MemorySegment w, long wOff, int ldw, MemorySegment b, long bOff, Activation f,
                            Arena arena) {
        return pack(out, in, w, wOff, ldw, b, bOff, f, Storage.FLOAT32, arena);
    }

    /** {@link #pack(int, int, MemorySegment, long, int, MemorySegment, long, Activation, Arena)} with the weights stored as {@code storage}. */
    static PackedDense pack(int out, int in, MemorySegment w, long wOff, int ldw, MemorySegment b, long bOff, Activation f,
                            Storage storage, Arena arena) {
        return Holder.PACKER.pack(out, in, w, wOff, ldw, b, bOff, f, storage, arena);
    }

    /** The upper 16 bits of {@code v} rounded to nearest, ties to even (v finite): its bfloat16 bits. */
    static short bfloat16Bits(float v) {
        int bits = Float.floatToRawIntBits(v);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** {@code v} rounded to bfloat16, as a float (what a {@code BFLOAT16} layer multiplies by). */
    static float roundToBfloat16(float v) {
        return Float.intBitsToFloat((bfloat16Bits(v) & 0xFFFF) << 16);
    }

    /** Packs a layer: the implementation's factory, found through {@code ServiceLoader} (as providers are). */
    interface Packer {
        PackedDense pack(int out, int in, MemorySegment w, long wOff, int ldw, MemorySegment b, long bOff, Activation f, Storage storage,
                         Arena arena);
    }

    /** How this layer stores its weights. */
    default Storage storage() {
        return Storage.FLOAT32;
    }

    /** The registered {@link Packer}, loaded on first use. */
    final class Holder {
        static final Packer PACKER = java.util.ServiceLoader.load(Packer.class, PackedDense.class.getClassLoader()).findFirst()
                .orElseThrow(() -> new IllegalStateException("no PackedDense.Packer registered in META-INF/services"));

        private Holder() {
        }
    }

    /** y = f(x W^T + b) over n rows (see the class comment). */
    void forward(int n, MemorySegment x, long xOff, int ldx, MemorySegment y, long yOff, int ldy);
}
