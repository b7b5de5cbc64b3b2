package dev.latent.bench.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.Kernels;
import dev.latent.nn.Layer;
import dev.latent.nn.Param;
import dev.latent.nn.Sequential;
import dev.latent.workload.EncoderWorkload;
import dev.latent.workload.Workload;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The arithmetic behind {@code ceiling_fraction}: the workloads' FLOP counts against their networks as
 * built, and the row decorator. The ceiling itself is only required to be a positive finite rate: its
 * value depends on the machine and its load.
 */
class CeilingTest {

    /**
     * Counted independently of {@link Workload#trainingFlopPerSample}'s table: from the built network, a
     * layer's multiply-adds per sample are its weight count times the positions the weights slide over
     * (the output positions of a convolution, the input positions of a transposed one, 1 for a dense
     * layer); training does forward + weight gradient for every layer and input gradient for all but the
     * first. Exact in integers, so equality is asserted to 1e-12 relative (double rounding only).
     */
    @ParameterizedTest
    @EnumSource(Workload.class)
    void workloadFlopsMatchTheBuiltNetwork(Workload w) {
        try (Sequential net = w.build(Kernels.current(), 1)) {
            int[] shape = w.inputShape();
            double flop = 0;
            boolean first = true;
            for (Layer layer : net.layers()) {
                int[] out = layer.outputShape(shape);
                long weights = layer.params().stream().filter(Param::decay).mapToLong(p -> p.value().size()).sum();
                if (weights > 0) {
                    boolean transposed = layer.getClass().getSimpleName().startsWith("ConvTranspose");
                    int[] slides = transposed ? shape : out;
                    long positions = slides.length == 3 ? (long) slides[1] * slides[2] : 1;
                    flop += 2.0 * weights * positions * (first ? 2 : 3);
                    first = false;
                }
                shape = out;
            }
            assertEquals(flop, w.trainingFlopPerSample(), 1e-12 * flop, w + ": FLOPs of the built network");
        }
    }

    @Test
    void theIssuesReferenceCountsHold() {
        // W1 a step of 256: 393 MFLOP; W5 a sample: 2.83 MFLOP (issue 12's figures).
        assertEquals(393.4e6, Workload.W1.trainingFlopPerSample() * 256, 0.1e6);
        assertEquals(2.833e6, EncoderWorkload.flopPerSample(), 0.001e6);
    }

    @Test
    void theDecoratorTurnsARateIntoAFraction() {
        double ceiling = Ceiling.gflops();
        assertTrue(ceiling > 0 && Double.isFinite(ceiling), "ceiling " + ceiling);
        Row r = Row.of("train", "pytorch").put("samples_per_s", 1000.0, 1).put("correct", true);
        Row d = Ceiling.fromRate("samples_per_s", x -> 2e6).apply(r);
        assertEquals(2.0, d.number("gflops"), 1e-9);
        // the row stores the fraction to 3 decimals
        assertEquals(2.0 / ceiling, d.number("ceiling_fraction"), 5e-4);
        Row unknown = Ceiling.fromRate("samples_per_s", x -> Double.NaN).apply(Row.of("train", "latent").put("samples_per_s", 5.0, 1));
        assertFalse(unknown.has("ceiling_fraction"), "no FLOP count, no fraction");
        Row wrong = Ceiling.fromRate("samples_per_s", x -> 1).apply(Row.of("train", "latent").put("samples_per_s", 5.0, 1).put("correct", false));
        assertFalse(wrong.has("ceiling_fraction"), "a wrong row gets no fraction");
    }
}
