package io.logferry.pipeline;

import io.logferry.model.LogEvent;

import java.util.List;

/**
 * Where the batcher hands each batch: the end of the pipeline. It is not a format-neutral sink:
 * an event's bytes were written by the {@code decode.Encoder} the tailers were given, and an
 * output only sends them as they are, so an output and its encoder come in pairs
 * ({@code elasticsearch.ElasticsearchOutput} sends the bulk lines {@code elasticsearch.DocumentBuilder}
 * wrote, using the event's {@link LogEvent#id()} and {@link LogEvent#index()} for its dead letters).
 * {@link DiscardOutput} reads no bytes at all.
 *
 * <p>What every output promises:
 * <ul>
 *   <li>{@link #deliver} is called by up to {@code elasticsearch.workers} threads at once, each with
 *       its own batch: an output is thread-safe, and a batch is its caller's alone.</li>
 *   <li>It returns normally only when it has acknowledged every event of the batch exactly once
 *       ({@link LogEvent#ack()} or {@link LogEvent#ackAll}): the destination holds it, or the output
 *       gave up on it and counted and logged it as lost (never silently); or when it has handed the
 *       event back through the {@link Parking} it was given ({@link #parkInto}), once, unacknowledged:
 *       then the event is in its container's lane again and is delivered in a later batch. An event
 *       it cannot place yet is retried, without limit: an output does not return early because its
 *       destination is down.</li>
 *   <li>Events it has not acknowledged when it throws stay unacknowledged: the registry never
 *       commits past them, and they are read again after a restart. {@link InterruptedException}
 *       means shutdown; a {@link RuntimeException} is a bug, which the batcher logs.</li>
 *   <li>It counts the events its destination holds in {@code logferry_events_acked_total}.</li>
 * </ul>
 */
public interface Output extends AutoCloseable {
    /** Delivers the batch, retrying as long as it takes, and acknowledges each of its events once. */
    void deliver(List<LogEvent> batch) throws InterruptedException;

    /**
     * Where an output hands back events whose destination, chosen by their container (a label's
     * ingest pipeline or data stream), keeps failing: they go back to the front of their
     * container's lane, which is not drained for {@code delayNanos}, so that one container's
     * destination cannot hold the workers that every container shares ({@link EventQueue#park}).
     */
    @FunctionalInterface
    interface Parking {
        void park(List<LogEvent> events, long delayNanos);
    }

    /** Called once by the batcher before the first {@link #deliver}: where to hand events back. Ignored by default. */
    default void parkInto(Parking parking) {
    }

    /** Null when the destination takes events, else a one-line reason for {@code /health}; cheap, from any thread. */
    String problem();

    /** Releases the connections; called once, after the batcher has stopped calling {@link #deliver}. Throws nothing. */
    @Override
    void close();
}
