package dev.latent.kernel.scalar;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.latent.kernel.Activation;
import dev.latent.kernel.Activations;
import dev.latent.kernel.Bounds;
import java.lang.foreign.MemorySegment;

/** The activation formulas of {@link Activation}, evaluated in double and rounded once. */
final class ScalarActivations implements Activations {

    @Override
    public void forward(Activation f, int n, MemorySegment z, long zOff, MemorySegment a, long aOff) {
        Bounds.count("activation n", n);
        Bounds.run("activation z", z, zOff, n);
        Bounds.run("activation a", a, aOff, n);
        for (int i = 0; i < n; i++) {
            a.setAtIndex(JAVA_FLOAT, aOff + i, (float) value(f, z.getAtIndex(JAVA_FLOAT, zOff + i)));
        }
    }

    @Override
    public void backward(Activation f, int n, MemorySegment z, long zOff, MemorySegment a, long aOff,
                         MemorySegment da, long daOff, MemorySegment dz, long dzOff) {
        Bounds.count("activation n", n);
        boolean fromOutput = f.derivativeFromOutput();
        if (f.kind() != Activation.Kind.IDENTITY) {
            if (fromOutput) {
                Bounds.run("activation backward a", a, aOff, n);
            } else {
                Bounds.run("activation backward z", z, zOff, n);
            }
        }
        Bounds.run("activation backward da", da, daOff, n);
        Bounds.run("activation backward dz", dz, dzOff, n);
        for (int i = 0; i < n; i++) {
            double g = da.getAtIndex(JAVA_FLOAT, daOff + i);
            double d = switch (f.kind()) {
                case SIGMOID -> {
                    double y = a.getAtIndex(JAVA_FLOAT, aOff + i);
                    yield y * (1 - y);
                }
                case TANH -> {
                    double y = a.getAtIndex(JAVA_FLOAT, aOff + i);
                    yield 1 - y * y;
                }
                case RELU -> z.getAtIndex(JAVA_FLOAT, zOff + i) > 0 ? 1 : 0;
                case LEAKY_RELU -> z.getAtIndex(JAVA_FLOAT, zOff + i) > 0 ? 1 : f.slope();
                case SOFTPLUS -> 1 / (1 + Math.exp(-(double) z.getAtIndex(JAVA_FLOAT, zOff + i)));
                case IDENTITY -> 1;
            };
            dz.setAtIndex(JAVA_FLOAT, dzOff + i, (float) (d * g));
        }
    }

    /** f(z) in double: the reference formula. */
    static double value(Activation f, double z) {
        return switch (f.kind()) {
            case SIGMOID -> 1 / (1 + Math.exp(-z));
            case TANH -> Math.tanh(z);
            case RELU -> z > 0 ? z : 0;
            case LEAKY_RELU -> z > 0 ? z : f.slope() * z;
            case SOFTPLUS -> Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
            case IDENTITY -> z;
        };
    }
}
