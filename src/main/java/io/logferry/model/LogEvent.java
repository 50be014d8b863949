package io.logferry.model;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A document ready to send: the bulk action line and the document line, serialised once by the
 * tailer that read it, and the cursor that its acknowledgement allows to commit. The end of the
 * document line that is the same for every document of the container (its {@code container},
 * {@code host}, {@code agent}, {@code data_stream} fields) is one array shared by all its events:
 * the {@link #tail()}; what is particular to the event is the {@link #head()}.
 *
 * <p>The encoder that made it also records where the document goes ({@link #index()}, one string
 * shared by the container's events) and where its {@code _id} is in the head ({@link #id()} reads
 * it from there only when asked: a dead letter keeps the {@code _id}, nothing else needs it), so
 * that the output never parses its own action line back. Immutable once queued (its publisher
 * stamps it with {@link #queued} just before; the queue's lock hands that on); {@link #ack()}
 * may be called from any thread.
 */
public final class LogEvent extends Pending {
    private final AckTracker tracker;
    private final byte[] head;
    private final byte[] tail;
    private final int documentStart;
    private final String index;
    private final int idStart;
    private final int idEnd;
    /** When it was handed to the queue ({@link System#nanoTime()}), for the queue-wait histogram; see {@link #stage}. */
    private long queuedNanos;
    /** 0: not stamped; 1: read by a tailer that had caught up with its file; 2: read by a tailer behind (a backlog). */
    private byte stage;

    /** An event without a target index or {@code _id} (tests, outputs that need neither). */
    public LogEvent(AckTracker tracker, byte[] payload, int documentStart, Cursor commit) {
        this(tracker, payload, null, documentStart, commit, null, -1, -1);
    }

    /** An event without a target index or {@code _id} (tests, outputs that need neither). */
    public LogEvent(AckTracker tracker, byte[] head, byte[] tail, int documentStart, Cursor commit) {
        this(tracker, head, tail, documentStart, commit, null, -1, -1);
    }

    /**
     * @param tail    the shared end of the document line (with its newline), or null when {@code head} is all of it
     * @param index   the index or data stream the document is written to; null when it has none
     * @param idStart where the {@code _id}'s characters (ASCII) start in {@code head}; -1 when it has none
     * @param idEnd   where they end (exclusive)
     */
    public LogEvent(AckTracker tracker, byte[] head, byte[] tail, int documentStart, Cursor commit, String index,
                    int idStart, int idEnd) {
        super(commit, false);
        this.tracker = tracker;
        this.head = head;
        this.tail = tail;
        this.documentStart = documentStart;
        this.index = index;
        this.idStart = idStart;
        this.idEnd = idEnd;
    }

    /**
     * Stamps the event as it is handed to the queue: when, and whether the read that brought its
     * line in found the tailer behind (reading a backlog) or caught up with its file.
     */
    public void queued(long nanoTime, boolean behind) {
        this.queuedNanos = nanoTime;
        this.stage = behind ? (byte) 2 : (byte) 1;
    }

    /** Whether {@link #queued} stamped it (an event that never went through a publisher was not). */
    public boolean stamped() {
        return stage != 0;
    }

    /** The {@link System#nanoTime()} of {@link #queued}. */
    public long queuedNanos() {
        return queuedNanos;
    }

    /** Read while its tailer was behind (see {@link #queued}); false when caught up or not stamped. */
    public boolean behind() {
        return stage == 2;
    }

    /** The index or data stream this document is written to, as its encoder named it; null when it has none. */
    public String index() {
        return index;
    }

    /** The document's {@code _id}, as its encoder wrote it (a new string on every call); null when it has none. */
    public String id() {
        return idStart < 0 ? null : new String(head, idStart, idEnd - idStart, StandardCharsets.US_ASCII);
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
