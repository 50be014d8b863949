package io.logferry.pipeline;

import io.logferry.metrics.Metric;
import io.logferry.metrics.Metrics;
import io.logferry.metrics.StageHistogram;
import io.logferry.model.LogEvent;

import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code output: discard}, for dry runs and benchmarks: the {@link Output} contract with a
 * destination that takes everything at once. Every event is acknowledged (so the registry moves
 * on as it would with Elasticsearch) and counted in {@code logferry_events_acked_total}; its bytes
 * are never read. Never has a problem; holds nothing to close. Thread-safe.
 */
public final class DiscardOutput implements Output {
    private final LongAdder acked;
    private final StageHistogram delivery;

    public DiscardOutput(Metrics metrics) {
        this.acked = metrics.counter(Metric.EVENTS_ACKED);
        this.delivery = metrics.delivery();
    }

    @Override
    public void deliver(List<LogEvent> batch) {
        LogEvent.ackAll(batch);
        acked.add(batch.size());
        delivery.recordAll(batch, 0);
    }

    @Override
    public String problem() {
        return null;
    }

    @Override
    public void close() {
        // nothing held
    }
}
