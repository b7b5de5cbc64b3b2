package dev.latent.model;

import dev.latent.model.autoencoder.Autoencoder;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.latent.data.NaturalPatches;
import dev.latent.kernel.Activation;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * A sparse autoencoder on 8x8 natural-image patches learns localized edge detectors (UFLDL's sparse
 * autoencoder exercise: 64-25-64, rho 0.01, beta 3, weight decay 1e-4, 10,000 patches). Measured
 * property, "localized": the share of a filter's energy (sum of w^2) in its 16 strongest pixels (a
 * quarter of the patch). Untrained (uniform random) weights put 0.57 there; an edge detector puts
 * most of its energy along one short edge. Measured after 60 epochs: 0.75. The test asks for a mean
 * over the 25 filters above 0.65 after training and a rise of at least 0.1 over the untrained filters.
 * Needs ../shared/data/natural-images beside the repository.
 */
class NaturalPatchFiltersTest {

    static Path images() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            Path p = dir.resolveSibling("shared").resolve("data").resolve("natural-images");
            if (Files.isDirectory(p)) {
                return p;
            }
            p = dir.resolve("shared").resolve("data").resolve("natural-images");
            if (Files.isDirectory(p)) {
                return p;
            }
            dir = dir.getParent();
        }
        return null;
    }

    static double concentration(Tensor w) {
        int units = w.dim(0);
        int d = w.rowSize();
        double total = 0;
        for (int u = 0; u < units; u++) {
            float[] row = w.row(u).toArray();
            double[] e = new double[d];
            double sum = 0;
            for (int i = 0; i < d; i++) {
                e[i] = (double) row[i] * row[i];
                sum += e[i];
            }
            Arrays.sort(e);
            double top = 0;
            for (int i = d - d / 4; i < d; i++) {
                top += e[i];
            }
            total += top / sum;
        }
        return total / units;
    }

    @Test
    void learnsLocalizedFilters() throws Exception {
        Path dir = images();
        assumeTrue(dir != null, "../shared/data/natural-images not found");
        try (Workspace ws = new Workspace("patches");
             Autoencoder sae = Autoencoder.builder(64).hidden(25).activation(Activation.SIGMOID).klSparsity(0.01, 3)
                     .weightDecay(1e-4).maxBatch(100).build().init(1)) {
            Tensor x = NaturalPatches.sample(NaturalPatches.images(dir), 8, 10_000, 1, ws);
            double before = concentration(sae.firstEncoder().weight().value());
            sae.fit(x, null, Trainer.Config.of(60, 100, 1), 1e-2, null);
            double after = concentration(sae.firstEncoder().weight().value());
            System.out.printf("natural patches: energy share of the strongest quarter of pixels %.3f -> %.3f%n", before, after);
            dev.latent.viz.ImageGrid.filters(Path.of("target", "natural-patch-filters.png"), sae.firstEncoder().weight().value(), 8, 8, 5, 8);
            assertTrue(after > 0.65 && after > before + 0.1, String.format("filters not localized: %.3f -> %.3f", before, after));
        }
    }
}
