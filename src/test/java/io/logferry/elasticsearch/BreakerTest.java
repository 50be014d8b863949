package io.logferry.elasticsearch;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.logferry.metrics.Metrics;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The circuit breaker in front of the cluster, on a clock the test moves: no real waiting for the
 * open state. "Still waiting" is checked by a future that does not complete within 300 ms.
 */
class BreakerTest {
    /** A clock that only moves when told to. */
    static final class MovingClock extends Clock {
        private volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    /** Its own threads: the common pool has one thread on a two-core machine, and a waiter would hold it. */
    private final java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newCachedThreadPool();

    private final MovingClock clock = new MovingClock();
    private final Metrics metrics = new Metrics();
    private final Breaker breaker = new Breaker(Duration.ofSeconds(1), Duration.ofSeconds(60), Duration.ofSeconds(60), metrics, clock);

    /** Moves the clock and has the waiters look at it again (they wait on a condition, not a poll). */
    private void advance(Duration d) {
        clock.advance(d);
        breaker.recheck();
    }

    private void fail(int n) throws InterruptedException {
        for (int i = 0; i < n; i++) {
            breaker.enter().failed(new IOException("connection refused"));
        }
    }

    @Test
    void staysClosedWhileMostRequestsSucceed() throws Exception {
        for (int i = 0; i < 20; i++) {
            Breaker.Permit p = breaker.enter();
            if (i % 4 == 0) {
                p.failed(new IOException("503"));
            } else {
                p.succeeded();
            }
        }
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(metrics.value("logferry_output_circuit_opened_total")).isZero();
    }

    @Test
    void opensAfterFailuresThenLetsOneProbeThroughAndClosesWhenItSucceeds() throws Exception {
        fail(Breaker.MINIMUM_CALLS);
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(breaker.open()).isTrue();
        assertThat(metrics.value("logferry_output_circuit_opened_total")).isEqualTo(1);

        // while open, a worker waits
        CompletableFuture<Breaker.Permit> first = CompletableFuture.supplyAsync(this::enterUnchecked, pool);
        assertThatThrownBy(() -> first.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);

        // the wait (1 s ± 50 % for the first opening) elapses: exactly one worker gets the probe
        advance(Duration.ofSeconds(2));
        Breaker.Permit probe = first.get(5, TimeUnit.SECONDS);
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
        CompletableFuture<Breaker.Permit> second = CompletableFuture.supplyAsync(this::enterUnchecked, pool);
        assertThatThrownBy(() -> second.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);

        // the probe succeeds: closed, and the waiting worker goes at once
        probe.succeeded();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        second.get(5, TimeUnit.SECONDS).succeeded();
    }

    @Test
    void aFailedProbeOpensItAgainForLonger() throws Exception {
        fail(Breaker.MINIMUM_CALLS);
        advance(Duration.ofMillis(1600));
        breaker.enter().failed(new IOException("still refused"));
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
        // the second wait is 2 s ± 50 %: after 0.9 s nobody may pass
        advance(Duration.ofMillis(900));
        CompletableFuture<Breaker.Permit> w = CompletableFuture.supplyAsync(this::enterUnchecked, pool);
        assertThatThrownBy(() -> w.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
        advance(Duration.ofSeconds(3));
        w.get(5, TimeUnit.SECONDS).succeeded();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(metrics.value("logferry_output_circuit_opened_total")).isEqualTo(1);
    }

    @Test
    void anAbandonedProbeGivesItsPermissionBack() throws Exception {
        fail(Breaker.MINIMUM_CALLS);
        advance(Duration.ofSeconds(2));
        breaker.enter().abandoned();
        // another worker can take the probe
        breaker.enter().succeeded();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    @Test
    void waitingIsInterruptible() throws Exception {
        fail(Breaker.MINIMUM_CALLS);
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                breaker.enter();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        // interrupted while it waits in enter(), not before it gets there
        await().atMost(Duration.ofSeconds(10)).until(() -> t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING);
        t.interrupt();
        t.join(10_000);
        assertThat(t.isAlive()).isFalse();
    }

    @Test
    void theClusterAnsweringMakesAnOpenBreakerHalfOpenAtOnce() throws Exception {
        fail(Breaker.MINIMUM_CALLS);
        CompletableFuture<Breaker.Permit> first = CompletableFuture.supplyAsync(this::enterUnchecked, pool);
        CompletableFuture<Breaker.Permit> second = CompletableFuture.supplyAsync(this::enterUnchecked, pool);
        assertThatThrownBy(() -> first.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);

        // the health probe sees an answer: no backoff waited out, the clock has not moved
        breaker.answered();
        Breaker.Permit probe = CompletableFuture.anyOf(first, second).thenApply(Breaker.Permit.class::cast).get(5, TimeUnit.SECONDS);
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
        assertThat(metrics.value("logferry_output_circuit_resumed_total")).isEqualTo(1);
        CompletableFuture<Breaker.Permit> other = first.isDone() && first.join() == probe ? second : first;
        assertThatThrownBy(() -> other.get(300, TimeUnit.MILLISECONDS)).as("only the probe goes while half-open")
                .isInstanceOf(TimeoutException.class);

        probe.succeeded();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        other.get(5, TimeUnit.SECONDS).succeeded();
    }

    @Test
    void aFailedProbeAfterTheClusterAnsweredWaitsTheLongerBackoffAgain() throws Exception {
        fail(Breaker.MINIMUM_CALLS);
        breaker.answered();
        breaker.enter().failed(new IOException("503 while starting"));
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
        // the second wait (2 s ± 50 %) holds again: no hammering
        CompletableFuture<Breaker.Permit> w = CompletableFuture.supplyAsync(this::enterUnchecked, pool);
        waiters(1);
        advance(Duration.ofMillis(900));
        assertThatThrownBy(() -> w.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
        advance(Duration.ofSeconds(3));
        w.get(5, TimeUnit.SECONDS).succeeded();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    @Test
    void theClusterAnsweringWhileClosedChangesNothing() throws Exception {
        breaker.answered();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(metrics.value("logferry_output_circuit_resumed_total")).isZero();
        breaker.enter().succeeded();
    }

    @Test
    void anOpenBreakerWaitsItsBackoffWhenNothingAnswers() throws Exception {
        fail(Breaker.MINIMUM_CALLS);
        CompletableFuture<Breaker.Permit> w = CompletableFuture.supplyAsync(this::enterUnchecked, pool);
        waiters(1);
        // woken with the clock short of the wait (1 s ± 50 %): it waits on
        advance(Duration.ofMillis(400));
        assertThatThrownBy(() -> w.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
        advance(Duration.ofMillis(1200));
        w.get(5, TimeUnit.SECONDS).succeeded();
    }

    @Test
    void aRetryPauseEndsWhenTheClusterAnswersAgain() throws Exception {
        CompletableFuture<Boolean> p = CompletableFuture.supplyAsync(() -> pauseUnchecked(60_000), pool);
        assertThatThrownBy(() -> p.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
        breaker.answered();
        assertThat(p.get(5, TimeUnit.SECONDS)).as("cut short").isTrue();
    }

    @Test
    void aRetryPauseEndsWhenTheBreakerCloses() throws Exception {
        fail(Breaker.MINIMUM_CALLS);
        CompletableFuture<Boolean> p = CompletableFuture.supplyAsync(() -> pauseUnchecked(60_000), pool);
        advance(Duration.ofSeconds(2));
        Breaker.Permit probe = breaker.enter();
        assertThatThrownBy(() -> p.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
        probe.succeeded();
        assertThat(p.get(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aRetryPauseRunsOutByTheClock() throws Exception {
        CompletableFuture<Boolean> p = CompletableFuture.supplyAsync(() -> pauseUnchecked(1_000), pool);
        waiters(1);
        advance(Duration.ofMillis(500));
        assertThatThrownBy(() -> p.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
        advance(Duration.ofMillis(600));
        assertThat(p.get(5, TimeUnit.SECONDS)).as("ran out, not cut short").isFalse();
    }

    /** Until {@code n} threads wait on the breaker's condition. */
    private void waiters(int n) {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> breaker.waiting() == n);
    }

    private boolean pauseUnchecked(long ms) {
        try {
            return breaker.pause(ms);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @org.junit.jupiter.api.AfterEach
    void stopWaiters() {
        pool.shutdownNow();
    }

    private Breaker.Permit enterUnchecked() {
        try {
            return breaker.enter();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
