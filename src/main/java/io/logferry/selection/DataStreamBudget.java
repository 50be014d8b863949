package io.logferry.selection;

import io.logferry.config.Config;
import io.logferry.model.ContainerSettings;

import java.util.HashSet;
import java.util.Set;

/**
 * How many distinct data streams container labels may make logferry write to
 * ({@code labels.max_data_streams}), across all containers: every new data stream costs the
 * cluster shards, mappings and a template, and a label costs nothing to write. The default
 * stream ({@code logs-<defaults.dataset>-<defaults.namespace>}) is never counted. A stream is
 * admitted the first time a selected container names it and stays admitted (Elasticsearch
 * keeps the stream when the container goes); beyond the cap, a container's documents go to the
 * default stream and its {@link Selector.Decision} carries a {@link Selector.Refusal#DATA_STREAM_CAP}
 * refusal. The count starts again at every start of the agent. Thread-safe.
 */
public final class DataStreamBudget {
    private final int max;
    private final String defaultDataset;
    private final String defaultNamespace;
    private final String defaultStream;
    /** Guarded by this. */
    private final Set<String> admitted = new HashSet<>();

    public DataStreamBudget(Config config) {
        this.max = config.labels().maxDataStreams();
        this.defaultDataset = config.defaults().dataset();
        this.defaultNamespace = config.defaults().namespace();
        this.defaultStream = Selector.defaultDataStream(config);
    }

    /** Whether documents may go to {@code dataStream}: the default stream, one admitted before, or one more within the cap. */
    public synchronized boolean admit(String dataStream) {
        if (dataStream.equals(defaultStream) || admitted.contains(dataStream)) {
            return true;
        }
        if (admitted.size() >= max) {
            return false;
        }
        admitted.add(dataStream);
        return true;
    }

    /** The data streams labels have made logferry write to, the default one not counted. */
    public synchronized int size() {
        return admitted.size();
    }

    /** {@code d}, or, when its stream is beyond the cap, the same decision on the default stream with a refusal. */
    public Selector.Decision apply(Selector.Decision d) {
        if (!d.selected()) {
            return d;
        }
        ContainerSettings s = d.settings().orElseThrow();
        String beyond = null;
        for (String stream : s.dataStreams()) {
            // a module's two streams: both admitted, or the container's lines all go to the default stream
            if (beyond == null && !admit(stream)) {
                beyond = stream;
            }
        }
        if (beyond == null) {
            return d;
        }
        return d.with(s.withDataStream(defaultDataset, defaultNamespace), new Selector.Refusal(Selector.Refusal.DATA_STREAM_CAP,
                "labels chose the data stream " + beyond + ", beyond labels.max_data_streams (" + max
                        + " distinct data streams from labels in use already); using " + defaultStream));
    }
}
