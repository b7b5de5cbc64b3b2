package dev.latent.nn;

import java.util.Locale;

/**
 * An input corruption for denoising autoencoders, as text {@code masking:F} (a fraction F in [0, 1]
 * of each sample's units set to 0, {@link MaskingNoise}) or {@code gaussian:S} (additive noise of
 * standard deviation S, {@link GaussianNoise}). The text form is what model configs and the CLI
 * store and {@link #parse} reads back.
 */
public record Corruption(Kind kind, double amount) {

    public enum Kind { MASKING, GAUSSIAN }

    public Corruption {
        if (kind == null) {
            throw new IllegalArgumentException("corruption kind must be masking or gaussian");
        }
        if (kind == Kind.MASKING && !(amount >= 0 && amount <= 1)) {
            throw new IllegalArgumentException("masking corruption: the fraction must be in [0, 1], got " + amount);
        }
        if (kind == Kind.GAUSSIAN && !(amount >= 0 && amount < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("gaussian corruption: sigma must be finite and >= 0, got " + amount);
        }
    }

    /** Zero a fraction of each sample's units. */
    public static Corruption masking(double fraction) {
        return new Corruption(Kind.MASKING, fraction);
    }

    /** Add N(0, sigma^2) noise to every unit. */
    public static Corruption gaussian(double sigma) {
        return new Corruption(Kind.GAUSSIAN, sigma);
    }

    /** Reads {@code masking:0.3} or {@code gaussian:0.1}; the message says what is wrong. */
    public static Corruption parse(String text) {
        int colon = text.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("corruption '" + text + "' must be masking:FRACTION or gaussian:SIGMA");
        }
        String name = text.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        double amount;
        try {
            amount = Double.parseDouble(text.substring(colon + 1).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("corruption '" + text + "': '" + text.substring(colon + 1) + "' is not a number", e);
        }
        return switch (name) {
            case "masking" -> masking(amount);
            case "gaussian" -> gaussian(amount);
            default -> throw new IllegalArgumentException("corruption '" + text + "': unknown kind '" + name
                    + "'; expected masking or gaussian");
        };
    }

    /** The layer that applies this corruption in training (and is the identity in inference). */
    public NoiseLayer layer(String name, long seed) {
        return kind == Kind.MASKING ? new MaskingNoise(name, amount, seed) : new GaussianNoise(name, amount, seed);
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(Locale.ROOT) + ":" + amount;
    }
}
