package io.logferry.pipeline;

import io.logferry.model.AckTracker;
import io.logferry.model.Cursor;
import io.logferry.model.LogEvent;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * The queue's fairness, on a fake clock: every tick each container offers what it has (a backlogged
 * one: as much as the queue admits; a light one: what arrived since), and the batcher takes one
 * batch. Over seeded random mixes of weights, event sizes and backlogs, the backlogged containers
 * share what the light ones leave in proportion to their weights (within 10%), and a light
 * container's event waits for at most two batches.
 */
class FairShareTest {
    private static final int MIXES = 60;
    private static final int WARMUP = 100;
    private static final int TICKS = 800;

    /** One container in the simulation. */
    private static final class Source {
        final AckTracker tracker;
        final int weight;
        final int eventBytes;
        /** Bytes arriving a tick; -1: backlogged (always more than it can send). */
        final double arrival;
        final ArrayList<Integer> pendingSince = new ArrayList<>();
        double owed;
        long seq;
        /** What it got after the warm-up, in the queue's cost: events, or bytes in events for the large ones. */
        double drained;
        long maxWait;

        Source(int i, int weight, int eventBytes, double arrival) {
            this.tracker = new AckTracker("c" + i, null);
            this.weight = weight;
            this.eventBytes = eventBytes;
            this.arrival = arrival;
        }

        boolean backlogged() {
            return arrival < 0;
        }

        LogEvent next(int tick) {
            // the tick it arrived, carried in the cursor's offset: what a light container's event waited
            return new LogEvent(tracker, new byte[eventBytes], 0, new Cursor(1, "A", ((long) tick << 32) | (++seq & 0xffffffffL)));
        }
    }

    @Test
    void backloggedContainersShareByWeightAndLightOnesWaitAtMostTwoBatches() {
        String fixed = System.getProperty("fairshare.seed");
        if (fixed != null) {
            runMix(Long.parseLong(fixed));
            return;
        }
        long base = System.nanoTime();
        double worst = 0;
        long worstWait = 0;
        for (int mix = 0; mix < MIXES; mix++) {
            long seed = base + mix;
            try {
                double[] w = runMix(seed);
                worst = Math.max(worst, w[0]);
                worstWait = Math.max(worstWait, (long) w[1]);
            } catch (AssertionError e) {
                fail("mix with seed " + seed + " (rerun with -Dfairshare.seed=" + seed + "): " + e.getMessage(), e);
            }
        }
        System.out.printf("FairShareTest: %d mixes (seeds %d..%d): worst share of a backlogged container %.1f%% off its weight,"
                + " longest wait of a light container's event %d batch(es)%n", MIXES, base, base + MIXES - 1, worst * 100, worstWait);
    }

    /** Runs one mix; returns the largest relative deviation of a backlogged container's share and the longest light wait. */
    private static double[] runMix(long seed) {
        Random r = new Random(seed);
        int batchEvents = 50 + r.nextInt(400);
        long batchBytes = 64 * 1024 + r.nextInt(512 * 1024);
        // the queue holds several batches, as it does by default (8192 events and 64 MiB, batches of 1600 and 10 MiB)
        int queueEvents = batchEvents * (4 + r.nextInt(4));
        long queueBytes = batchBytes * (4 + r.nextInt(4));
        EventQueue q = new EventQueue(queueEvents, queueBytes);
        int n = 2 + r.nextInt(10);
        int[] weights = {1, 2, 4};
        // a batch's bytes when events are of the mean size, to keep light containers below their share
        List<Source> sources = new ArrayList<>();
        int backlogged = 0;
        long weightSum = 0;
        for (int i = 0; i < n; i++) {
            int w = weights[r.nextInt(weights.length)];
            int size = 40 + r.nextInt(r.nextBoolean() ? 400 : 4000);
            boolean heavy = i == 0 || r.nextInt(3) > 0;
            backlogged += heavy ? 1 : 0;
            weightSum += w;
            sources.add(new Source(i, w, size, heavy ? -1 : 0));
        }
        // light containers: at most a third of their weighted share of a batch's bytes (or events)
        long perTick = Math.min(batchBytes, (long) batchEvents * 40);
        for (int i = 0; i < n; i++) {
            Source s = sources.get(i);
            if (!s.backlogged()) {
                double share = perTick * (double) s.weight / weightSum;
                sources.set(i, new Source(i, s.weight, s.eventBytes, share * (0.05 + 0.28 * r.nextDouble())));
            }
        }
        List<LogEvent> batch = new ArrayList<>();
        for (int tick = 0; tick < WARMUP + TICKS; tick++) {
            for (Source s : sources) {
                if (!s.backlogged()) {
                    s.owed += s.arrival;
                    while (s.owed >= s.eventBytes) {
                        s.owed -= s.eventBytes;
                        s.pendingSince.add(tick);
                    }
                }
            }
            // like blocked tailers woken by the queue: each tries again while any of them got something in
            boolean progress = true;
            while (progress) {
                progress = false;
                for (Source s : shuffled(sources, r)) {
                    if (s.backlogged()) {
                        while (q.offer(s.next(tick), s.weight)) {
                            progress = true;
                        }
                    } else if (!s.pendingSince.isEmpty() && q.offer(s.next(s.pendingSince.get(0)), s.weight)) {
                        s.pendingSince.remove(0);
                        progress = true;
                    }
                }
            }
            batch.clear();
            try {
                q.drain(batch, batchEvents, batchBytes, 0);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            q.settled(batch.size());
            if (tick < WARMUP) {
                continue;
            }
            for (LogEvent e : batch) {
                Source s = sources.get(Integer.parseInt(e.tracker().containerId().substring(1)));
                s.drained += Math.max(1.0, e.size() * (double) queueEvents / queueBytes);
                if (!s.backlogged()) {
                    s.maxWait = Math.max(s.maxWait, tick - (e.commit().offset() >>> 32));
                }
            }
        }
        if (System.getProperty("fairshare.seed") != null) {
            System.out.printf("queue %d/%d batch %d/%d%n", queueEvents, queueBytes, batchEvents, batchBytes);
            for (Source s : sources) {
                System.out.printf("%s w%d %dB arrival %.0f drained %.0f maxWait %d%n", s.tracker.containerId(), s.weight, s.eventBytes, s.arrival, s.drained, s.maxWait);
            }
        }
        double heavy = 0;
        long longestWait = 0;
        double worst = 0;
        long heavyWeight = 0;
        for (Source s : sources) {
            if (s.backlogged()) {
                heavy += s.drained;
                heavyWeight += s.weight;
            } else {
                assertThat(s.maxWait).as("ticks a light container's event waited (weight %d, %d B a tick)", s.weight, (long) s.arrival)
                        .isLessThanOrEqualTo(2);
                longestWait = Math.max(longestWait, s.maxWait);
            }
        }
        assertThat(heavy).as("the backlogged containers kept the batches busy").isGreaterThan(0);
        for (Source s : sources) {
            if (s.backlogged()) {
                double expected = heavy * s.weight / heavyWeight;
                worst = Math.max(worst, Math.abs(s.drained - expected) / expected);
                assertThat(Math.abs(s.drained - expected) / expected)
                        .as("share of a backlogged container of weight %d (%d B events) among %d backlogged, %d light: got %.0f, expected %.0f",
                                s.weight, s.eventBytes, backlogged, n - backlogged, s.drained, expected)
                        .isLessThanOrEqualTo(0.10);
            }
        }
        return new double[] {worst, longestWait};
    }

    private static List<Source> shuffled(List<Source> sources, Random r) {
        List<Source> copy = new ArrayList<>(sources);
        java.util.Collections.shuffle(copy, r);
        return copy;
    }

    @Test
    void oneContainersOrderIsKeptWhateverTheMix() throws Exception {
        EventQueue q = new EventQueue(100, 1 << 20);
        AckTracker a = new AckTracker("a", null);
        AckTracker b = new AckTracker("b", null);
        List<LogEvent> out = new ArrayList<>();
        long next = 0;
        Random r = new Random(7);
        for (int round = 0; round < 500; round++) {
            for (int i = r.nextInt(30); i > 0; i--) {
                q.offer(new LogEvent(r.nextBoolean() ? a : b, new byte[1 + r.nextInt(3000)], 0, new Cursor(1, "A", ++next)), 1 + r.nextInt(4));
            }
            q.drain(out, 1 + r.nextInt(40), 1 + r.nextInt(50_000), 0);
        }
        while (q.size() > 0) {
            q.drain(out, 100, 1 << 20, 0);
        }
        for (AckTracker t : List.of(a, b)) {
            long last = 0;
            for (LogEvent e : out) {
                if (e.tracker() == t) {
                    assertThat(e.commit().offset()).isGreaterThan(last);
                    last = e.commit().offset();
                }
            }
        }
    }

    @Test
    void aQuietContainersLineIsAdmittedAtOnceAndTakenFirstWhileAFloodFillsTheQueue() throws Exception {
        EventQueue q = new EventQueue(100, 1 << 20);
        AckTracker flood = new AckTracker("flood", null);
        AckTracker quiet = new AckTracker("quiet", null);
        List<LogEvent> backlog = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            backlog.add(new LogEvent(flood, new byte[100], 0, new Cursor(1, "A", i + 1)));
        }
        CompletableFuture<Void> flooding = CompletableFuture.runAsync(() -> {
            try {
                q.putAll(backlog, 1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        // alone, the flood fills seven eighths of the queue: the rest is for containers with nothing queued
        await().atMost(Duration.ofSeconds(10)).until(() -> q.size() == 100 - 100 / EventQueue.RESERVE);
        await().atMost(Duration.ofSeconds(10)).until(() -> q.lanesKnown() == 1);
        List<LogEvent> out = new ArrayList<>();
        q.drain(out, EventQueue.QUANTUM, 1 << 20, 0);        // the flood's first turn
        await().atMost(Duration.ofSeconds(10)).until(() -> q.size() == 100 - 100 / EventQueue.RESERVE);
        LogEvent line = new LogEvent(quiet, new byte[100], 0, new Cursor(1, "B", 1));
        q.put(line, 1);                                      // at once: the flood did not fill the queue
        assertThat(flooding).isNotDone();
        out.clear();
        q.drain(out, 10, 1 << 20, 0);
        assertThat(out.get(0)).as("a lane that was empty is served first").isSameAs(line);
        while (!flooding.isDone()) {
            out.clear();
            q.drain(out, 1000, 1 << 20, TimeUnit.MILLISECONDS.toNanos(100));
        }
        flooding.get(10, TimeUnit.SECONDS);
    }
}
