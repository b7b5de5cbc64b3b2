package example;

import dev.latent.kernel.Kernels;
import dev.latent.serve.Encoder;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * A consumer of latent-engine: loads a trained model file (any kind), encodes one row through the
 * float[] API and a batch through the allocation-free segment API, and prints what it got.
 */
public final class Embed {

    public static void main(String[] args) throws Exception {
        try (Encoder enc = Encoder.load(Path.of(args[0])); Arena arena = Arena.ofConfined()) {
            float[] row = new float[enc.inputSize()];
            float[] code = enc.encode(row);
            int batch = 256;
            MemorySegment in = arena.allocate(ValueLayout.JAVA_FLOAT, (long) batch * enc.inputSize());
            MemorySegment out = arena.allocate(ValueLayout.JAVA_FLOAT, (long) batch * enc.codeSize());
            enc.encode(in, out, batch);
            // Row 0 of the batch (zeros) and the single zero row: the same maths through a batch kernel
            // and a one-row kernel, so equal up to float rounding of a different summation order.
            double diff = 0;
            for (int j = 0; j < enc.codeSize(); j++) {
                diff = Math.max(diff, Math.abs(out.getAtIndex(ValueLayout.JAVA_FLOAT, j) - code[j]));
            }
            System.out.printf("consumer: %s model, %d inputs -> %d features, kernels %s, batch vs single row max |diff| %.2g%n",
                    enc.kind(), enc.inputSize(), enc.codeSize(), Kernels.current().name(), diff);
            if (!(diff <= 1e-4)) {
                System.exit(1);
            }
        }
    }
}
