package dev.latent.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import dev.latent.kernel.Activation;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.loss.KlSparsity;
import dev.latent.loss.Mse;
import dev.latent.loss.WeightDecay;
import dev.latent.nn.ActivationLayer;
import dev.latent.nn.Dense;
import dev.latent.nn.Sequential;
import dev.latent.optim.Adam;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A steady-state training step allocates (almost) nothing on the Java heap: once the JIT has compiled
 * the step (warm-up runs in 50-step windows, at least 7, until one allocates at most the limit per step, at
 * most 4,000 steps), 50 steps of a sparse autoencoder (784-64-784, KL sparsity, weight decay, Adam) under each
 * provider allocate at most 2 KiB per step on the calling thread, as measured by
 * {@code ThreadMXBean.getThreadAllocatedBytes}. Not 0, and why: a native provider passes each GEMM
 * operand to its FFM downcall as a segment slice (3 small objects per call, 6 GEMM calls per step:
 * about 0.9 KB); the Vector API kernels leave up to about 1 KB per step of objects that C2's escape
 * analysis does not remove, depending on how the JIT compiled them (measured in one run: simd 264 B
 * to 1,040 B, openblas 864 B to 1,728 B, scalar 176 B to 264 B; the test prints its warm-up trace). A regression
 * that copies a tensor into a float[], rebuilds views or formats a message per call allocates tens of
 * kilobytes per step (the kernels before they were restructured: 100-750 KB) and fails. Off-heap memory is planned once
 * (Sequential, ParamSlab, Adam state), so the step cannot allocate off-heap either.
 */
class AllocationTest {

    static final long BYTES_PER_STEP_LIMIT = 2048;

    static List<String> providers() {
        return KernelRegistry.availableNames();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void trainingStepAllocatesNothing(String provider) {
        Kernels k = KernelRegistry.load(provider);
        int batch = 32;
        try (Sequential net = new Sequential("alloc", List.of(new Dense("enc", 784, 64), new ActivationLayer("s1", Activation.SIGMOID),
                new Dense("dec", 64, 784), new ActivationLayer("s2", Activation.SIGMOID)))
                .penalize(1, new KlSparsity(0.1, 3)).build(new int[] {784}, batch, k);
             Adam adam = Adam.of(net.slab(), 1e-3); Workspace ws = new Workspace("alloc-data")) {
            net.init(3);
            Tensor x = ws.allocate(batch, 784);
            SplittableRandom r = new SplittableRandom(1);
            for (long i = 0; i < x.size(); i++) {
                x.set(i, (float) r.nextDouble());
            }
            WeightDecay wd = new WeightDecay(1e-4);
            Mse mse = Mse.halfSumPerSample();
            ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
            long tid = Thread.currentThread().threadId();
            int steps = 50;
            StringBuilder trace = new StringBuilder();
            for (int window = 0; window < 80; window++) {
                long t0 = mx.getThreadAllocatedBytes(tid);
                for (int i = 0; i < steps; i++) {
                    Trainer.step(net, mse, adam, wd, x, x);
                }
                long used = (mx.getThreadAllocatedBytes(tid) - t0) / steps;
                trace.append(used).append(' ');
                if (window >= 6 && used <= BYTES_PER_STEP_LIMIT) {
                    break;
                }
            }
            System.out.println(provider + ": bytes per step during warm-up, per 50-step window: " + trace);
            long before = mx.getThreadAllocatedBytes(tid);
            double sink = 0;
            for (int i = 0; i < steps; i++) {
                sink += Trainer.step(net, mse, adam, wd, x, x);
            }
            long perStep = (mx.getThreadAllocatedBytes(tid) - before) / steps;
            assertTrue(Double.isFinite(sink));
            assertTrue(perStep <= BYTES_PER_STEP_LIMIT, provider + ": a training step allocated " + perStep
                    + " bytes on the heap (limit " + BYTES_PER_STEP_LIMIT + ")");
        }
    }
}
