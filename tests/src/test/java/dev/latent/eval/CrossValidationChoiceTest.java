package dev.latent.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The grid choice of {@link CrossValidation#choose}: the best pooled held-out accuracy smoothed over
 * the grid neighbours (1, 2, 1), ties to the strongest value; the reported accuracies stay the raw ones.
 * Exact integer arithmetic on right-answer counts, so the tests compare exactly.
 */
class CrossValidationChoiceTest {

    /** 20 rows, 2 classes, 2 folds; every fold scores the given right answers per grid value. */
    private static CrossValidation.Choice choose(int... rightPerFold) {
        int[] labels = new int[20];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = i % 2;
        }
        return CrossValidation.choose(labels, 2, 7, rightPerFold.length, (train, held) -> rightPerFold.clone());
    }

    @Test
    void anIsolatedSpikeLosesToAPlateau() {
        // raw argmax: index 0 (7 right per fold); smoothed: (7*3+2)/4 = 5.75 at 0, (7+2*2+6)/4 = 4.25 at 1,
        // (2+2*6+6)/4 = 5 at 2, (6+2*6+6)/4 = 6 at 3, (6+2*6+6)/4 = 6 at 4 -> 3 (first of the ties)
        CrossValidation.Choice c = choose(7, 2, 6, 6, 6);
        assertEquals(3, c.index());
        assertArrayEquals(new double[] {0.7, 0.2, 0.6, 0.6, 0.6}, c.accuracy(), 0.0);
    }

    @Test
    void aTwoValueGridKeepsTheRawArgmaxAndTiesGoToTheStrongest() {
        assertEquals(1, choose(4, 5).index());
        assertEquals(0, choose(5, 4).index());
        assertEquals(0, choose(5, 5).index());
    }

    @Test
    void oneValueAndAFlatGridChooseTheFirst() {
        assertEquals(0, choose(3).index());
        assertEquals(0, choose(4, 4, 4).index());
    }

    @Test
    void smoothingIsOneTwoOneWithTheEdgeCountedTwice() {
        int[] r = {1, 5, 9};
        assertEquals((1 + 2 + 5) / 4.0, CrossValidation.smoothed(r, 0), 0.0);
        assertEquals((1 + 10 + 9) / 4.0, CrossValidation.smoothed(r, 1), 0.0);
        assertEquals((5 + 18 + 9) / 4.0, CrossValidation.smoothed(r, 2), 0.0);
    }
}
