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

/** The circuit breaker in front of the cluster, on a clock the test moves: no real waiting for the open state. */
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

    private final MovingClock clock = new MovingClock();
    private final Metrics metrics = new Metrics();
    private final Breaker breaker = new Breaker(Duration.ofSeconds(1), Duration.ofSeconds(60), Duration.ofSeconds(60), metrics, clock);

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
        CompletableFuture<Breaker.Permit> first = CompletableFuture.supplyAsync(this::enterUnchecked);
        assertThatThrownBy(() -> first.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);

        // the wait (1 s ± 50 % for the first opening) elapses: exactly one worker gets the probe
        clock.advance(Duration.ofSeconds(2));
        Breaker.Permit probe = first.get(5, TimeUnit.SECONDS);
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
        CompletableFuture<Breaker.Permit> second = CompletableFuture.supplyAsync(this::enterUnchecked);
        assertThatThrownBy(() -> second.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);

        // the probe succeeds: closed, and the waiting worker goes at once
        probe.succeeded();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        second.get(5, TimeUnit.SECONDS).succeeded();
    }

    @Test
    void aFailedProbeOpensItAgainForLonger() throws Exception {
        fail(Breaker.MINIMUM_CALLS);
        clock.advance(Duration.ofMillis(1600));
        breaker.enter().failed(new IOException("still refused"));
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
        // the second wait is 2 s ± 50 %: after 0.9 s nobody may pass
        clock.advance(Duration.ofMillis(900));
        CompletableFuture<Breaker.Permit> w = CompletableFuture.supplyAsync(this::enterUnchecked);
        assertThatThrownBy(() -> w.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
        clock.advance(Duration.ofSeconds(3));
        w.get(5, TimeUnit.SECONDS).succeeded();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(metrics.value("logferry_output_circuit_opened_total")).isEqualTo(1);
    }

    @Test
    void anAbandonedProbeGivesItsPermissionBack() throws Exception {
        fail(Breaker.MINIMUM_CALLS);
        clock.advance(Duration.ofSeconds(2));
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
        Thread.sleep(200);
        t.interrupt();
        t.join(2000);
        assertThat(t.isAlive()).isFalse();
    }

    private Breaker.Permit enterUnchecked() {
        try {
            return breaker.enter();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
