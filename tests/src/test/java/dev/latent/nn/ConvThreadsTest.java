package dev.latent.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.kernel.KernelPool;
import dev.latent.kernel.KernelRegistry;
import dev.latent.kernel.Kernels;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * {@link Conv2d} and {@link ConvTranspose2d} run their batch chunks as tasks on the kernel pool
 * ({@link ConvChunks}); the bits must not depend on that. Each layer is run forward and backward with
 * the simd kernels on a pool of 4 threads (more tasks at once than this machine has cores, so tasks
 * interleave and race for scratch slots if they can) and on the caller alone (a one-thread pool), on
 * full and partial batches: output, input gradient and parameter gradients must be equal bit for bit
 * (tolerance 0: each chunk's samples, its operation order and the order its gradient partials are
 * added in are fixed by the batch size alone). Two backward passes check that gradients accumulate.
 */
class ConvThreadsTest {

    @Test
    void convolutionsGiveTheSameBitsOnOneThreadOrSeveral() {
        Kernels simd = KernelRegistry.load("simd");
        Kernels many = withPool(simd, new KernelPool(4));
        Kernels one = withPool(simd, new KernelPool(1));
        List<Supplier<Layer>> layers = List.of(
                () -> new Conv2d("c", 3, 8, 3, 2, 1, true),
                () -> new Conv2d("c", 1, 5, 3, 1, 1, false),
                () -> new ConvTranspose2d("t", 8, 3, 3, 2, 1, 1, true),
                () -> new ConvTranspose2d("t", 4, 1, 3, 2, 1, 1, false));
        int[][] inputs = {{3, 12, 12}, {1, 9, 11}, {8, 6, 6}, {4, 5, 7}};
        int maxBatch = 37; // odd: chunks of unequal fill
        for (int i = 0; i < layers.size(); i++) {
            for (int batch : new int[] {maxBatch, 17, 1}) {
                List<float[]> a = run(layers.get(i).get(), inputs[i], maxBatch, batch, many);
                List<float[]> b = run(layers.get(i).get(), inputs[i], maxBatch, batch, one);
                String what = layers.get(i).get().getClass().getSimpleName() + " " + Tensor.format(inputs[i]) + " batch " + batch;
                String[] names = {"output", "input gradient", "weight gradient", "bias gradient"};
                for (int j = 0; j < a.size(); j++) {
                    assertArrayEquals(b.get(j), a.get(j), what + ": " + names[j] + " on 4 threads vs 1");
                }
                assertTrue(a.size() >= 3, what);
            }
        }
    }

    private static Kernels withPool(Kernels k, KernelPool pool) {
        return new Kernels(k.name(), k.gemm(), k.elementwise(), k.reductions(), k.activations(), k.softmax(), k.im2col(),
                k.details(), pool);
    }

    /** y, dx, then every parameter gradient after two backward passes, of layer l built on kernels k. */
    private static List<float[]> run(Layer l, int[] sample, int maxBatch, int batch, Kernels k) {
        try (Workspace ws = new Workspace("conv-threads")) {
            LayerData.build(l, sample, maxBatch, k, ws);
            SplittableRandom r = new SplittableRandom(42);
            for (Param p : l.params()) {
                p.value().copyFrom(LayerData.random(r, (int) p.size()));
                p.grad().fill(0f);
            }
            int[] out = l.outputShape(sample);
            Tensor x = ws.allocate(LayerData.batched(batch, sample));
            x.copyFrom(LayerData.random(r, (int) x.size()));
            Tensor y = ws.allocate(LayerData.batched(batch, out));
            Tensor dy = ws.allocate(LayerData.batched(batch, out));
            dy.copyFrom(LayerData.random(r, (int) dy.size()));
            Tensor dx = ws.allocate(LayerData.batched(batch, sample));
            l.forward(x, y, true);
            l.backward(x, y, dy, dx);
            l.backward(x, y, dy, dx);
            List<float[]> result = new ArrayList<>(List.of(y.toArray(), dx.toArray()));
            for (Param p : l.params()) {
                result.add(p.grad().toArray());
            }
            return result;
        }
    }
}
