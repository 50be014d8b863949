package io.logferry.model;

import java.util.ArrayDeque;

/**
 * Keeps one container's events in the order they were read and commits a cursor only when
 * every event before it is acknowledged, whatever order the bulk workers finish in. The
 * tailer publishes and skips; the workers acknowledge; the registry reads {@link #committed()}.
 */
public final class AckTracker {
    private final String containerId;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private Cursor committed;
    private long outstanding;

    public AckTracker(String containerId, Cursor committed) {
        this.containerId = containerId;
        this.committed = committed;
    }

    public String containerId() {
        return containerId;
    }

    public synchronized void published(LogEvent e) {
        pending.addLast(e);
        outstanding++;
    }

    /** {@link #published(LogEvent)} for {@code events[from, to)}, in order, under one lock. */
    public synchronized void published(java.util.List<LogEvent> events, int from, int to) {
        for (int i = from; i < to; i++) {
            pending.addLast(events.get(i));
        }
        outstanding += to - from;
    }

    /** Bytes up to {@code c} produced no event (filtered, malformed, another stream). */
    public synchronized void skipped(Cursor c) {
        if (pending.isEmpty()) {
            advance(c);
            return;
        }
        Pending tail = pending.peekLast();
        if (tail.acked && !(tail instanceof LogEvent)) {
            tail.commit = c;
        } else {
            pending.addLast(new Pending(c, true));
        }
    }

    synchronized void ack(LogEvent e) {
        if (e.acked) {
            return;
        }
        e.acked = true;
        outstanding--;
        drainAcked();
    }

    /** {@link #ack(LogEvent)} for {@code events[from, to)}, all of this tracker, under one lock. */
    synchronized void ack(java.util.List<LogEvent> events, int from, int to) {
        for (int i = from; i < to; i++) {
            LogEvent e = events.get(i);
            if (!e.acked) {
                e.acked = true;
                outstanding--;
            }
        }
        drainAcked();
    }

    private void drainAcked() {
        while (!pending.isEmpty() && pending.peekFirst().acked) {
            advance(pending.pollFirst().commit);
        }
    }

    /**
     * Cursors arrive here in read order. In the same file only a larger offset moves the commit
     * (the file sequence is the tailer's count of opened files and restarts with each tailer, so
     * it cannot compare a cursor with one from an earlier tailer or from the registry); a cursor
     * in another file is a later file.
     */
    private void advance(Cursor c) {
        if (c == null) {
            return;
        }
        if (committed == null || !c.fileId().equals(committed.fileId()) || c.offset() > committed.offset()) {
            committed = c;
        }
    }

    public synchronized Cursor committed() {
        return committed;
    }

    /** Events published and not yet acknowledged. */
    public synchronized long outstanding() {
        return outstanding;
    }
}
