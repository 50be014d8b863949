package io.logferry.http;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Liveness on a hand-turned clock: a stage is stuck only while it holds work and does not move. */
class LivenessTest {
    private final AtomicLong clock = new AtomicLong(1_000);
    private final AtomicBoolean work = new AtomicBoolean();
    private final AtomicLong done = new AtomicLong();
    private final Liveness liveness = new Liveness(Duration.ofSeconds(60), clock::get,
            List.of(new Liveness.Stage("output", work::get, done::get), new Liveness.Stage("idle one", () -> false, () -> 0)));

    private void pass(int seconds) {
        clock.addAndGet(seconds * 1_000_000_000L);
    }

    @Test
    void aStageWithoutWorkIsNeverStuck() {
        pass(3_600);
        assertThat(liveness.stuck()).isNull();
    }

    @Test
    void aStageThatMovesIsNeverStuckHoweverLongItHasWork() {
        work.set(true);
        for (int i = 0; i < 100; i++) {
            pass(59);
            done.incrementAndGet();
            assertThat(liveness.stuck()).isNull();
        }
    }

    @Test
    void aStageHoldingWorkWithoutMovingIsStuckAfterTheTimeAndLiveAgainWhenItMoves() {
        work.set(true);
        assertThat(liveness.stuck()).isNull();
        pass(59);
        assertThat(liveness.stuck()).isNull();
        pass(1);
        assertThat(liveness.stuck()).isEqualTo("stuck: the output has held work for 60 s without moving");
        done.incrementAndGet();
        assertThat(liveness.stuck()).isNull();
        pass(61);
        assertThat(liveness.stuck()).contains("the output has held work for 61 s");
        work.set(false);
        assertThat(liveness.stuck()).as("nothing to do: not stuck").isNull();
    }

    @Test
    void workThatComesAfterALongIdleCountsFromWhenItWasSeen() {
        pass(3_600);
        assertThat(liveness.stuck()).isNull();
        work.set(true);
        pass(30);
        assertThat(liveness.stuck()).isNull();
    }
}
