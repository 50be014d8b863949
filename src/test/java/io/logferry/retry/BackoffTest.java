package io.logferry.retry;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackoffTest {
    private final Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30));

    @Test
    void doublesFromInitialWithinTheJitterAndStopsAtMax() {
        for (int round = 0; round < 200; round++) {
            assertThat(backoff.millis(1)).isBetween(800L, 1200L);
            assertThat(backoff.millis(2)).isBetween(1600L, 2400L);
            assertThat(backoff.millis(3)).isBetween(3200L, 4800L);
            assertThat(backoff.millis(5)).isBetween(12_800L, 19_200L);
            assertThat(backoff.millis(6)).isBetween(24_000L, 30_000L);
            assertThat(backoff.millis(7)).isBetween(24_000L, 30_000L);
            assertThat(backoff.millis(1_000_000)).isBetween(24_000L, 30_000L);
        }
    }

    @Test
    void waitsAreJittered() {
        long first = backoff.millis(4);
        boolean varied = false;
        for (int i = 0; i < 100 && !varied; i++) {
            varied = backoff.millis(4) != first;
        }
        assertThat(varied).as("a hundred waits all equal: no jitter").isTrue();
    }

    @Test
    void attemptsBelowOneCountAsTheFirst() {
        assertThat(backoff.millis(0)).isBetween(800L, 1200L);
        assertThat(backoff.millis(-5)).isBetween(800L, 1200L);
    }

    @Test
    void sleepsThroughTheSleeperAndSaysHowLong() throws InterruptedException {
        List<Long> slept = new ArrayList<>();
        Backoff b = backoff.withSleeper(slept::add);
        long waited = b.sleep(2);
        assertThat(slept).containsExactly(waited);
        assertThat(waited).isBetween(1600L, 2400L);
    }

    @Test
    void refusesANonsensicalRange() {
        assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1))).hasMessageContaining("initial must be positive");
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1))).hasMessageContaining("max at least initial");
    }
}
