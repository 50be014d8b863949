package io.logferry.model;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * How one selected container is shipped: the config {@code defaults} with the container's labels
 * applied. Immutable; the tailer and the decoders read only this.
 *
 * @param fields   constant fields from {@code logferry.fields.<name>} labels, added as {@code labels.<name>}
 * @param maxRate  events a second the tailer may hand on at most ({@code logferry.max_rate} within
 *                 {@code limits.max_rate}); 0: no limit. Only slows reading, never drops
 * @param priority the container's priority in the fair share ({@code logferry.priority} within {@code limits.max_priority})
 * @param weight   its lane's weight in the queue: {@code queue.weights.<priority>}, at least 1
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
        int maxRate,
        Priority priority,
        int weight) {

    public ContainerSettings {
        if (maxRate < 0 || weight < 1) {
            throw new IllegalArgumentException("maxRate " + maxRate + " and weight " + weight + " out of range");
        }
        includeLines = List.copyOf(includeLines);
        excludeLines = List.copyOf(excludeLines);
        fields = Map.copyOf(fields);
    }

    /** Settings without a rate limit, of normal priority (fixtures). */
    public ContainerSettings(String dataset, String namespace, Streams streams, StartPosition startPosition,
                             MultilineRule multiline, boolean json, String jsonMessageKey, int maxBytes,
                             List<LinePattern> includeLines, List<LinePattern> excludeLines, Map<String, String> fields) {
        this(dataset, namespace, streams, startPosition, multiline, json, jsonMessageKey, maxBytes, includeLines, excludeLines,
                fields, 0, Priority.NORMAL, Priority.NORMAL.defaultWeight());
    }

    /** {@code logs-<dataset>-<namespace>} */
    public String dataStream() {
        return DataStream.logs(dataset, namespace).name();
    }

    /** These settings with another data stream. */
    public ContainerSettings withDataStream(String dataset, String namespace) {
        return new ContainerSettings(dataset, namespace, streams, startPosition, multiline, json, jsonMessageKey, maxBytes,
                includeLines, excludeLines, fields, maxRate, priority, weight);
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
