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
    private final ChangeFlag changed;

    public AckTracker(String containerId, Cursor committed) {
        this(containerId, committed, new ChangeFlag());
    }

    /** @param changed raised at every change of what {@link #committed()} and {@link #unacknowledgedFiles()} say */
    public AckTracker(String containerId, Cursor committed, ChangeFlag changed) {
        this.containerId = containerId;
        this.committed = committed;
        this.changed = changed;
    }

    public String containerId() {
        return containerId;
    }

    public synchronized void published(LogEvent e) {
        changed.raise();
        pending.addLast(e);
        outstanding++;
    }

    /** {@link #published(LogEvent)} for {@code events[from, to)}, in order, under one lock. */
    public synchronized void published(java.util.List<LogEvent> events, int from, int to) {
        changed.raise();
        for (int i = from; i < to; i++) {
            pending.addLast(events.get(i));
        }
        outstanding += to - from;
    }

    /** Bytes up to {@code c} produced no event (filtered, malformed, another stream). */
    public synchronized void skipped(Cursor c) {
        changed.raise();
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
        changed.raise();
        e.acked = true;
        outstanding--;
        drainAcked();
    }

    /** {@link #ack(LogEvent)} for {@code events[from, to)}, all of this tracker, under one lock. */
    synchronized void ack(java.util.List<LogEvent> events, int from, int to) {
        changed.raise();
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

    /** Bytes {@code [from, to)} of the log file {@code fileId} were read (published or skipped) and are not all acknowledged. */
    public record Unacknowledged(String fileId, long from, long to) { }

    /**
     * The files read whose bytes are not all acknowledged, in the order they were read: what a
     * crash now would have to find again (on disk or in the spool) at the next start. The first
     * starts at the committed offset when it is the committed file, the others at 0. One walk over
     * the pending cursors (the registry asks once per flush).
     */
    public synchronized java.util.List<Unacknowledged> unacknowledgedFiles() {
        java.util.List<Unacknowledged> out = new java.util.ArrayList<>();
        long seq = -1;
        String id = null;
        long from = 0;
        long to = 0;
        for (Pending p : pending) {
            Cursor c = p.commit;
            if (c == null || c.fileId() == null || c.fileId().equals("unknown")) {
                continue;
            }
            if (id != null && c.fileSeq() == seq && c.fileId().equals(id)) {
                to = Math.max(to, c.offset());
                continue;
            }
            if (id != null) {
                out.add(new Unacknowledged(id, from, to));
            }
            seq = c.fileSeq();
            id = c.fileId();
            from = out.isEmpty() && committed != null && committed.fileId().equals(id) ? committed.offset() : 0;
            to = c.offset();
        }
        if (id != null) {
            out.add(new Unacknowledged(id, from, to));
        }
        return out;
    }

    /** Events published and not yet acknowledged. */
    public synchronized long outstanding() {
        return outstanding;
    }
}
