package dev.latent.kernel;

/** Runs {@link UpdateContract} over every provider under test ({@link KernelCases#providersUnderTest()}). */
class UpdatePropertiesTest implements UpdateContract {
}
