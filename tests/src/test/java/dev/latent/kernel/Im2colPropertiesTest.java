package dev.latent.kernel;

/** Runs {@link Im2colContract} over every provider under test ({@link KernelCases#providersUnderTest()}). */
class Im2colPropertiesTest implements Im2colContract {
}
