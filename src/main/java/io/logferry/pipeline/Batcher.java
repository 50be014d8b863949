package io.logferry.pipeline;

import io.logferry.metrics.Metric;
import io.logferry.metrics.Metrics;
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
import java.util.concurrent.atomic.AtomicLong;

/**
 * Takes events from the queue into batches, which are sent when {@code bulk_max_events},
 * {@code bulk_max_bytes} or {@code flush_interval} is reached, by at most {@code workers}
 * concurrent deliveries. When every worker is busy the batcher waits, the queue fills, and the
 * tailers block: backpressure all the way back to the files.
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
    private final AtomicLong held = new AtomicLong();
    private volatile boolean running = true;

    public Batcher(EventQueue queue, Output output, int maxEvents, long maxBytes, Duration flushInterval, int workers, Metrics metrics) {
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
    }

    public void start() {
        thread.start();
    }

    private void loop() {
        try {
            while (running) {
                List<LogEvent> batch = new ArrayList<>(Math.min(maxEvents, 1024));
                long bytes = queue.drain(batch, maxEvents, maxBytes, TimeUnit.MILLISECONDS.toNanos(200));
                if (batch.isEmpty()) {
                    continue;
                }
                held.addAndGet(batch.size());
                long deadline = System.nanoTime() + flushNanos;
                while (batch.size() < maxEvents && bytes < maxBytes) {
                    long wait = deadline - System.nanoTime();
                    if (wait <= 0) {
                        break;
                    }
                    int before = batch.size();
                    bytes += queue.drain(batch, maxEvents - batch.size(), maxBytes - bytes, wait);
                    held.addAndGet(batch.size() - before);
                }
                permits.acquire();
                inFlight.incrementAndGet();
                pool.execute(() -> {
                    try {
                        output.deliver(batch);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (RuntimeException e) {
                        log.error("output failed on a batch of {} events; they stay unacknowledged and are read again after a restart", batch.size(), e);
                    } finally {
                        held.addAndGet(-batch.size());
                        inFlight.decrementAndGet();
                        permits.release();
                    }
                });
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** True when the queue is empty and every drained event has been delivered, within the deadline. */
    public boolean awaitIdle(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (queue.size() > 0 || held.get() > 0) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
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
