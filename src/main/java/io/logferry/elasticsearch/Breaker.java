package io.logferry.elasticsearch;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.core.IntervalFunction;
import io.logferry.metrics.Metric;
import io.logferry.metrics.Metrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A Resilience4j circuit breaker in front of the cluster, so that a cluster that is down is
 * probed, not hammered. Every bulk request passes {@link #enter()} first and reports how it went.
 *
 * <pre>
 *   CLOSED ──(half of the last 8 requests failed, at least 4 seen)──► OPEN
 *     ▲                                                                  │ wait: backoff.initial, doubling
 *     │                                                                  ▼ with jitter, up to backoff.max
 *     └──────────── the probe succeeds ◄── HALF_OPEN: one request (the probe) goes through,
 *                                             the others wait; the probe fails ──► OPEN (longer wait)
 * </pre>
 *
 * A failure is a request that got no bulk response: no connection, a timeout, 429/5xx or a
 * cluster block for the whole request. A bulk response counts as a success whatever its items
 * say: the cluster answered, and items are retried one by one with their own backoff.
 * While the breaker is open, workers wait in {@link #enter()} (interruptibly) instead of sending.
 */
final class Breaker {
    private static final Logger log = LoggerFactory.getLogger(Breaker.class);
    static final int WINDOW = 8;
    static final int MINIMUM_CALLS = 4;
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final CircuitBreaker breaker;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final LongAdder opened;
    private volatile long openedAt;

    Breaker(Duration initial, Duration max, Duration requestTimeout, Metrics metrics, Clock clock) {
        CircuitBreakerConfig config = CircuitBreakerConfig.custom()
                .slidingWindow(WINDOW, MINIMUM_CALLS, CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .failureRateThreshold(50)
                .permittedNumberOfCallsInHalfOpenState(1)
                .waitIntervalFunctionInOpenState(IntervalFunction.ofExponentialRandomBackoff(initial, 2.0, 0.5, max))
                // a probe whose worker never reports back (a bug) must not keep the breaker half-open forever
                .maxWaitDurationInHalfOpenState(requestTimeout.multipliedBy(2).plusSeconds(10))
                .writableStackTraceEnabled(false)
                .clock(clock)
                .build();
        this.breaker = CircuitBreaker.of("elasticsearch", config);
        this.opened = metrics.counter(Metric.CIRCUIT_OPENED);
        metrics.gauge(Metric.CIRCUIT_STATE, () -> switch (breaker.getState()) {
            case OPEN, FORCED_OPEN -> 1;
            case HALF_OPEN -> 2;
            default -> 0;
        });
        breaker.getEventPublisher().onStateTransition(e -> {
            switch (e.getStateTransition().getToState()) {
                case OPEN -> {
                    if (e.getStateTransition().getFromState() == CircuitBreaker.State.CLOSED) {
                        openedAt = System.nanoTime();
                        opened.increment();
                        log.warn("elasticsearch circuit breaker open: {}% of the last {} bulk requests failed; workers wait, "
                                + "and one probe request at a time goes through, every {} doubling up to {}",
                                Math.round(breaker.getMetrics().getFailureRate()), breaker.getMetrics().getNumberOfBufferedCalls(), human(initial), human(max));
                    }
                }
                case HALF_OPEN -> log.debug("elasticsearch circuit breaker half-open: sending one probe request");
                case CLOSED -> log.info("elasticsearch circuit breaker closed: a probe request succeeded after {} s; workers resume",
                        (System.nanoTime() - openedAt) / 1_000_000_000);
                default -> { }
            }
            signal();
        });
    }

    Breaker(Duration initial, Duration max, Duration requestTimeout, Metrics metrics) {
        this(initial, max, requestTimeout, metrics, Clock.systemUTC());
    }

    private static String human(Duration d) {
        long ms = d.toMillis();
        return ms < 1000 || ms % 1000 != 0 ? ms + " ms" : ms / 1000 + " s";
    }

    /** Waits until a request may be sent: at once when closed; while open, until this worker gets the probe. */
    Permit enter() throws InterruptedException {
        while (!breaker.tryAcquirePermission()) {
            lock.lockInterruptibly();
            try {
                changed.awaitNanos(POLL_NANOS);
            } finally {
                lock.unlock();
            }
        }
        return new Permit(System.nanoTime());
    }

    CircuitBreaker.State state() {
        return breaker.getState();
    }

    boolean open() {
        CircuitBreaker.State s = breaker.getState();
        return s == CircuitBreaker.State.OPEN || s == CircuitBreaker.State.HALF_OPEN || s == CircuitBreaker.State.FORCED_OPEN;
    }

    private void signal() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** One request's permission: report exactly once, by {@link #succeeded}, {@link #failed} or {@link #abandoned}. */
    final class Permit {
        private final long start;
        private boolean done;

        private Permit(long start) {
            this.start = start;
        }

        /** The cluster answered (a bulk response, or a 400/413 that says something about the request, not the cluster). */
        void succeeded() {
            if (!done) {
                done = true;
                breaker.onSuccess(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            }
        }

        void failed(Throwable why) {
            if (!done) {
                done = true;
                breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, why);
            }
        }

        /** The request was not sent or its outcome is unknown (interrupted): give the permission back. */
        void abandoned() {
            if (!done) {
                done = true;
                breaker.releasePermission();
            }
        }
    }
}
