package dev.latent.kernel;

/** Runs {@link ElementwiseContract} over every provider under test ({@link KernelCases#providersUnderTest()}). */
class ElementwisePropertiesTest implements ElementwiseContract {
}
