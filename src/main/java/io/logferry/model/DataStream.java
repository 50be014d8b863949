package io.logferry.model;

import java.util.Optional;

/**
 * An Elasticsearch data stream name, {@code <type>-<dataset>-<namespace>}: {@code logs-docker-default}.
 * The one place the name is put together and taken apart.
 *
 * <p>Building a name does not validate the parts (the config loader and the selector do); parsing does.
 * The dataset takes no dash (Elastic's naming scheme; the selector sanitises labels to it), so
 * a name splits at its first two dashes and anything after the second belongs to the namespace.
 */
public record DataStream(String type, String dataset, String namespace) {
    /** The type of every stream logferry writes. */
    public static final String LOGS = "logs";

    /** {@code logs-<dataset>-<namespace>} */
    public static DataStream logs(String dataset, String namespace) {
        return new DataStream(LOGS, dataset, namespace);
    }

    /** The index pattern of every namespace of a logs dataset: {@code logs-<dataset>-*}. */
    public static String logsPattern(String dataset) {
        return LOGS + "-" + dataset + "-*";
    }

    /** {@code <type>-<dataset>-<namespace>} taken apart, or empty when the name has fewer than three non-empty parts. */
    public static Optional<DataStream> parse(String name) {
        String[] parts = name.split("-", 3);
        if (parts.length < 3 || parts[0].isEmpty() || parts[1].isEmpty() || parts[2].isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new DataStream(parts[0], parts[1], parts[2]));
    }

    /** The name Elasticsearch knows it by. */
    public String name() {
        return type + "-" + dataset + "-" + namespace;
    }

    @Override
    public String toString() {
        return name();
    }
}
