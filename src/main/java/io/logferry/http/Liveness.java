package io.logferry.http;

import java.time.Duration;
import java.util.List;
import java.util.StringJoiner;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Whether the agent itself is stuck: a stage that has held work for {@code stuckAfter} without
 * moving. What {@code /health} (the liveness the image's HEALTHCHECK asks) fails on, besides an
 * unreachable Docker; Elasticsearch being away is not it (the output then probes, fails and backs
 * off, which is moving: its backoff is at most a minute, and {@code stuckAfter} is longer).
 *
 * <p>Each {@link Stage} tells whether it has work and a count that grows whenever it does
 * something. Nothing runs in the background: each {@link #stuck} compares the counts with those it
 * saw at the last call, so a stage is found stuck {@code stuckAfter} after the first call that saw
 * it holding work without moving (the image asks every 30 s).
 *
 * <p>Thread-safety: {@link #stuck} is synchronized (the suppliers are read-only and quick; the
 * http handlers call it, one at a time).
 */
public final class Liveness {
    /**
     * One stage of the agent.
     *
     * @param hasWork  whether something waits for it now
     * @param progress a count that grows whenever it does something (a task done, a bulk answered or failed)
     */
    public record Stage(String name, BooleanSupplier hasWork, LongSupplier progress) { }

    private final List<Stage> stages;
    private final long stuckAfterNanos;
    private final LongSupplier nanoClock;
    private final long[] seen;
    private final long[] movedAt;

    public Liveness(Duration stuckAfter, LongSupplier nanoClock, List<Stage> stages) {
        this.stages = List.copyOf(stages);
        this.stuckAfterNanos = stuckAfter.toNanos();
        this.nanoClock = nanoClock;
        this.seen = new long[stages.size()];
        this.movedAt = new long[stages.size()];
        long now = nanoClock.getAsLong();
        for (int i = 0; i < seen.length; i++) {
            seen[i] = this.stages.get(i).progress().getAsLong();
            movedAt[i] = now;
        }
    }

    /** Null while every stage moves or has nothing to do, else which stages hold work without moving, and since when. */
    public synchronized String stuck() {
        long now = nanoClock.getAsLong();
        StringJoiner j = new StringJoiner("; ");
        for (int i = 0; i < seen.length; i++) {
            Stage s = stages.get(i);
            long p = s.progress().getAsLong();
            if (p != seen[i] || !s.hasWork().getAsBoolean()) {
                seen[i] = p;
                movedAt[i] = now;
            } else if (now - movedAt[i] >= stuckAfterNanos) {
                j.add("stuck: the " + s.name() + " has held work for " + (now - movedAt[i]) / 1_000_000_000L + " s without moving");
            }
        }
        return j.length() == 0 ? null : j.toString();
    }
}
