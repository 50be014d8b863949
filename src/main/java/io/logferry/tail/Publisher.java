package io.logferry.tail;

import io.logferry.decode.Encoder;
import io.logferry.decode.Failure;
import io.logferry.decode.LineMark;
import io.logferry.decode.Message;
import io.logferry.decode.MessageAssembler;
import io.logferry.metrics.Metric;
import io.logferry.metrics.Metrics;
import io.logferry.model.AckTracker;
import io.logferry.model.Cursor;
import io.logferry.model.LogEvent;
import io.logferry.pipeline.EventQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * Where a tailer's messages go: each becomes its bulk lines and enters the container's
 * acknowledgement order at once, then the queue (blocking while it is full). Bytes that produce
 * no message move the container's cursor. Not thread-safe: used by the one thread that owns the
 * tailer's assembler (a {@link FileTailer}'s or {@link ApiTailer}'s own thread; docker-java's
 * stream thread only hands frames to the latter), except {@link #builder(Encoder)}, which
 * discovery's thread calls on a rename (a volatile field).
 *
 * <p>A batching publisher holds up to {@link #BATCH} events and hands them to the queue in one
 * {@link EventQueue#putAll}: the tailer must call {@link #flush()} after each read and before it
 * idles. Held events enter the tracker's order together (one lock, not one per event), at the
 * latest before a cursor skipped after them, so that it cannot commit past them.
 *
 * <p>Every event goes to the container's own lane of the queue with the container's weight
 * ({@code queue.weights.<priority>}); with a {@link RateLimit} ({@code logferry.max_rate}) each
 * event first takes a token, and when there is none the events held are handed on and the tailer
 * waits for the next: it reads more slowly, and nothing is dropped.
 */
final class Publisher implements MessageAssembler.Sink {
    private static final Logger log = LoggerFactory.getLogger(Publisher.class);
    static final int BATCH = 512;
    private final AckTracker tracker;
    private final EventQueue queue;
    private final Metrics metrics;
    private final LongAdder read;
    private final LongAdder truncated;
    private final LongAdder dissectFailures;
    private final boolean batching;
    private final int weight;
    /** Null: no rate limit. */
    private final RateLimit limit;
    private final List<LogEvent> held;
    /** {@code held[0, published)} are in the tracker's order already. */
    private int published;
    private volatile Encoder builder;
    private long failures;
    private LineMark mark = LineMark.NONE;
    /** The last read found its tailer behind (a backlog): stamped on the events it hands on, for the latency histograms. */
    private boolean behind;

    Publisher(AckTracker tracker, EventQueue queue, Encoder builder, Metrics metrics, boolean batching) {
        this(tracker, queue, builder, metrics, batching, EventQueue.DEFAULT_WEIGHT, null);
    }

    /** @param limit null: no rate limit */
    Publisher(AckTracker tracker, EventQueue queue, Encoder builder, Metrics metrics, boolean batching, int weight,
              RateLimit limit) {
        this.weight = weight;
        this.limit = limit;
        this.tracker = tracker;
        this.queue = queue;
        this.builder = builder;
        this.metrics = metrics;
        this.batching = batching;
        this.held = batching ? new ArrayList<>(BATCH) : null;
        this.read = metrics.counter(Metric.EVENTS_READ);
        this.truncated = metrics.counter(Metric.EVENTS_TRUNCATED);
        this.dissectFailures = metrics.counter(Metric.DISSECT_FAILURES);
    }

    /** The tailer's in-flight mark: paused while this waits (queue full, rate limit), which is not the line's own work. */
    void mark(LineMark m) {
        mark = m;
    }

    /** Whether the read being worked on found the tailer behind its file (it filled the buffer) or caught up. */
    void behind(boolean b) {
        behind = b;
    }

    void builder(Encoder b) {
        builder = b;
    }

    @Override
    public void message(Message m) throws InterruptedException {
        if ((m.flags() & Message.TRUNCATED) != 0) {
            truncated.increment();
        }
        if ((m.flags() & Message.DISSECT_ERROR) != 0) {
            dissectFailures.increment();
        }
        if (limit != null && !limit.tryTake()) {
            flush();                      // what was read before goes on while this waits
            mark.pause();
            limit.take();
            mark.resume();
        }
        LogEvent e;
        try {
            e = builder.encode(m, tracker);
        } catch (RuntimeException | StackOverflowError ex) {
            // the message's boundary, last stage: its document could not be written
            failed(Failure.of(m.start(), m.commit(), m.stream(), m.time(), textOf(m), ex));
            return;
        }
        add(e);
    }

    private void add(LogEvent e) throws InterruptedException {
        if (!batching) {
            tracker.published(e);
            e.queued(System.nanoTime(), behind);
            mark.pause();
            queue.put(e, weight);
            mark.resume();
            read.increment();
            return;
        }
        held.add(e);
        if (held.size() >= BATCH) {
            flush();
        }
    }

    /**
     * A line or message that could not become a document: its dead letter takes its place (no
     * rate token: it is not the container's output), counted and logged (the first 10, then
     * every 1000th); if even that cannot be written, the cursor moves over it and it is counted
     * as dropped ({@code reason="failed"}).
     */
    @Override
    public void failed(Failure f) throws InterruptedException {
        metrics.counter(Metric.LINES_CONTAINED, "reason", f.reason()).increment();
        if (failures++ < 10 || failures % 1000 == 0) {
            log.warn("container {}: a line at {} offset {} {}: {}: {}; it goes to the dead-letter stream as read ({} so far)",
                    tracker.containerId(), f.start().fileId(), f.start().offset(),
                    Failure.IN_FLIGHT.equals(f.reason()) ? "was being processed when the agent exited" : "failed",
                    f.errorType(), f.errorMessage(), failures);
        }
        LogEvent letter;
        try {
            letter = builder.deadLetter(f, tracker);
        } catch (RuntimeException | StackOverflowError ex) {
            letter = null;
        }
        if (letter == null) {
            metrics.counter(Metric.EVENTS_DROPPED, "reason", "failed").increment();
            skipped(f.commit());
            return;
        }
        add(letter);
    }

    private static String textOf(Message m) {
        try {
            return m.text();
        } catch (RuntimeException ex) {
            return m.escapedText() == null ? null : new String(m.escapedText(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** Hands the events held to the queue (blocking while it is full). */
    void flush() throws InterruptedException {
        if (held == null || held.isEmpty()) {
            return;
        }
        publishHeld();
        long now = System.nanoTime();
        for (int i = 0, n = held.size(); i < n; i++) {
            held.get(i).queued(now, behind);
        }
        mark.pause();
        queue.putAll(held, weight);
        mark.resume();
        read.add(held.size());
        held.clear();
        published = 0;
    }

    private void publishHeld() {
        if (published < held.size()) {
            tracker.published(held, published, held.size());
            published = held.size();
        }
    }

    @Override
    public void skipped(Cursor commit) {
        if (held != null) {
            publishHeld();
        }
        tracker.skipped(commit);
    }

    @Override
    public void filtered(String reason) {
        metrics.counter(Metric.EVENTS_DROPPED, "reason", reason).increment();
    }
}
