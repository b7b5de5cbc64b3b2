package dev.latent.kernel;

/**
 * An invalid kernel setting ({@code -Dlatent.kernels}, {@code LATENT_KERNELS}, {@code -Dlatent.threads},
 * {@code -Dlatent.vector.bits}, ...): the message names the setting, the value and what is allowed.
 * Never a reason to fall back to slower kernels: {@link KernelRegistry} reports it instead of skipping
 * the provider, so a mistyped setting cannot silently cost speed.
 */
public class KernelConfigException extends IllegalArgumentException {

    public KernelConfigException(String message) {
        super(message);
    }
}
