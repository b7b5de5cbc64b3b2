package dev.latent.kernel;

/** Runs {@link ReductionsContract} over every provider under test ({@link KernelCases#providersUnderTest()}). */
class ReductionsPropertiesTest implements ReductionsContract {
}
