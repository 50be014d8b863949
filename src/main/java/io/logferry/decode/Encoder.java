package io.logferry.decode;

import io.logferry.model.AckTracker;
import io.logferry.model.LogEvent;

/**
 * Turns a container's messages into events ready for the output: what the tailers are handed, so
 * that they never depend on the output's wire format (Elasticsearch's implementation is
 * {@code elasticsearch.DocumentBuilder}). One per container; called by one thread at a time.
 */
public interface Encoder {
    /** The event of {@code m}, in {@code tracker}'s container, acknowledging up to {@code m.commit()}. */
    LogEvent encode(Message m, AckTracker tracker);

    /**
     * The dead letter of a line or message that could not become a document ({@link Failure}):
     * an event for the dead-letter stream, acknowledging up to {@code f.commit()}; null when this
     * encoder has no dead-letter stream (the caller then moves the cursor over it and counts it).
     */
    default LogEvent deadLetter(Failure f, AckTracker tracker) {
        return null;
    }
}
