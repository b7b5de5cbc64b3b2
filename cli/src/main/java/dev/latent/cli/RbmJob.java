package dev.latent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latent.data.Dataset;
import dev.latent.eval.FewLabel;
import dev.latent.io.ModelFile;
import dev.latent.kernel.Kernels;
import dev.latent.model.Hyperparameters;
import dev.latent.model.Hyperparameters.Param;
import dev.latent.model.rbm.Rbm;
import dev.latent.tensor.Tensor;
import dev.latent.tensor.Workspace;
import dev.latent.viz.ImageGrid;
import java.io.BufferedWriter;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/**
 * {@code latent train --kind rbm}: a restricted Boltzmann machine. Hyperparameters:
 * {@link Rbm#HYPERPARAMETERS} ({@code visible=bernoulli|gaussian}, {@code hidden=200}, {@code sigma},
 * {@code k=1}, {@code persistent=false}, {@code eta=0.05}, {@code momentum=0.5},
 * {@code weight_decay=2e-4}, {@code init_std=0.01}); epochs and batch from --epochs and --batch (--lr is
 * not used: the rate is {@code eta}). With labelled data it learns from the few-label pool (the test
 * split held out, as {@code latent fewlabel} uses it) and reports the held-out numbers too. Writes
 * model.safetensors, filters.png (the first 100 units' w_j / ||w_j||) and metrics.jsonl: per epoch the
 * mean free energy and the mean-field reconstruction error per image on the training and held-out
 * rows, and for hidden <= 20 the exact mean log-likelihood (log Z by enumerating the hidden states);
 * progress per epoch on stderr. At the end, for more hidden units, an AIS estimate of the
 * log-likelihood ({@code ais_chains=100}, {@code ais_temperatures=1000}; Bernoulli units).
 */
final class RbmJob implements TrainJob {

    /** The exact log-likelihood is reported up to this many hidden units (2^20 states per epoch). */
    static final int EXACT_LL_HIDDEN = 20;

    static final Param<Integer> AIS_CHAINS = Param.integer("ais_chains", 100, 0, 1 << 20,
            "hidden > 20: AIS runs estimating log Z at the end (0: no estimate)");
    static final Param<Integer> AIS_TEMPERATURES = Param.integer("ais_temperatures", 1000, 1, 1 << 24, "AIS: intermediate distributions");
    private static final Hyperparameters KEYS = Rbm.HYPERPARAMETERS.plus(AIS_CHAINS, AIS_TEMPERATURES);

    @Override
    public Hyperparameters hyperparameters() {
        return KEYS;
    }

    @Override
    public String name() {
        return "rbm";
    }

    @Override
    public String description() {
        return "restricted Boltzmann machine (Bernoulli or Gaussian visible units), CD-k or persistent CD";
    }

    @Override
    public List<String> writes() {
        return List.of("model.safetensors", "metrics.jsonl", "filters.png");
    }

    /** The tour: 100 hidden units, 5 epochs, no AIS estimate. */
    @Override
    public Tour tour() {
        return new Tour(5, 128, Map.of("hidden", "100", "ais_chains", "0"), 4);
    }

    @Override
    public int run(TrainCommand.Options o, PrintWriter out) throws Exception {
        Files.createDirectories(o.out());
        Rbm.Config config = Rbm.Config.of(o.set());
        int aisChains = o.get(AIS_CHAINS);
        long t0 = System.nanoTime();
        ObjectMapper json = new ObjectMapper();
        try (Dataset all = o.data(); Workspace ws = new Workspace("rbm-job")) {
            Tensor train;
            Tensor test = null;
            if (all.hasLabels()) {
                FewLabel.Split s = FewLabel.split(all.labels(), 0.2, 1);
                train = FewLabel.gather(all.images(), s.pool(), ws);
                test = FewLabel.gather(all.images(), s.test(), ws);
            } else {
                train = ws.allocate(all.size(), all.features());
                train.copyFrom(all.images());
            }
            Tensor heldOut = test;
            System.err.printf(Locale.ROOT, "rbm: %s visible x %d hidden, %s-%d, on %d images (%s)%s, %s kernels%n", config.visible(),
                    config.hidden(), config.persistent() ? "PCD" : "CD", config.k(), train.dim(0), all.name(),
                    test == null ? "" : ", " + test.dim(0) + " held out", Kernels.current().name());
            Path metrics = o.out().resolve("metrics.jsonl");
            try (BufferedWriter log = Files.newBufferedWriter(metrics);
                 Rbm rbm = new Rbm(config, new int[] {all.height() * all.width()}, o.seed(), Kernels.current())) {
                long[] last = {System.nanoTime()};
                rbm.fit(train, o.epochs(), o.batch(), o.seed(), (epoch, m) -> {
                    double seconds = (System.nanoTime() - last[0]) * 1e-9;
                    ObjectNode line = json.createObjectNode().put("epoch", epoch)
                            .put("free_energy", m.freeEnergy(train)).put("reconstruction_error", m.reconstructionError(train));
                    if (heldOut != null) {
                        line.put("test_free_energy", m.freeEnergy(heldOut)).put("test_reconstruction_error", m.reconstructionError(heldOut));
                    }
                    if (config.hidden() <= EXACT_LL_HIDDEN) {
                        double logZ = m.logPartition();
                        line.put("log_z", logZ).put("log_likelihood", -line.get("free_energy").asDouble() - logZ);
                        if (heldOut != null) {
                            line.put("test_log_likelihood", -line.get("test_free_energy").asDouble() - logZ);
                        }
                    }
                    line.put("samples_per_second", train.dim(0) / seconds);
                    try {
                        log.write(line.toString());
                        log.newLine();
                        log.flush();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(dev.latent.io.AtomicFiles.cannotWrite(metrics, e));
                    }
                    System.err.printf(Locale.ROOT, "rbm: epoch %d/%d  free energy %.3f  reconstruction error %.3f%s%s  %.0f samples/s%n",
                            epoch, o.epochs(), line.get("free_energy").asDouble(), line.get("reconstruction_error").asDouble(),
                            heldOut == null ? "" : String.format(Locale.ROOT, "  (held out: %.3f, %.3f)",
                                    line.get("test_free_energy").asDouble(), line.get("test_reconstruction_error").asDouble()),
                            line.has("log_likelihood") ? String.format(Locale.ROOT, "  log-likelihood %.3f", line.get("log_likelihood").asDouble()) : "",
                            train.dim(0) / seconds);
                    last[0] = System.nanoTime();
                });
                ObjectNode extra = json.createObjectNode().put("epochs", o.epochs()).put("batch", o.batch());
                Path model = o.out().resolve("model.safetensors");
                rbm.save(model, ModelFile.provenance(Main.version(), o.seed(), ModelFile.sha256(train)), extra);
                Path picture = o.out().resolve("filters.png");
                int shown = Math.min(config.hidden(), 100);
                ImageGrid.filters(picture, rbm.weight().rows(0, shown), all.height(), all.width(), Math.min(shown, 10),
                        28 / Math.max(all.height(), 1) + 1);
                String ll = "";
                if (config.hidden() <= EXACT_LL_HIDDEN) {
                    double logZ = rbm.logPartition();
                    ll = String.format(Locale.ROOT, "; exact log-likelihood %.3f nats/image%s (log Z %.4f)", -rbm.freeEnergy(train) - logZ,
                            heldOut == null ? "" : String.format(Locale.ROOT, ", held out %.3f", -rbm.freeEnergy(heldOut) - logZ), logZ);
                } else if (aisChains >= 2 && config.visible() == Rbm.Units.BERNOULLI) {
                    long a0 = System.nanoTime();
                    Rbm.AisEstimate ais = rbm.aisLogPartition(train, aisChains, o.get(AIS_TEMPERATURES), o.seed());
                    ll = String.format(Locale.ROOT, "; AIS log-likelihood %.3f nats/image%s (log Z %.4f +- %.4f, %d chains, %d temperatures, %.1f s)",
                            -rbm.freeEnergy(train) - ais.logZ(), heldOut == null ? "" : String.format(Locale.ROOT, ", held out %.3f",
                                    -rbm.freeEnergy(heldOut) - ais.logZ()), ais.logZ(), ais.standardError(), ais.chains(), ais.temperatures(),
                            (System.nanoTime() - a0) * 1e-9);
                }
                out.printf(Locale.ROOT, "rbm %d hidden, %d epochs in %.1f s: free energy %.3f, reconstruction error %.3f per image%s%s; wrote %s, %s, %s%n",
                        config.hidden(), o.epochs(), (System.nanoTime() - t0) * 1e-9, rbm.freeEnergy(train), rbm.reconstructionError(train),
                        heldOut == null ? "" : String.format(Locale.ROOT, " (held out: %.3f, %.3f)", rbm.freeEnergy(heldOut),
                                rbm.reconstructionError(heldOut)), ll, model, picture, metrics);
            }
        }
        return 0;
    }
}
