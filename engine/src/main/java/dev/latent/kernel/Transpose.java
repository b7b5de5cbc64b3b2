package dev.latent.kernel;

/** Whether a GEMM operand is used as stored ({@code N}) or transposed ({@code T}). */
public enum Transpose {
    /** op(X) = X. */
    N,
    /** op(X) = X^T. */
    T;

    /** {@code T} when {@code transposed}, else {@code N}. */
    public static Transpose of(boolean transposed) {
        return transposed ? T : N;
    }
}
