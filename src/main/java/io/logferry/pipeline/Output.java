package io.logferry.pipeline;

import io.logferry.model.LogEvent;

import java.util.List;

/** Where batches go. {@link #deliver} returns when every event of the batch is acknowledged. */
public interface Output extends AutoCloseable {
    /** Delivers the batch, retrying as long as it takes, and acknowledges each event. */
    void deliver(List<LogEvent> batch) throws InterruptedException;

    /** Null when the output is reachable, else the reason. */
    String problem();

    @Override
    void close();
}
