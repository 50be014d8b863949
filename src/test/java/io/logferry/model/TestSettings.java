package io.logferry.model;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Test fixtures of {@link ContainerSettings}: the record has one constructor, the one the
 * {@code Selector} calls; tests start from these defaults (no pipeline, no processors, JSON at the
 * root, no rate limit, normal priority, the default field limits, no module, logferry's JSON
 * options) and change what they are about with the record's {@code with...} methods.
 */
public final class TestSettings {
    private TestSettings() {
    }

    /** No multiline rule: every line is one message. */
    public static final ContainerSettings.MultilineRule NO_MULTILINE =
            new ContainerSettings.MultilineRule("none", null, false, true, 500, Duration.ofSeconds(5));

    /** {@code logs-docker-default}, both streams, from the beginning, no multiline, no JSON, 1 MiB messages. */
    public static ContainerSettings plain() {
        return of("docker", "default", Streams.ALL, StartPosition.BEGINNING, NO_MULTILINE, false, "", 1 << 20,
                List.of(), List.of(), Map.of());
    }

    /** {@link #plain()} with another bound of a message's bytes. */
    public static ContainerSettings plain(int maxBytes) {
        return of("docker", "default", Streams.ALL, StartPosition.BEGINNING, NO_MULTILINE, false, "", maxBytes,
                List.of(), List.of(), Map.of());
    }

    /** {@link #plain()} starting elsewhere. */
    public static ContainerSettings plain(StartPosition startPosition) {
        return of("docker", "default", Streams.ALL, startPosition, NO_MULTILINE, false, "", 1 << 20,
                List.of(), List.of(), Map.of());
    }

    /** The settings a label set gives, everything else at its default. */
    public static ContainerSettings of(String dataset, String namespace, Streams streams, StartPosition startPosition,
                                       ContainerSettings.MultilineRule multiline, boolean json, String jsonMessageKey,
                                       int maxBytes, List<LinePattern> includeLines, List<LinePattern> excludeLines,
                                       Map<String, String> fields) {
        return new ContainerSettings(dataset, namespace, streams, startPosition, multiline, json, jsonMessageKey, maxBytes,
                includeLines, excludeLines, fields, null, ProcessorChain.NONE, "", 0, Priority.NORMAL,
                Priority.NORMAL.defaultWeight(), FieldTree.Limits.DEFAULTS, null, null, JsonOptions.LOGFERRY);
    }
}
