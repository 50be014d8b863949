package io.logferry.model;

import java.util.Set;

/**
 * The Elastic Common Schema as far as logferry's documents need it: the version whose field
 * definitions the documents follow, the top-level names ECS defines, and the top-level names the
 * agent writes itself. Both the JSON decoder (where a decoded field goes) and the document builder
 * (what an application's ECS log line may not overwrite) read them. Constants only.
 */
public final class Ecs {
    /**
     * The ECS version of every document's {@code ecs.version}: the fields logferry writes were
     * checked against this version's definitions (docs/documents.md; the test resource
     * {@code ecs/ecs-fields.csv}).
     */
    public static final String VERSION = "9.1.0";

    /**
     * The top-level names of ECS: its field sets that may stand at the root of an event, and the
     * base fields. A decoded JSON field whose first name part is one of these means something in
     * ECS, so a JSON message that is not itself ECS does not put it at the document root.
     */
    public static final Set<String> ROOT_NAMES = Set.of(
            "@timestamp", "labels", "message", "tags",
            "agent", "client", "cloud", "container", "data_stream", "destination", "device", "dll", "dns", "ecs",
            "email", "entity", "error", "event", "faas", "file", "gen_ai", "group", "host", "http", "log", "network",
            "observer", "orchestrator", "organization", "package", "process", "registry", "related", "risk", "rule",
            "server", "service", "source", "span", "threat", "tls", "trace", "transaction", "url", "user",
            "user_agent", "volume", "vulnerability");

    /**
     * Top-level names the agent alone writes: what it knows about where a line came from
     * ({@code host}, {@code agent}, {@code container}, {@code data_stream}, {@code ecs}, the time and
     * the stream) and its own custom objects ({@code docker}, {@code json}, {@code logferry}). A
     * decoded field under one of these never reaches that place in the document; it goes under
     * {@code json} instead.
     */
    public static final Set<String> AGENT_OWNED = Set.of(
            "@timestamp", "message", "stream", "host", "agent", "container", "data_stream", "ecs", "docker", "json",
            "logferry");

    private Ecs() { }

    /**
     * True when {@code name} may hold the fields of decoded JSON that is not ECS
     * ({@code defaults.json_target}, {@code logferry.json.target}): empty (the default placement),
     * {@code json}, or a plain lower-case name of at most 64 characters that is neither an ECS
     * name nor one the agent writes.
     */
    public static boolean validJsonTarget(String name) {
        return name.isEmpty() || name.equals("json") || (name.matches("[a-z][a-z0-9_]{0,63}") && !taken(name));
    }

    /** The first part of a dotted key: {@code log} of {@code log.level}. */
    public static String root(String key) {
        int dot = key.indexOf('.');
        return dot < 0 ? key : key.substring(0, dot);
    }

    /** True when a top-level JSON key names something ECS defines or the agent writes itself. */
    public static boolean taken(String key) {
        String r = root(key);
        return ROOT_NAMES.contains(r) || AGENT_OWNED.contains(r);
    }

    /**
     * The instant of an RFC 3339 time with its offset ({@code 2020-01-02T03:04:05.678Z},
     * {@code ...+01:00}), as ECS loggers write {@code @timestamp}; null for anything else (at most
     * 64 characters are looked at). The one reader of a content {@code @timestamp}: JSON's
     * {@code overwrite_keys}, {@code decode_json_fields}'.
     */
    public static java.time.Instant timestamp(Object v) {
        if (!(v instanceof String s) || s.length() > 64) {
            return null;
        }
        try {
            return java.time.OffsetDateTime.parse(s.trim(), java.time.format.DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
        } catch (java.time.DateTimeException e) {
            return null;
        }
    }
}
