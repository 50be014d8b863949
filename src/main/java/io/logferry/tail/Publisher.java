package io.logferry.tail;

import io.logferry.decode.Message;
import io.logferry.decode.MessageAssembler;
import io.logferry.event.AckTracker;
import io.logferry.event.Cursor;
import io.logferry.event.DocumentBuilder;
import io.logferry.event.LogEvent;
import io.logferry.metrics.Metrics;
import io.logferry.pipeline.EventQueue;

import java.util.concurrent.atomic.LongAdder;

/**
 * Where a tailer's messages go: each becomes its bulk lines, enters the container's
 * acknowledgement order, then the queue (blocking while it is full). Bytes that produce no
 * message move the container's cursor. Used by the tailer's thread only, except
 * {@link #builder(DocumentBuilder)} on a rename.
 */
final class Publisher implements MessageAssembler.Sink {
    private final AckTracker tracker;
    private final EventQueue queue;
    private final Metrics metrics;
    private final LongAdder read;
    private final int[] docStart = new int[1];
    private volatile DocumentBuilder builder;

    Publisher(AckTracker tracker, EventQueue queue, DocumentBuilder builder, Metrics metrics) {
        this.tracker = tracker;
        this.queue = queue;
        this.builder = builder;
        this.metrics = metrics;
        this.read = metrics.counter("logferry_events_read_total", "Events read from container logs and published to the queue");
    }

    void builder(DocumentBuilder b) {
        builder = b;
    }

    @Override
    public void message(Message m) throws InterruptedException {
        byte[] payload = builder.build(m, docStart);
        LogEvent e = new LogEvent(tracker, payload, docStart[0], m.commit());
        tracker.published(e);
        queue.put(e);
        read.increment();
    }

    @Override
    public void skipped(Cursor commit) {
        tracker.skipped(commit);
    }

    @Override
    public void filtered(String reason) {
        metrics.counter("logferry_events_dropped_total", "Events dropped, by reason", "reason", reason).increment();
    }
}
