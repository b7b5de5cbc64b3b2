package dev.latent.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latent.io.BadInputException;
import dev.latent.kernel.Activation;
import dev.latent.model.autoencoder.Autoencoder;
import dev.latent.model.autoencoder.ConvAutoencoder;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The declared hyperparameters: {@code --set} strings and a model file's config go through the same
 * keys; unknown keys, out-of-range values, NaN and non-booleans are errors that name the key and what
 * is valid; a kind's own default for a shared key wins.
 */
class HyperparametersTest {

    @Test
    void setStringsBuildTheModelTheConfigDescribes() {
        var v = Autoencoder.HYPERPARAMETERS.parse(Map.of("hidden", "30,20", "tied", "true", "sparsity", "l1"), "--set");
        try (Autoencoder ae = Autoencoder.builder(50).apply(v).build()) {
            var c = ae.configJson();
            assertEquals("[30,20]", c.get("hidden").toString());
            assertTrue(c.get("tied").asBoolean());
            assertEquals(1e-3, c.get("beta").asDouble(), "l1 without beta keeps the CLI's 1e-3");
            assertEquals(3e-3, c.get("weight_decay").asDouble(), "the CLI's default weight decay");
            // every config key a user chooses is a declared key, so a file's config reads back through them
            for (String key : Autoencoder.HYPERPARAMETERS.keys()) {
                assertTrue(c.has(key), key);
            }
            try (Autoencoder back = Autoencoder.fromConfig(c, "f").build()) {
                assertEquals(c, back.configJson());
            }
        }
    }

    @Test
    void badKeysAndValuesNameTheKeyAndWhatIsValid() {
        var hp = Autoencoder.HYPERPARAMETERS;
        BadInputException unknown = assertThrows(BadInputException.class, () -> hp.parse(Map.of("weigth_decay", "1"), "--set"));
        assertTrue(unknown.getMessage().contains("weigth_decay") && unknown.getMessage().contains("weight_decay, denoising"),
                unknown.getMessage());
        for (String bad : new String[] {"-1", "NaN", "Infinity", "x"}) {
            BadInputException e = assertThrows(BadInputException.class, () -> hp.parse(Map.of("weight_decay", bad), "--set"), bad);
            assertTrue(e.getMessage().contains("weight_decay=" + bad) && e.getMessage().contains("[0, inf]"), e.getMessage());
        }
        BadInputException tied = assertThrows(BadInputException.class, () -> hp.parse(Map.of("tied", "maybe"), "--set"));
        assertTrue(tied.getMessage().contains("true|false"), tied.getMessage());
        assertThrows(BadInputException.class, () -> hp.parse(Map.of("hidden", "10,0"), "--set"));
    }

    @Test
    void aKindsDefaultForASharedKeyWins() {
        var v = ConvAutoencoder.HYPERPARAMETERS.parse(Map.of(), "--set");
        assertEquals(Activation.RELU, v.get(ConvAutoencoder.ACTIVATION));
        assertEquals(0.0, v.get(ConvAutoencoder.WEIGHT_DECAY));
        assertFalse(v.given(ConvAutoencoder.ACTIVATION));
        assertArrayEquals(new int[] {16, 32}, v.get(ConvAutoencoder.CHANNELS));
    }

    @Test
    void filesWithoutMaxBatchOrDenoisingLoadWithTheOldDefaults() {
        try (Autoencoder ae = Autoencoder.builder(20).hidden(5).build()) {
            var c = ae.configJson();
            c.remove("max_batch");
            c.remove("denoising");
            try (Autoencoder back = Autoencoder.fromConfig(c, "old.safetensors").build()) {
                assertEquals(256, back.configJson().get("max_batch").asInt());
                assertEquals("none", back.configJson().get("denoising").asText());
            }
            c.remove("tied");
            BadInputException e = assertThrows(BadInputException.class, () -> Autoencoder.fromConfig(c, "old.safetensors"));
            assertTrue(e.getMessage().contains("old.safetensors") && e.getMessage().contains("'tied'"), e.getMessage());
        }
    }
}
