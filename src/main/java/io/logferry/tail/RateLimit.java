package io.logferry.tail;

import java.util.function.LongSupplier;

/**
 * A token bucket for one container's events ({@code logferry.max_rate}): {@code rate} tokens a
 * second, at most one second's worth saved up (and at least one token), one token per event. It only
 * slows the tailer that asks: {@link #take()} waits for the next token, the container's log file
 * holds what is not read yet, nothing is dropped. With a rate of at least one event a second a wait
 * is at most one second, so a tailer told to stop leaves within it.
 *
 * <p>The clock and the sleep are injected, so tests run on a fake clock. Not thread-safe: used by
 * the tailer's own thread, in its {@link Publisher}.
 */
final class RateLimit {
    /** How the tailer waits: {@link Thread#sleep} in the agent, a fake clock's advance in tests. */
    interface Sleeper {
        void sleep(long nanos) throws InterruptedException;
    }

    private static final long SECOND = 1_000_000_000L;
    private final double perNano;
    private final double capacity;
    private final LongSupplier clock;
    private final Sleeper sleeper;
    private double tokens;
    private long last;

    /** @param rate events a second, at least 1 */
    RateLimit(int rate, LongSupplier nanoClock, Sleeper sleeper) {
        if (rate < 1) {
            throw new IllegalArgumentException("rate " + rate + " < 1");
        }
        this.perNano = rate / (double) SECOND;
        this.capacity = rate;
        this.clock = nanoClock;
        this.sleeper = sleeper;
        this.last = nanoClock.getAsLong();
        this.tokens = capacity;
    }

    /** The limit the agent uses: {@code rate} events a second on {@link System#nanoTime()}, or null when {@code rate} is 0 (none). */
    static RateLimit of(int rate) {
        return rate <= 0 ? null : new RateLimit(rate, System::nanoTime, nanos -> Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000)));
    }

    /** Takes a token if there is one now. */
    boolean tryTake() {
        refill();
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }

    /** Takes a token, waiting for it when there is none. */
    void take() throws InterruptedException {
        while (!tryTake()) {
            long wait = (long) Math.ceil((1 - tokens) / perNano);
            sleeper.sleep(Math.max(1, wait));
        }
    }

    private void refill() {
        long now = clock.getAsLong();
        long elapsed = now - last;
        if (elapsed > 0) {
            tokens = Math.min(capacity, tokens + elapsed * perNano);
            last = now;
        }
    }
}
