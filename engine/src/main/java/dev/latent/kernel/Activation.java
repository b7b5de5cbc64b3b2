package dev.latent.kernel;

/**
 * A pointwise activation a = f(z), with its derivative. {@code slope} is the negative-side slope of
 * leaky ReLU and 0 for every other kind.
 *
 * <table>
 *   <caption>Formulas (the contract every provider implements)</caption>
 *   <tr><th>kind</th><th>f(z)</th><th>f'(z), as computed by the backward kernel</th></tr>
 *   <tr><td>SIGMOID</td><td>1 / (1 + e^-z)</td><td>a (1 - a), from the output a</td></tr>
 *   <tr><td>TANH</td><td>tanh z</td><td>1 - a^2, from the output a</td></tr>
 *   <tr><td>RELU</td><td>max(0, z)</td><td>1 if z &gt; 0 else 0, from the input z</td></tr>
 *   <tr><td>LEAKY_RELU</td><td>z if z &gt; 0 else slope z</td><td>1 if z &gt; 0 else slope, from z</td></tr>
 *   <tr><td>SOFTPLUS</td><td>log(1 + e^z), computed as max(z, 0) + log1p(e^-|z|)</td>
 *       <td>sigmoid(z), from z</td></tr>
 *   <tr><td>IDENTITY</td><td>z</td><td>1</td></tr>
 * </table>
 */
public record Activation(Kind kind, float slope) {

    /** The activation families. */
    public enum Kind { SIGMOID, TANH, RELU, LEAKY_RELU, SOFTPLUS, IDENTITY }

    public static final Activation SIGMOID = new Activation(Kind.SIGMOID, 0f);
    public static final Activation TANH = new Activation(Kind.TANH, 0f);
    public static final Activation RELU = new Activation(Kind.RELU, 0f);
    public static final Activation SOFTPLUS = new Activation(Kind.SOFTPLUS, 0f);
    public static final Activation IDENTITY = new Activation(Kind.IDENTITY, 0f);

    public Activation {
        if (kind == null) {
            throw new IllegalArgumentException("activation kind must not be null");
        }
        if (kind != Kind.LEAKY_RELU && slope != 0f) {
            throw new IllegalArgumentException("slope " + slope + " given for " + kind + "; only LEAKY_RELU has one");
        }
        if (!Float.isFinite(slope)) {
            throw new IllegalArgumentException("leaky ReLU slope must be finite, got " + slope);
        }
    }

    /** Leaky ReLU with negative-side slope {@code slope} (0.2 in DCGAN's discriminator). */
    public static Activation leakyRelu(float slope) {
        return new Activation(Kind.LEAKY_RELU, slope);
    }

    /** Whether the backward kernel reads the output a (else it reads the input z). */
    public boolean derivativeFromOutput() {
        return kind == Kind.SIGMOID || kind == Kind.TANH;
    }

    /** Parses "sigmoid", "tanh", "relu", "leaky_relu[:slope]" (default 0.01), "softplus", "identity". */
    public static Activation parse(String text) {
        String t = text.trim().toLowerCase(java.util.Locale.ROOT).replace('-', '_');
        if (t.startsWith("leaky_relu")) {
            String rest = t.substring("leaky_relu".length());
            if (rest.isEmpty()) {
                return leakyRelu(0.01f);
            }
            if (rest.startsWith(":")) {
                try {
                    return leakyRelu(Float.parseFloat(rest.substring(1)));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("bad leaky ReLU slope in '" + text + "'", e);
                }
            }
        }
        return switch (t) {
            case "sigmoid" -> SIGMOID;
            case "tanh" -> TANH;
            case "relu" -> RELU;
            case "softplus" -> SOFTPLUS;
            case "identity", "linear" -> IDENTITY;
            default -> throw new IllegalArgumentException("unknown activation '" + text
                    + "'; expected sigmoid, tanh, relu, leaky_relu[:slope], softplus or identity");
        };
    }

    @Override
    public String toString() {
        return kind == Kind.LEAKY_RELU ? "leaky_relu:" + slope : kind.name().toLowerCase(java.util.Locale.ROOT);
    }
}
