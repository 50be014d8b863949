package io.logferry.decode;

import java.util.Map;

/**
 * One line of a json-file log, decoded: {@code {"log":"...","stream":"stdout","time":"..."}}.
 *
 * @param log the text as Docker recorded it; without a final newline it is a partial entry
 *            (Docker splits lines longer than 16 KiB)
 * @param start byte offset of the line in its file
 * @param end byte offset just after the line's newline
 * @param attrs the entry's {@code attrs} ({@code --log-opt labels=/env=}), empty when it has none
 */
public record DockerEntry(String log, String stream, String time, long start, long end, Map<String, String> attrs) {

    public DockerEntry {
        attrs = attrs == null || attrs.isEmpty() ? Map.of() : Map.copyOf(attrs);
    }

    public DockerEntry(String log, String stream, String time, long start, long end) {
        this(log, stream, time, start, end, Map.of());
    }

    public boolean partial() {
        return log.isEmpty() || log.charAt(log.length() - 1) != '\n';
    }
}
