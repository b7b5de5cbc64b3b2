package dev.latent.optim;

/**
 * Updates parameters from their gradients. State (momentum, moments) is allocated once, at
 * construction; {@link #step()} allocates nothing. Close to free the state.
 */
public interface Optimizer extends AutoCloseable {

    /** Applies one update using the gradients currently accumulated. */
    void step();

    /** Steps taken so far (the schedule's t). */
    long steps();

    /** Sets the step counter (when resuming from a checkpoint). */
    void setSteps(long steps);

    /** The optimizer state as one run of floats (for checkpoints), possibly empty. */
    dev.latent.tensor.Tensor state();

    @Override
    void close();
}
