package dev.latent.kernel;

/** Runs {@link GemmContract} over every provider under test ({@link KernelCases#providersUnderTest()}). */
class GemmPropertiesTest implements GemmContract {
}
