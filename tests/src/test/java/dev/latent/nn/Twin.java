package dev.latent.nn;

/**
 * A layer's naive double-precision twin as a pure function of the input and the parameters (in the
 * order of the subject's {@link LayerSubject#params()}): plain loops that read like the formulas
 * ({@link Reference}, {@link ConvReference}). State the float layer drew in its forward (masks, noise,
 * running statistics) is captured when the twin is made, after that forward.
 *
 * @param forward  y = f(x, p)
 * @param backward {dx, dp_0, dp_1, ...} = the vector-Jacobian products dy^T df/dx, dy^T df/dp_i
 */
record Twin(Forward forward, Backward backward) {

    /** y (B, out...) flat. */
    @FunctionalInterface
    interface Forward {
        double[] apply(double[] x, double[][] params);
    }

    /** {dx, dp_0, ...}, each flat, for dy (B, out...) flat. */
    @FunctionalInterface
    interface Backward {
        double[][] apply(double[] x, double[][] params, double[] dy);
    }

    double[] forward(double[] x, double[][] params) {
        return forward.apply(x, params);
    }

    double[][] backward(double[] x, double[][] params, double[] dy) {
        return backward.apply(x, params, dy);
    }
}
