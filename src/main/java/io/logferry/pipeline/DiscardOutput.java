package io.logferry.pipeline;

import io.logferry.metrics.Metric;
import io.logferry.metrics.Metrics;
import io.logferry.model.LogEvent;

import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/** {@code output: discard}: acknowledges and drops every event; for dry runs and benchmarks. */
public final class DiscardOutput implements Output {
    private final LongAdder acked;

    public DiscardOutput(Metrics metrics) {
        this.acked = metrics.counter(Metric.EVENTS_ACKED);
    }

    @Override
    public void deliver(List<LogEvent> batch) {
        LogEvent.ackAll(batch);
        acked.add(batch.size());
    }

    @Override
    public String problem() {
        return null;
    }

    @Override
    public void close() {
    }
}
