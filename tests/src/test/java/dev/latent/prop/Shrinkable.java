package dev.latent.prop;

import java.util.List;

/**
 * A test shape that can propose smaller versions of itself for {@link Prop#check}: each candidate
 * halves one dimension (or drops one offset/padding to 0), and is itself valid.
 */
public interface Shrinkable<S extends Shrinkable<S>> {

    /** Strictly smaller valid shapes, most aggressive first; empty when nothing can shrink. */
    List<S> smaller();
}
