package io.logferry.model;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * How one selected container is shipped: the config {@code defaults} with the container's labels
 * applied. Immutable; the tailer and the decoders read only this.
 *
 * @param fields constant fields from {@code logferry.fields.<name>} labels, added as {@code labels.<name>}
 * @param pipeline the Elasticsearch ingest pipeline each document goes through ({@code logferry.pipeline},
 *                 {@code co.elastic.logs/pipeline}, {@code defaults.pipeline}), or null for none
 * @param processors the container's processors ({@code co.elastic.logs/processors.*}, {@code logferry.processors.*}),
 *                   never null ({@link ProcessorChain#NONE})
 * @param jsonTarget where the fields of decoded JSON that is not ECS go: empty for the document root
 *                   (ECS and agent names under {@code json}), else one field's name ({@code Ecs#validJsonTarget})
 * @param maxRate  events a second the tailer may hand on at most ({@code logferry.max_rate} within
 *                 {@code limits.max_rate}); 0: no limit. Only slows reading, never drops
 * @param priority the container's priority in the fair share ({@code logferry.priority} within {@code limits.max_priority})
 * @param weight   its lane's weight in the queue: {@code queue.weights.<priority>}, at least 1
 * @param fieldLimits {@code limits.field_*}: the bounds of the {@link FieldTree} its decoded JSON is built into
 * @param module   the Filebeat module its lines belong to ({@code co.elastic.logs/module}), written as
 *                 {@code event.module}; null for none. With a module, {@code dataset} is {@code <module>.<fileset>}
 * @param stderrDataset the dataset of the stderr lines when it differs from {@code dataset} (a module's
 *                 {@code fileset.stderr}); null: both streams go to {@code dataset}
 * @param jsonOptions Filebeat's {@code json.overwrite_keys} and {@code json.add_error_key}, never null
 */
public record ContainerSettings(
        String dataset,
        String namespace,
        Streams streams,
        StartPosition startPosition,
        MultilineRule multiline,
        boolean json,
        String jsonMessageKey,
        int maxBytes,
        List<LinePattern> includeLines,
        List<LinePattern> excludeLines,
        Map<String, String> fields,
        String pipeline,
        ProcessorChain processors,
        String jsonTarget,
        int maxRate,
        Priority priority,
        int weight,
        FieldTree.Limits fieldLimits,
        String module,
        String stderrDataset,
        JsonOptions jsonOptions) {

    public ContainerSettings {
        if (maxRate < 0 || weight < 1) {
            throw new IllegalArgumentException("maxRate " + maxRate + " and weight " + weight + " out of range");
        }
        jsonTarget = jsonTarget == null ? "" : jsonTarget;
        includeLines = List.copyOf(includeLines);
        excludeLines = List.copyOf(excludeLines);
        fields = Map.copyOf(fields);
        pipeline = pipeline == null || pipeline.isEmpty() ? null : pipeline;
        processors = processors == null ? ProcessorChain.NONE : processors;
        fieldLimits = fieldLimits == null ? FieldTree.Limits.DEFAULTS : fieldLimits;
        module = module == null || module.isEmpty() ? null : module;
        stderrDataset = stderrDataset == null || stderrDataset.equals(dataset) ? null : stderrDataset;
        jsonOptions = jsonOptions == null ? JsonOptions.LOGFERRY : jsonOptions;
    }

    /** These settings with another ingest pipeline (null: none) and processors. */
    public ContainerSettings withProcessing(String pipeline, ProcessorChain processors) {
        return new ContainerSettings(dataset, namespace, streams, startPosition, multiline, json, jsonMessageKey, maxBytes,
                includeLines, excludeLines, fields, pipeline, processors, jsonTarget, maxRate, priority, weight, fieldLimits,
                module, stderrDataset, jsonOptions);
    }

    /** {@code logs-<dataset>-<namespace>}: the data stream of stdout's lines (and of stderr's unless {@link #stderrDataset}). */
    public String dataStream() {
        return DataStream.logs(dataset, namespace).name();
    }

    /** The dataset of the lines of {@code stream} ({@code stdout}, {@code stderr}). */
    public String dataset(String stream) {
        return stderrDataset != null && "stderr".equals(stream) ? stderrDataset : dataset;
    }

    /** The data stream of the lines of {@code stream}. */
    public String dataStream(String stream) {
        return DataStream.logs(dataset(stream), namespace).name();
    }

    /** Every dataset this container's lines go to: one, or two with a {@link #stderrDataset}. */
    public List<String> datasets() {
        return stderrDataset == null ? List.of(dataset) : List.of(dataset, stderrDataset);
    }

    /** Every data stream this container's lines go to. */
    public List<String> dataStreams() {
        return datasets().stream().map(d -> DataStream.logs(d, namespace).name()).toList();
    }

    /** These settings with another data stream for every line, without a module. */
    public ContainerSettings withDataStream(String dataset, String namespace) {
        return new ContainerSettings(dataset, namespace, streams, startPosition, multiline, json, jsonMessageKey, maxBytes,
                includeLines, excludeLines, fields, pipeline, processors, jsonTarget, maxRate, priority, weight, fieldLimits,
                null, null, jsonOptions);
    }

    public boolean ships(String stream) {
        return switch (streams) {
            case ALL -> true;
            case STDOUT -> stream.equals("stdout");
            case STDERR -> stream.equals("stderr");
        };
    }

    /**
     * A multiline rule in Filebeat's terms: lines that match {@code pattern} (or, with
     * {@code negate}, that do not) belong to the line before them ({@code after}) or to the
     * line after them ({@code before}). {@code type} none means no joining.
     */
    public record MultilineRule(MultilineType type, LinePattern pattern, boolean negate, boolean matchAfter,
                                int maxLines, Duration timeout) {
        /** For fixtures: the type by its word ({@code none}, {@code java}, {@code python}, {@code custom}). */
        public MultilineRule(String type, LinePattern pattern, boolean negate, boolean matchAfter, int maxLines, Duration timeout) {
            this(java.util.Objects.requireNonNull(MultilineType.of(type), type), pattern, negate, matchAfter, maxLines, timeout);
        }

        public boolean enabled() {
            return type != MultilineType.NONE;
        }
    }
}
