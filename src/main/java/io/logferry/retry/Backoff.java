package io.logferry.retry;

import io.github.resilience4j.core.IntervalFunction;

import java.time.Duration;

/**
 * The agent's one way to wait before trying again: exponential backoff with jitter, on
 * Resilience4j's {@link IntervalFunction}. Retry {@code n} (1 = the first) waits
 * {@code initial × 2^(n-1)}, give or take {@link #JITTER}, and never more than {@code max}.
 * Discovery's reconnect and the tailer supervisor's restarts use it (the Elasticsearch output
 * keeps its own, configured by {@code elasticsearch.backoff}, for its retries and for the index
 * template install at start, so that "the cluster answers again" can cut those waits short).
 *
 * <p>Immutable and thread-safe. {@link #sleep} goes through a {@link Sleeper}, so that tests
 * record the waits instead of waiting; an interrupt is never swallowed.
 */
public final class Backoff {
    /** How far a wait may stray from the exponential value, either way (0.2: ±20 %). */
    public static final double JITTER = 0.2;
    private static final double MULTIPLIER = 2.0;

    /** Waits; {@link Thread#sleep(long)} outside tests. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    private final Duration initial;
    private final Duration max;
    private final IntervalFunction intervals;
    private final Sleeper sleeper;

    public Backoff(Duration initial, Duration max) {
        this(initial, max, Thread::sleep);
    }

    private Backoff(Duration initial, Duration max, Sleeper sleeper) {
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("backoff: initial must be positive and max at least initial, not "
                    + initial + " and " + max);
        }
        this.initial = initial;
        this.max = max;
        this.intervals = IntervalFunction.ofExponentialRandomBackoff(initial, MULTIPLIER, JITTER, max);
        this.sleeper = sleeper;
    }

    /** The same backoff, waiting through {@code sleeper} (tests). */
    public Backoff withSleeper(Sleeper sleeper) {
        return new Backoff(initial, max, sleeper);
    }

    /** The wait before retry {@code attempt} (1 = the first retry), in milliseconds. */
    public long millis(int attempt) {
        int n = Math.max(1, Math.min(attempt, 64));      // past 64 doublings every wait is max anyway
        return Math.min(intervals.apply(n), max.toMillis());
    }

    /** Waits {@link #millis(int)} for {@code attempt}, and says how long that was. */
    public long sleep(int attempt) throws InterruptedException {
        long ms = millis(attempt);
        sleeper.sleep(ms);
        return ms;
    }
}
