package io.logferry.pipeline;

import io.logferry.model.LogEvent;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bounded queue between the tailers and the batcher, limited in events and in bytes. When
 * it is full, {@link #put} blocks: the tailers stop reading and nothing is dropped
 * (backpressure). One event larger than the byte limit is still admitted when the queue is empty,
 * so that it cannot block forever.
 *
 * <p>It also counts the events {@link #drain drained} and not yet {@link #settled}: the batch the
 * batcher holds or the output is delivering. Both counts change under the one lock, so
 * {@link #awaitIdle} never sees an empty queue while a drained batch is between the two (the
 * batcher used to count what it held after {@code drain} returned, and shutdown could report
 * "delivered" in that gap). Thread-safe.
 */
public final class EventQueue {
    private final int maxEvents;
    private final long maxBytes;
    private final ArrayDeque<LogEvent> items = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notFull = lock.newCondition();
    private final Condition notEmpty = lock.newCondition();
    /** Signalled when the queue is empty and no drained event is unsettled. */
    private final Condition idle = lock.newCondition();
    private long bytes;
    /** Events drained and not yet {@link #settled}. */
    private long taken;

    public EventQueue(int maxEvents, long maxBytes) {
        this.maxEvents = maxEvents;
        this.maxBytes = maxBytes;
    }

    public void put(LogEvent e) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            while (!items.isEmpty() && (items.size() >= maxEvents || bytes + e.size() > maxBytes)) {
                notFull.await();
            }
            items.addLast(e);
            bytes += e.size();
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@link #put} for each event of {@code events} in order, under one lock and one wake-up of
     * the batcher while they fit; when the queue fills, the batcher is woken and this waits.
     */
    public void putAll(List<LogEvent> events) throws InterruptedException {
        int n = events.size();
        if (n == 0) {
            return;
        }
        lock.lockInterruptibly();
        try {
            for (int i = 0; i < n; i++) {
                LogEvent e = events.get(i);
                while (!items.isEmpty() && (items.size() >= maxEvents || bytes + e.size() > maxBytes)) {
                    notEmpty.signal();
                    notFull.await();
                }
                items.addLast(e);
                bytes += e.size();
            }
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Moves up to {@code maxEvents} events (and about {@code maxBytes}) into {@code into}, waiting
     * up to {@code waitNanos} for the first one. Returns the bytes moved. The events count as taken
     * until the caller reports them {@link #settled}.
     */
    public long drain(List<LogEvent> into, int maxEvents, long maxBytes, long waitNanos) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            long remaining = waitNanos;
            while (items.isEmpty()) {
                if (remaining <= 0) {
                    return 0;
                }
                remaining = notEmpty.awaitNanos(remaining);
            }
            long moved = 0;
            int n = 0;
            while (!items.isEmpty() && n < maxEvents) {
                LogEvent head = items.peekFirst();
                if (n > 0 && moved + head.size() > maxBytes) {
                    break;
                }
                items.pollFirst();
                into.add(head);
                moved += head.size();
                n++;
            }
            bytes -= moved;
            taken += n;
            notFull.signalAll();
            return moved;
        } finally {
            lock.unlock();
        }
    }

    /** {@code n} drained events are done with: delivered, or given up on (they stay unacknowledged). */
    public void settled(int n) {
        lock.lock();
        try {
            taken -= n;
            if (taken == 0 && items.isEmpty()) {
                idle.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** True when, within the timeout, the queue is empty and every drained event is {@link #settled}. */
    public boolean awaitIdle(long timeout, TimeUnit unit) throws InterruptedException {
        long remaining = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (!items.isEmpty() || taken > 0) {
                if (remaining <= 0) {
                    return false;
                }
                remaining = idle.awaitNanos(remaining);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Drained events not yet {@link #settled}. */
    public long taken() {
        lock.lock();
        try {
            return taken;
        } finally {
            lock.unlock();
        }
    }

    public boolean awaitEmpty(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (System.nanoTime() < deadline) {
            if (size() == 0) {
                return true;
            }
            lock.lockInterruptibly();
            try {
                notFull.await(10, TimeUnit.MILLISECONDS);
            } finally {
                lock.unlock();
            }
        }
        return size() == 0;
    }

    public int size() {
        lock.lock();
        try {
            return items.size();
        } finally {
            lock.unlock();
        }
    }

    public long bytes() {
        lock.lock();
        try {
            return bytes;
        } finally {
            lock.unlock();
        }
    }
}
