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
}
