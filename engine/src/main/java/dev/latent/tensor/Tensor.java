package dev.latent.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A dense float32 array in off-heap memory: a row-major shape over a run of floats in a
 * {@link MemorySegment} (NCHW for images). Views ({@link #reshape}, {@link #rows}) share the memory of
 * the tensor they come from. The memory belongs to a {@link Workspace} (or to whoever owns a wrapped
 * segment); once that is closed every access throws {@link IllegalStateException}.
 *
 * <p>Kernels take {@link #segment()} and {@link #offset()} (in floats); {@code float[]} copies exist
 * only for the edges of the API ({@link #copyFrom(float[])}, {@link #toArray()}).
 */
public final class Tensor {

    private final Workspace owner;
    private final MemorySegment segment;
    private final long offset;
    private final int[] shape;
    private final long size;

    Tensor(Workspace owner, MemorySegment segment, long offset, int[] shape) {
        this.owner = owner;
        this.segment = segment;
        this.offset = offset;
        this.shape = shape.clone();
        this.size = sizeOf(this.shape);
        if (offset < 0 || offset + size > segment.byteSize() / Float.BYTES) {
            throw new IllegalArgumentException("tensor " + format(shape) + " at offset " + offset
                    + " does not fit a segment of " + segment.byteSize() / Float.BYTES + " floats");
        }
    }

    /**
     * A tensor over existing memory (e.g. a mapped model file), starting at float {@code offset}.
     * The caller keeps the segment alive for as long as the tensor is used.
     */
    public static Tensor wrap(MemorySegment segment, long offset, int... shape) {
        return new Tensor(null, segment, offset, shape);
    }

    /** The number of elements of a shape; each dimension must be >= 0 and the product fit in an int. */
    public static long sizeOf(int... shape) {
        if (shape == null) {
            throw new IllegalArgumentException("shape must not be null");
        }
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + format(shape));
            }
            n *= d;
            if (n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("shape " + format(shape) + " has more than 2^31-1 elements");
            }
        }
        return n;
    }

    /** "[2, 3, 4]". */
    public static String format(int... shape) {
        return shape == null ? "null" : Arrays.toString(shape);
    }

    public int rank() {
        return shape.length;
    }

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    public int dim(int axis) {
        if (axis < 0 || axis >= shape.length) {
            throw new IllegalArgumentException("axis " + axis + " out of range for shape " + format(shape));
        }
        return shape[axis];
    }

    /** Total number of elements. */
    public long size() {
        return size;
    }

    /** Elements per row of the first dimension (size / dim(0)); 1 for a rank-1 tensor. */
    public int rowSize() {
        if (shape.length == 0) {
            return 1;
        }
        long r = 1;
        for (int i = 1; i < shape.length; i++) {
            r *= shape[i];
        }
        return (int) r;
    }

    /** The backing segment (shared with views); check {@link #offset()} before indexing it. */
    public MemorySegment segment() {
        checkOpen();
        return segment;
    }

    /** Offset of element 0 in {@link #segment()}, counted in floats. */
    public long offset() {
        return offset;
    }

    /** Whether the memory behind this tensor can still be used. */
    public boolean isOpen() {
        return segment.scope().isAlive();
    }

    /** The flat element {@code i} (row-major). */
    public float get(long i) {
        checkIndex(i);
        return segment.getAtIndex(ValueLayout.JAVA_FLOAT, offset + i);
    }

    /** Sets the flat element {@code i}. */
    public void set(long i, float v) {
        checkIndex(i);
        segment.setAtIndex(ValueLayout.JAVA_FLOAT, offset + i, v);
    }

    /** Element (r, c) of a rank-2 tensor. */
    public float get(int r, int c) {
        requireRank(2);
        if (r < 0 || r >= shape[0] || c < 0 || c >= shape[1]) {
            throw new IndexOutOfBoundsException("index (" + r + ", " + c + ") outside shape " + format(shape));
        }
        return get((long) r * shape[1] + c);
    }

    /** Sets element (r, c) of a rank-2 tensor. */
    public void set(int r, int c, float v) {
        requireRank(2);
        if (r < 0 || r >= shape[0] || c < 0 || c >= shape[1]) {
            throw new IndexOutOfBoundsException("index (" + r + ", " + c + ") outside shape " + format(shape));
        }
        set((long) r * shape[1] + c, v);
    }

    /** A view with another shape of the same size, sharing memory. One dimension may be -1 (inferred). */
    public Tensor reshape(int... newShape) {
        checkOpen();
        int[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException("reshape " + format(shape) + " to " + format(newShape)
                            + ": more than one -1");
                }
                infer = i;
            } else {
                if (s[i] < 0) {
                    throw new IllegalArgumentException("reshape " + format(shape) + " to " + format(newShape)
                            + ": negative dimension");
                }
                known *= s[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || size % known != 0) {
                throw new IllegalArgumentException("cannot reshape " + format(shape) + " to " + format(newShape));
            }
            s[infer] = (int) (size / known);
        }
        if (sizeOf(s) != size) {
            throw new IllegalArgumentException("cannot reshape " + format(shape) + " (" + size + " elements) to "
                    + format(newShape) + " (" + sizeOf(s) + " elements)");
        }
        return new Tensor(owner, segment, offset, s);
    }

    /** A view of rows [from, to) of the first dimension, sharing memory. */
    public Tensor rows(int from, int to) {
        checkOpen();
        if (shape.length == 0) {
            throw new IllegalArgumentException("rows() of a scalar tensor");
        }
        if (from < 0 || to > shape[0] || from > to) {
            throw new IllegalArgumentException("rows [" + from + ", " + to + ") outside shape " + format(shape));
        }
        int[] s = shape.clone();
        s[0] = to - from;
        return new Tensor(owner, segment, offset + (long) from * rowSize(), s);
    }

    /** Row {@code r} of the first dimension, as a view with that dimension dropped. */
    public Tensor row(int r) {
        Tensor one = rows(r, r + 1);
        return one.reshape(Arrays.copyOfRange(shape, 1, shape.length));
    }

    /** Copies {@code values} (length = size) into this tensor. */
    public void copyFrom(float[] values) {
        checkOpen();
        if (values.length != size) {
            throw new IllegalArgumentException("array of " + values.length + " values does not match shape "
                    + format(shape) + " (" + size + " elements)");
        }
        MemorySegment.copy(values, 0, segment, ValueLayout.JAVA_FLOAT, offset * Float.BYTES, values.length);
    }

    /** Copies another tensor of the same shape into this one. */
    public void copyFrom(Tensor other) {
        requireSameShape(other);
        MemorySegment.copy(other.segment(), other.offset * Float.BYTES, segment(), offset * Float.BYTES, size * Float.BYTES);
    }

    /** A new array holding the values. */
    public float[] toArray() {
        checkOpen();
        float[] out = new float[(int) size];
        MemorySegment.copy(segment, ValueLayout.JAVA_FLOAT, offset * Float.BYTES, out, 0, out.length);
        return out;
    }

    /** Sets every element to {@code v}. */
    public void fill(float v) {
        checkOpen();
        segment.asSlice(offset * Float.BYTES, size * Float.BYTES).fill((byte) 0);
        if (v != 0f) {
            for (long i = 0; i < size; i++) {
                segment.setAtIndex(ValueLayout.JAVA_FLOAT, offset + i, v);
            }
        }
    }

    /** Throws {@link IllegalArgumentException} naming both shapes unless {@code other} has this shape. */
    public void requireSameShape(Tensor other) {
        if (!Arrays.equals(shape, other.shape)) {
            throw new IllegalArgumentException("shape mismatch: " + format(shape) + " vs " + format(other.shape));
        }
    }

    /** Throws {@link IllegalArgumentException} naming both shapes unless this tensor has {@code expected}. */
    public Tensor requireShape(String what, int... expected) {
        if (!Arrays.equals(shape, expected)) {
            throw new IllegalArgumentException(what + ": expected shape " + format(expected) + " but got " + format(shape));
        }
        return this;
    }

    private void requireRank(int r) {
        if (shape.length != r) {
            throw new IllegalArgumentException("expected a rank-" + r + " tensor, got shape " + format(shape));
        }
    }

    private void checkIndex(long i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("flat index " + i + " outside shape " + format(shape));
        }
        checkOpen();
    }

    private void checkOpen() {
        if (!segment.scope().isAlive()) {
            throw owner != null ? owner.closedError()
                    : new IllegalStateException("tensor " + format(shape) + " used after its memory was released");
        }
    }

    @Override
    public String toString() {
        return "Tensor" + format(shape) + (isOpen() ? "" : " (closed)");
    }
}
