package dev.latent.serve;

import dev.latent.io.BadInputException;
import dev.latent.io.ModelFile;
import dev.latent.io.SafeTensors;
import dev.latent.kernel.Kernels;
import dev.latent.model.FeatureExtractor;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.model.autoencoder.ConvAutoencoder;
import dev.latent.model.autoencoder.ResidualAutoencoder;
import dev.latent.model.autoencoder.StackedAutoencoder;
import dev.latent.model.gan.Gan;
import dev.latent.model.hebbian.Hebbian;
import dev.latent.model.kmeans.KMeansFeatures;
import dev.latent.model.kmeans.KMeansStack;
import dev.latent.model.rbm.Rbm;
import dev.latent.model.selfsup.SelfSupervised;
import dev.latent.model.selfsup.SelfSupervised.Pretext;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;

/**
 * The one place that reads a model file's kind ({@code __metadata__.kind}) and turns the file into a
 * model: everything else (the {@link Encoder}, {@code latent fewlabel}, {@code latent encode}, Spark)
 * works through the {@link FeatureExtractor} it returns. A new model kind is one row of {@link #KINDS}.
 */
public final class ModelKinds {

    /** A model kind: its file name, whether its encoder is dense layers only, and its loader. */
    public record Kind(String name, boolean dense, Loader loader, String features) {
    }

    /** Reads a model file of one kind. */
    @FunctionalInterface
    public interface Loader {
        FeatureExtractor load(Path file, Kernels kernels) throws IOException;
    }

    /** Every kind latent writes, with what its features are. */
    public static final List<Kind> KINDS = List.of(
            new Kind("autoencoder", true, Autoencoder::load, "the codes f(x)"),
            new Kind(ResidualAutoencoder.KIND, true, ResidualAutoencoder::load, "the codes f(x)"),
            new Kind(StackedAutoencoder.KIND, true, StackedAutoencoder::load, "the top codes (of the fine-tuned encoder when kept)"),
            new Kind(ConvAutoencoder.KIND, false, ConvAutoencoder::load, "the flattened code maps"),
            new Kind(KMeansFeatures.KIND, false, KMeansStack::load, "quadrant-pooled k-means encodings (one or two layers)"),
            new Kind(Gan.KIND, false, Gan::load, "the discriminator's pooled hidden activations"),
            new Kind(Hebbian.KIND, false, (file, kernels) -> Hebbian.load(file), "the projections W (x - mean)"),
            new Kind(Rbm.KIND, false, Rbm::load, "the hidden probabilities p(h=1|v)"),
            new Kind(Pretext.CONTRASTIVE.kind(), false, SelfSupervised::load, "the conv encoder's pooled output (before the projection head)"),
            new Kind(Pretext.EXEMPLAR.kind(), false, SelfSupervised::load, "the conv encoder's pooled output (before the surrogate-class head)"),
            new Kind(Pretext.PATCH_POSITION.kind(), false, SelfSupervised::load, "the conv encoder's outputs on a 3x3 grid of patches"));

    private ModelKinds() {
    }

    /** {@code __metadata__.kind} of a latent model file (format and version checked). */
    public static String kindOf(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.Loaded l = SafeTensors.read(file, arena);
            ModelFile.requireKind(l, null);
            return l.meta("kind");
        }
    }

    /** The kind named {@code name}, or a {@link BadInputException} naming the file and the kinds latent knows. */
    public static Kind kind(String name, Path file) {
        for (Kind k : KINDS) {
            if (k.name().equals(name)) {
                return k;
            }
        }
        throw new BadInputException(file + ": __metadata__.kind '" + name + "' is not a model kind this latent knows ("
                + String.join(", ", KINDS.stream().map(Kind::name).toList()) + ")");
    }

    /** Whether models of this kind encode with dense layers only (the {@link Encoder} then runs from the loaded tensors). */
    public static boolean isDense(String kind) {
        return KINDS.stream().anyMatch(k -> k.name().equals(kind) && k.dense());
    }

    /** The model in {@code file}, of whatever kind it is, computing with {@code kernels}; the caller closes it. */
    public static FeatureExtractor load(Path file, Kernels kernels) throws IOException {
        return kind(kindOf(file), file).loader().load(file, kernels);
    }
}
