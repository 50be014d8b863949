package io.logferry.elasticsearch;

import io.logferry.model.LogEvent;

import java.util.Objects;

/**
 * The destinations the operator configured: the default data stream
 * ({@code defaults.dataset}, {@code defaults.namespace}) and the default ingest pipeline
 * ({@code defaults.pipeline}, null for none). Any other stream or pipeline an event goes to was
 * chosen by its container's labels ({@code logferry.dataset}, {@code logferry.namespace},
 * {@code logferry.pipeline}, the {@code co.elastic.logs/*} hints): when such a destination keeps
 * failing, {@link ElasticsearchOutput} parks that container's lane instead of holding a worker
 * (docs/delivery.md, "A destination a label chose that keeps failing").
 *
 * <p>Immutable; thread-safe. A pure function, table-tested ({@code OperatorTargetsTest}).
 */
public record OperatorTargets(String stream, String pipeline) {

    /**
     * The destination of {@code e} when its container's labels chose it ({@code logs-x-y}, or
     * {@code logs-x-y through pipeline p}): its stream or its pipeline is not the operator's; null when
     * both are the operator's, or the event names no index (tests).
     */
    public String labelChosen(LogEvent e) {
        String index = e.index();
        if (index == null) {
            return null;
        }
        String p = ElasticsearchOutput.pipelineOf(e);
        if (index.equals(stream) && Objects.equals(p, pipeline)) {
            return null;
        }
        return p == null ? index : index + " through ingest pipeline " + p;
    }
}
