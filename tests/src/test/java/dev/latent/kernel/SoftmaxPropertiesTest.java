package dev.latent.kernel;

/** Runs {@link SoftmaxContract} over every provider under test ({@link KernelCases#providersUnderTest()}). */
class SoftmaxPropertiesTest implements SoftmaxContract {
}
