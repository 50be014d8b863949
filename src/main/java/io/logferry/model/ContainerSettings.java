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
        jsonOptions = jsonOptions == null ? JsonOptions.LOGFERRY : jsonOptions;
    }

    /** With logferry's JSON options. */
    public ContainerSettings(String dataset, String namespace, Streams streams, StartPosition startPosition, MultilineRule multiline,
                             boolean json, String jsonMessageKey, int maxBytes, List<LinePattern> includeLines,
                             List<LinePattern> excludeLines, Map<String, String> fields, String pipeline, ProcessorChain processors,
                             String jsonTarget, int maxRate, Priority priority, int weight, FieldTree.Limits fieldLimits) {
        this(dataset, namespace, streams, startPosition, multiline, json, jsonMessageKey, maxBytes, includeLines, excludeLines,
                fields, pipeline, processors, jsonTarget, maxRate, priority, weight, fieldLimits, JsonOptions.LOGFERRY);
    }

    /** With the default field limits. */
    public ContainerSettings(String dataset, String namespace, Streams streams, StartPosition startPosition, MultilineRule multiline,
                             boolean json, String jsonMessageKey, int maxBytes, List<LinePattern> includeLines,
                             List<LinePattern> excludeLines, Map<String, String> fields, String pipeline, ProcessorChain processors,
                             String jsonTarget, int maxRate, Priority priority, int weight) {
        this(dataset, namespace, streams, startPosition, multiline, json, jsonMessageKey, maxBytes, includeLines, excludeLines,
                fields, pipeline, processors, jsonTarget, maxRate, priority, weight, FieldTree.Limits.DEFAULTS);
    }

    /** Fixtures: no pipeline, no processors, JSON at the root, no rate limit, normal priority. */
    public ContainerSettings(String dataset, String namespace, Streams streams, StartPosition startPosition,
                             MultilineRule multiline, boolean json, String jsonMessageKey, int maxBytes,
                             List<LinePattern> includeLines, List<LinePattern> excludeLines, Map<String, String> fields) {
        this(dataset, namespace, streams, startPosition, multiline, json, jsonMessageKey, maxBytes, includeLines, excludeLines,
                fields, null, ProcessorChain.NONE, "", 0, Priority.NORMAL, Priority.NORMAL.defaultWeight());
    }

    /** Fixtures: with a pipeline and processors. */
    public ContainerSettings(String dataset, String namespace, Streams streams, StartPosition startPosition,
                             MultilineRule multiline, boolean json, String jsonMessageKey, int maxBytes,
                             List<LinePattern> includeLines, List<LinePattern> excludeLines, Map<String, String> fields,
                             String pipeline, ProcessorChain processors) {
        this(dataset, namespace, streams, startPosition, multiline, json, jsonMessageKey, maxBytes, includeLines, excludeLines,
                fields, pipeline, processors, "", 0, Priority.NORMAL, Priority.NORMAL.defaultWeight());
    }

    /** Fixtures: with a JSON target. */
    public ContainerSettings(String dataset, String namespace, Streams streams, StartPosition startPosition,
                             MultilineRule multiline, boolean json, String jsonMessageKey, int maxBytes,
                             List<LinePattern> includeLines, List<LinePattern> excludeLines, Map<String, String> fields,
                             String jsonTarget) {
        this(dataset, namespace, streams, startPosition, multiline, json, jsonMessageKey, maxBytes, includeLines, excludeLines,
                fields, null, ProcessorChain.NONE, jsonTarget, 0, Priority.NORMAL, Priority.NORMAL.defaultWeight());
    }

    /** Fixtures: with a rate limit and a priority. */
    public ContainerSettings(String dataset, String namespace, Streams streams, StartPosition startPosition,
                             MultilineRule multiline, boolean json, String jsonMessageKey, int maxBytes,
                             List<LinePattern> includeLines, List<LinePattern> excludeLines, Map<String, String> fields,
                             int maxRate, Priority priority, int weight) {
        this(dataset, namespace, streams, startPosition, multiline, json, jsonMessageKey, maxBytes, includeLines, excludeLines,
                fields, null, ProcessorChain.NONE, "", maxRate, priority, weight);
    }

    /** These settings with another ingest pipeline (null: none) and processors. */
    public ContainerSettings withProcessing(String pipeline, ProcessorChain processors) {
        return new ContainerSettings(dataset, namespace, streams, startPosition, multiline, json, jsonMessageKey, maxBytes,
                includeLines, excludeLines, fields, pipeline, processors, jsonTarget, maxRate, priority, weight, fieldLimits, jsonOptions);
    }

    /** {@code logs-<dataset>-<namespace>} */
    public String dataStream() {
        return DataStream.logs(dataset, namespace).name();
    }

    /** These settings with another data stream. */
    public ContainerSettings withDataStream(String dataset, String namespace) {
        return new ContainerSettings(dataset, namespace, streams, startPosition, multiline, json, jsonMessageKey, maxBytes,
                includeLines, excludeLines, fields, pipeline, processors, jsonTarget, maxRate, priority, weight, fieldLimits, jsonOptions);
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
