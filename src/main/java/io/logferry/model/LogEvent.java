package io.logferry.model;

import java.util.List;

/**
 * A document ready to send: the bulk action line and the document line, serialised once by the
 * tailer that read it, and the cursor that its acknowledgement allows to commit. The end of the
 * document line that is the same for every document of the container (its {@code container},
 * {@code host}, {@code agent}, {@code data_stream} fields) is one array shared by all its events:
 * the {@link #tail()}; what is particular to the event is the {@link #head()}.
 */
public final class LogEvent extends Pending {
    private final AckTracker tracker;
    private final byte[] head;
    private final byte[] tail;
    private final int documentStart;

    public LogEvent(AckTracker tracker, byte[] payload, int documentStart, Cursor commit) {
        this(tracker, payload, null, documentStart, commit);
    }

    /** @param tail the shared end of the document line (with its newline), or null when {@code head} is all of it */
    public LogEvent(AckTracker tracker, byte[] head, byte[] tail, int documentStart, Cursor commit) {
        super(commit, false);
        this.tracker = tracker;
        this.head = head;
        this.tail = tail;
        this.documentStart = documentStart;
    }

    /** The action line and the document line, each ending with a newline (a copy, when there is a tail). */
    public byte[] payload() {
        if (tail == null) {
            return head;
        }
        byte[] all = new byte[head.length + tail.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(tail, 0, all, head.length, tail.length);
        return all;
    }

    /** The payload's first bytes: the action line and the event's own part of the document line. */
    public byte[] head() {
        return head;
    }

    /** The rest of the payload, shared with the container's other events; null when there is none. */
    public byte[] tail() {
        return tail;
    }

    /** Where the document line starts in {@link #payload()}. */
    public int documentStart() {
        return documentStart;
    }

    public int size() {
        return tail == null ? head.length : head.length + tail.length;
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
