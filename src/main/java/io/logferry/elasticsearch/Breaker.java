package io.logferry.elasticsearch;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.IllegalStateTransitionException;
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
 * probed, not hammered, and a cluster that answers again is used at once. Every bulk request
 * passes {@link #enter()} first and reports how it went.
 *
 * <pre>
 *   CLOSED ──(half of the last 8 requests failed, at least 4 seen)──► OPEN
 *     ▲                                                                  │ wait: backoff.initial, doubling
 *     │                                                                  │ with jitter, up to backoff.max,
 *     │                                                                  │ cut short by {@link #answered()}
 *     │                                                                  ▼ (the health probe saw an answer)
 *     └──────────── the probe succeeds ◄── HALF_OPEN: one request (the probe) goes through,
 *                                             the others wait; the probe fails ──► OPEN (longer wait)
 * </pre>
 *
 * A failure is a request that got no bulk response: no connection, a timeout, 429/5xx or a
 * cluster block for the whole request. A bulk response counts as a success whatever its items
 * say: the cluster answered, and items are retried one by one with their own backoff.
 *
 * <p>Waiting: while the breaker is open, workers wait in {@link #enter()} on a condition until
 * the open interval ends (by the injected clock) or until a state change signals them; the
 * output's retry wait ({@link #pause}) ends early when the cluster is seen answering again.
 * Nobody polls: every transition, and {@link #answered()}, signals the condition, and a waiter
 * reads a change counter under the lock before it waits, so that no signal is missed.
 *
 * <p>Thread-safe: the state is Resilience4j's (atomic); the lock guards only the condition and
 * the two counters. Tests move the clock and call {@link #recheck()} instead of waiting.
 */
final class Breaker {
    private static final Logger log = LoggerFactory.getLogger(Breaker.class);
    static final int WINDOW = 8;
    static final int MINIMUM_CALLS = 4;

    private final CircuitBreaker breaker;
    private final Clock clock;
    private final Duration halfOpenMax;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final LongAdder opened;
    private final LongAdder resumed;
    /** Bumped at every signal: a waiter that saw it unchanged under the lock may wait. Guarded by {@link #lock}. */
    private long changes;
    /** Bumped each time the cluster is seen answering again (or the breaker closes): ends {@link #pause}s. Guarded by {@link #lock}. */
    private long backs;
    /** The wait Resilience4j drew for the current opening, in ms, captured from the interval function. */
    private volatile long drawnWait;
    /** When the current opening ends, in the clock's millis (the probe goes then at the latest). */
    private volatile long openUntil;
    private volatile long openedAt;

    Breaker(Duration initial, Duration max, Duration requestTimeout, Metrics metrics, Clock clock) {
        this.clock = clock;
        IntervalFunction drawn = IntervalFunction.ofExponentialRandomBackoff(initial, 2.0, 0.5, max);
        this.halfOpenMax = requestTimeout.multipliedBy(2).plusSeconds(10);
        CircuitBreakerConfig config = CircuitBreakerConfig.custom()
                .slidingWindow(WINDOW, MINIMUM_CALLS, CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .failureRateThreshold(50)
                .permittedNumberOfCallsInHalfOpenState(1)
                .waitIntervalFunctionInOpenState(attempt -> {
                    long ms = drawn.apply(attempt);
                    drawnWait = ms;
                    return ms;
                })
                // a probe whose worker never reports back (a bug) must not keep the breaker half-open forever
                .maxWaitDurationInHalfOpenState(halfOpenMax)
                .writableStackTraceEnabled(false)
                .clock(clock)
                .build();
        this.breaker = CircuitBreaker.of("elasticsearch", config);
        this.opened = metrics.counter(Metric.CIRCUIT_OPENED);
        this.resumed = metrics.counter(Metric.CIRCUIT_RESUMED);
        metrics.gauge(Metric.CIRCUIT_STATE, () -> switch (breaker.getState()) {
            case OPEN, FORCED_OPEN -> 1;
            case HALF_OPEN -> 2;
            default -> 0;
        });
        breaker.getEventPublisher().onStateTransition(e -> {
            boolean back = false;
            switch (e.getStateTransition().getToState()) {
                case OPEN -> {
                    // Resilience4j drew the wait just before this event, on this thread: +1 ms, its end is "after"
                    openUntil = clock.millis() + drawnWait + 1;
                    if (e.getStateTransition().getFromState() == CircuitBreaker.State.CLOSED) {
                        openedAt = System.nanoTime();
                        opened.increment();
                        log.warn("elasticsearch circuit breaker open: {}% of the last {} bulk requests failed; workers wait, "
                                + "and one probe request at a time goes through, every {} doubling up to {}, or as soon as "
                                + "elasticsearch answers the health probe",
                                Math.round(breaker.getMetrics().getFailureRate()), breaker.getMetrics().getNumberOfBufferedCalls(), human(initial), human(max));
                    }
                }
                case HALF_OPEN -> log.debug("elasticsearch circuit breaker half-open: sending one probe request");
                case CLOSED -> {
                    back = true;
                    log.info("elasticsearch circuit breaker closed: a probe request succeeded after {} s; workers resume",
                            (System.nanoTime() - openedAt) / 1_000_000_000);
                }
                default -> { }
            }
            signal(back);
        });
    }

    Breaker(Duration initial, Duration max, Duration requestTimeout, Metrics metrics) {
        this(initial, max, requestTimeout, metrics, Clock.systemUTC());
    }

    private static String human(Duration d) {
        long ms = d.toMillis();
        return ms < 1000 || ms % 1000 != 0 ? ms + " ms" : ms / 1000 + " s";
    }

    /**
     * Waits until a request may be sent: at once when closed; while open, until this worker gets
     * the probe, which is when the open interval ends or at once after {@link #answered()};
     * while half-open, until the probe has reported.
     */
    Permit enter() throws InterruptedException {
        while (true) {
            long seen = changes();
            if (breaker.tryAcquirePermission()) {
                return new Permit(System.nanoTime());
            }
            lock.lockInterruptibly();
            try {
                if (changes == seen) {
                    long ms = breaker.getState() == CircuitBreaker.State.OPEN
                            ? Math.max(1, openUntil - clock.millis())
                            : halfOpenMax.toMillis();   // half-open: the probe's report signals; bounded all the same
                    changed.await(ms, TimeUnit.MILLISECONDS);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Elasticsearch answered a request that is not a bulk request (the health probe, a template
     * install) after not answering: when the breaker is open, it goes half-open now instead of
     * waiting out its backoff, and every wait in {@link #enter()} and {@link #pause} ends. A
     * cluster that only answers 429/5xx to bulk requests does not come here: the probe counts
     * those answers as no answer, and the bulk requests as failures.
     */
    void answered() {
        if (breaker.getState() == CircuitBreaker.State.OPEN) {
            try {
                breaker.transitionToHalfOpenState();
                resumed.increment();
                log.info("elasticsearch answers again: circuit breaker half-open at once, one probe request goes now");
            } catch (IllegalStateTransitionException e) {
                // a worker's tryAcquirePermission made it half-open first: the same outcome
                log.debug("circuit breaker already left the open state", e);
            }
        }
        signal(true);
    }

    /**
     * The output's wait before retrying items or a request: {@code millis} by the clock, or less
     * when the cluster is seen answering again ({@link #answered()}, or the breaker closes) meanwhile.
     *
     * @return true when the wait was cut short by the cluster coming back
     */
    boolean pause(long millis) throws InterruptedException {
        long until = clock.millis() + millis;
        lock.lockInterruptibly();
        try {
            long start = backs;
            while (backs == start) {
                long left = until - clock.millis();
                if (left <= 0) {
                    return false;
                }
                changed.await(left, TimeUnit.MILLISECONDS);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Wakes every waiter to look at the clock again (tests move the clock, then call this). */
    void recheck() {
        signal(false);
    }

    /** How many threads wait in {@link #enter()} or {@link #pause} now (tests: to know a waiter is in place). */
    int waiting() {
        lock.lock();
        try {
            return lock.getWaitQueueLength(changed);
        } finally {
            lock.unlock();
        }
    }

    CircuitBreaker.State state() {
        return breaker.getState();
    }

    boolean open() {
        CircuitBreaker.State s = breaker.getState();
        return s == CircuitBreaker.State.OPEN || s == CircuitBreaker.State.HALF_OPEN || s == CircuitBreaker.State.FORCED_OPEN;
    }

    private long changes() {
        lock.lock();
        try {
            return changes;
        } finally {
            lock.unlock();
        }
    }

    private void signal(boolean back) {
        lock.lock();
        try {
            changes++;
            if (back) {
                backs++;
            }
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
