package dev.latent.kernel;

/** Runs {@link ActivationContract} over every provider under test ({@link KernelCases#providersUnderTest()}). */
class ActivationPropertiesTest implements ActivationContract {
}
