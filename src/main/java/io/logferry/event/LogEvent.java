package io.logferry.event;

import java.util.List;

/**
 * A document ready to send: the bulk action line and the document line, serialised once by the
 * tailer that read it, and the cursor that its acknowledgement allows to commit.
 */
public final class LogEvent extends Pending {
    private final AckTracker tracker;
    private final byte[] payload;
    private final int documentStart;

    public LogEvent(AckTracker tracker, byte[] payload, int documentStart, Cursor commit) {
        super(commit, false);
        this.tracker = tracker;
        this.payload = payload;
        this.documentStart = documentStart;
    }

    /** The action line and the document line, each ending with a newline. */
    public byte[] payload() {
        return payload;
    }

    /** Where the document line starts in {@link #payload()}. */
    public int documentStart() {
        return documentStart;
    }

    public int size() {
        return payload.length;
    }

    public AckTracker tracker() {
        return tracker;
    }

    /** Called once Elasticsearch holds the document (or the dead-letter stream does). */
    public void ack() {
        tracker.ack(this);
    }

    /**
     * Acknowledges every event of {@code events}: one lock per run of events of the same container
     * instead of one per event (a batch mostly holds long runs of one container's events).
     */
    public static void ackAll(List<LogEvent> events) {
        int n = events.size();
        int from = 0;
        while (from < n) {
            AckTracker t = events.get(from).tracker;
            int to = from + 1;
            while (to < n && events.get(to).tracker == t) {
                to++;
            }
            t.ack(events, from, to);
            from = to;
        }
    }
}
