package dev.latent.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shape of the engine (README "Layout"), checked on the compiled classes with ArchUnit: no cycle
 * between packages at any depth (model.autoencoder and model count as two), the data flow of DESIGN.md
 * as layers that only import downwards, and no import of a kernel provider's package outside
 * {@code kernel} (providers are found through {@code KernelProvider} and {@code ServiceLoader}).
 */
class ArchitectureTest {

    static JavaClasses engine;

    @BeforeAll
    static void importEngine() {
        // Main classes of every module on the class path (engine, native-bindings, cli); tests excluded.
        engine = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.latent");
    }

    @Test
    void noPackageCyclesAtAnyDepth() {
        slices().matching("dev.latent.(**)").should().beFreeOfCycles().check(engine);
    }

    @Test
    void layersOnlyImportDownwards() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("tensor").definedBy("dev.latent.tensor..")
                .layer("kernel").definedBy("dev.latent.kernel..")
                .layer("io").definedBy("dev.latent.io..")
                .layer("data").definedBy("dev.latent.data..")
                .layer("nn").definedBy("dev.latent.nn..", "dev.latent.loss..", "dev.latent.optim..")
                .layer("train").definedBy("dev.latent.train..")
                .layer("viz").definedBy("dev.latent.viz..")
                .layer("model").definedBy("dev.latent.model..")
                .layer("eval").definedBy("dev.latent.eval..")
                .layer("serve").definedBy("dev.latent.serve..", "dev.latent.onnx..", "dev.latent.workload..")
                .layer("experiment").definedBy("dev.latent.experiment..")
                .whereLayer("experiment").mayNotBeAccessedByAnyLayer()
                .whereLayer("serve").mayOnlyBeAccessedByLayers("experiment")
                .whereLayer("eval").mayOnlyBeAccessedByLayers("serve", "experiment")
                .whereLayer("model").mayOnlyBeAccessedByLayers("eval", "serve", "experiment")
                .whereLayer("viz").mayOnlyBeAccessedByLayers("eval", "serve", "experiment")
                .whereLayer("train").mayOnlyBeAccessedByLayers("model", "eval", "serve", "experiment")
                .check(engine);
    }

    @Test
    void noProviderPackageIsImportedOutsideKernel() {
        noClasses().that().resideOutsideOfPackages("dev.latent.kernel..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.latent.kernel.simd..", "dev.latent.kernel.scalar..")
                .check(engine);
    }

    @Test
    void modelsDoNotDrawPicturesOrEvaluateThemselves() {
        noClasses().that().resideInAPackage("dev.latent.model..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.latent.viz..", "dev.latent.eval..", "dev.latent.serve..",
                        "dev.latent.onnx..")
                .check(engine);
    }
}
