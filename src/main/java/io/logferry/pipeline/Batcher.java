package io.logferry.pipeline;

import io.logferry.metrics.Metric;
import io.logferry.metrics.Metrics;
import io.logferry.metrics.StageHistogram;
import io.logferry.model.LogEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Takes events from the queue into batches, which are sent when {@code bulk_max_events},
 * {@code bulk_max_bytes} or {@code flush_interval} is reached, by at most {@code workers}
 * concurrent deliveries; a batch that starts after a quiet spell (no batch sent for a whole
 * {@code flush_interval}, or none yet) leaves at once with what the queue holds. When every worker is busy the batcher waits, the queue fills, and the
 * tailers block: backpressure all the way back to the files.
 *
 * <p>Threads: {@code logferry-batcher} takes batches; {@code logferry-output-N} deliver them.
 * What is in flight (drained and not yet delivered) is counted by the queue itself, under its
 * lock ({@link EventQueue#settled}), which is what {@link #awaitIdle} waits on. As a batch leaves,
 * each event's queue wait (from its tailer's hand-off, {@link LogEvent#queued}) goes into
 * {@code logferry_event_queue_wait_seconds}.
 */
public final class Batcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Batcher.class);

    private final EventQueue queue;
    private final Output output;
    private final int maxEvents;
    private final long maxBytes;
    private final long flushNanos;
    private final Semaphore permits;
    private final ExecutorService pool;
    private final Thread thread;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** The queue-wait histogram's, the batcher's thread only. */
    private final StageHistogram.Tally queueWait;
    private final LongSupplier nanoTime;
    /** When the last batch left, and whether one has (the batcher's thread only). */
    private long lastSentNanos;
    private boolean sentAny;
    private volatile boolean running = true;

    public Batcher(EventQueue queue, Output output, int maxEvents, long maxBytes, Duration flushInterval, int workers, Metrics metrics) {
        this(queue, output, maxEvents, maxBytes, flushInterval, workers, metrics, System::nanoTime);
    }

    /** @param nanoTime the clock of the queue-wait histogram ({@link System#nanoTime()}; tests turn it by hand) */
    Batcher(EventQueue queue, Output output, int maxEvents, long maxBytes, Duration flushInterval, int workers, Metrics metrics,
            LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
        this.queueWait = metrics.queueWait().tally();
        this.queue = queue;
        this.output = output;
        this.maxEvents = maxEvents;
        this.maxBytes = maxBytes;
        this.flushNanos = flushInterval.toNanos();
        this.permits = new Semaphore(workers);
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "logferry-output-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.thread = new Thread(this::loop, "logferry-batcher");
        this.thread.setDaemon(true);
        metrics.gauge(Metric.BULK_REQUESTS_IN_FLIGHT, inFlight::get);
        metrics.gauge(Metric.LANES_PARKED, queue::parkedLanes);
        output.parkInto(queue::park);
    }

    public void start() {
        thread.start();
    }

    private void loop() {
        try {
            while (running) {
                // a worker first, then the batch: a batch is put together when it can leave, from what the queue
                // holds then, so that a quiet container's line waits behind at most the batches already sent
                permits.acquire();
                List<LogEvent> batch = new ArrayList<>(Math.min(maxEvents, 1024));
                long bytes;
                try {
                    // an empty queue: wait for an event (a put, a parked lane's time, close()'s interrupt), not a timer
                    bytes = queue.drain(batch, maxEvents, maxBytes, TimeUnit.SECONDS.toNanos(60));
                } catch (InterruptedException e) {
                    permits.release();
                    throw e;
                }
                if (batch.isEmpty()) {
                    permits.release();
                    continue;
                }
                // after a quiet spell (nothing sent for a whole flush_interval, or nothing yet) the batch leaves at once with
                // what the queue held: a lone line, the first at start, does not wait out the interval; under a steady
                // flow batches fill for flush_interval as before, and at most one batch per interval leaves early
                long t0 = System.nanoTime();
                long deadline = sentAny && t0 - lastSentNanos < flushNanos ? t0 + flushNanos : t0;
                while (batch.size() < maxEvents && bytes < maxBytes) {
                    long wait = deadline - System.nanoTime();
                    if (wait <= 0) {
                        break;
                    }
                    try {
                        bytes += queue.drain(batch, maxEvents - batch.size(), maxBytes - bytes, wait);
                    } catch (InterruptedException e) {
                        // shutdown: the events in hand are settled, unacknowledged (read again after a restart)
                        queue.settled(batch.size());
                        throw e;
                    }
                }
                recordQueueWait(batch);
                lastSentNanos = System.nanoTime();
                sentAny = true;
                inFlight.incrementAndGet();
                pool.execute(() -> {
                    try {
                        output.deliver(batch);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (RuntimeException e) {
                        log.error("output failed on a batch of {} events; they stay unacknowledged and are read again after a restart", batch.size(), e);
                    } finally {
                        queue.settled(batch.size());
                        inFlight.decrementAndGet();
                        permits.release();
                    }
                });
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Each event's time from its tailer's hand-off to the queue until now, when its batch leaves. */
    private void recordQueueWait(List<LogEvent> batch) {
        long now = nanoTime.getAsLong();
        for (int i = 0, n = batch.size(); i < n; i++) {
            LogEvent e = batch.get(i);
            if (e.stamped()) {
                queueWait.add(e.behind(), (now - e.queuedNanos()) / 1_000_000);
            }
        }
        queueWait.flush();
    }

    /**
     * True when, within the timeout, the queue is empty and every drained event has been through
     * the output (delivered, or given up on after an output failure, unacknowledged).
     */
    public boolean awaitIdle(long timeout, TimeUnit unit) throws InterruptedException {
        return queue.awaitIdle(timeout, unit);
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        pool.shutdownNow();
        try {
            thread.join(2000);
            pool.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
