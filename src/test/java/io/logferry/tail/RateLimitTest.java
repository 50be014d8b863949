package io.logferry.tail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/** The token bucket of {@code logferry.max_rate}, on a fake clock whose sleep advances it. */
class RateLimitTest {
    /** A clock that only moves when the limiter sleeps or the test says so. */
    private static final class FakeClock {
        long now = 1_000_000_000L;
        long slept;
        int sleeps;

        void sleep(long nanos) {
            now += nanos;
            slept += nanos;
            sleeps++;
        }
    }

    @ParameterizedTest(name = "{0}/s: {1} events in a burst, then {2} events take {3} s")
    @CsvSource(textBlock = """
            1,       1,       10,      10
            10,      10,      100,     10
            500,     500,     5000,    10
            50000,   50000,   500000,  10
            """)
    void aFullBucketGivesOneSecondsWorthAtOnceThenTheRate(int rate, int burst, int more, int seconds) throws Exception {
        FakeClock clock = new FakeClock();
        RateLimit limit = new RateLimit(rate, () -> clock.now, clock::sleep);
        for (int i = 0; i < burst; i++) {
            assertThat(limit.tryTake()).as("token %d of the burst", i).isTrue();
        }
        assertThat(limit.tryTake()).as("the bucket is empty").isFalse();
        for (int i = 0; i < more; i++) {
            limit.take();
        }
        // the first of them waited for a fraction of a token: within one token's time of the exact figure
        assertThat((double) clock.slept).isCloseTo(seconds * 1e9, org.assertj.core.data.Offset.offset(1e9 / rate + 1));
    }

    @Test
    void anIdleContainerSavesUpAtMostOneSecond() throws Exception {
        FakeClock clock = new FakeClock();
        RateLimit limit = new RateLimit(100, () -> clock.now, clock::sleep);
        clock.now += 3_600_000_000_000L;              // an hour without a line
        int free = 0;
        while (limit.tryTake()) {
            free++;
        }
        assertThat(free).isEqualTo(100);
        limit.take();
        assertThat(clock.sleeps).isEqualTo(1);
        assertThat(clock.slept).isBetween(9_000_000L, 10_000_001L);   // one token: 10 ms
    }

    @Test
    void overAnyRandomPatternOfReadsTheRateIsNeverExceeded() throws Exception {
        long seed = System.nanoTime();
        Random r = new Random(seed);
        try {
            for (int round = 0; round < 200; round++) {
                int rate = 1 + r.nextInt(r.nextBoolean() ? 20 : 100_000);
                FakeClock clock = new FakeClock();
                RateLimit limit = new RateLimit(rate, () -> clock.now, clock::sleep);
                long start = clock.now;
                long events = 0;
                int steps = 200 + r.nextInt(2000);
                for (int i = 0; i < steps; i++) {
                    if (r.nextInt(4) == 0) {
                        clock.now += r.nextInt(2_000_000_000);     // the container is quiet for a while
                    }
                    int n = r.nextInt(Math.max(2, rate / 10));
                    for (int k = 0; k < n; k++) {
                        limit.take();
                        events++;
                    }
                }
                double elapsed = (clock.now - start) / 1e9;
                // at most the rate over the time passed, plus the one second's worth saved up at the start
                assertThat((double) events).as("rate %d, %d events in %.3f s", rate, events, elapsed)
                        .isLessThanOrEqualTo(rate * elapsed + rate + 1);
                // and a sleep never lasts longer than one token
                assertThat(clock.sleeps == 0 || clock.slept / clock.sleeps <= 1_000_000_000L / rate + 1).isTrue();
            }
        } catch (AssertionError e) {
            fail("seed " + seed + ": " + e.getMessage(), e);
        }
    }

    @Test
    void noLimitWithoutARateAndNoRateBelowOne() {
        assertThat(RateLimit.of(0)).isNull();
        assertThat(RateLimit.of(5)).isNotNull();
        assertThatThrownBy(() -> new RateLimit(0, System::nanoTime, n -> { })).isInstanceOf(IllegalArgumentException.class);
    }
}
