package io.logferry.decode;

/**
 * One line of a json-file log, decoded: {@code {"log":"...","stream":"stdout","time":"..."}}.
 *
 * @param log the text as Docker recorded it; without a final newline it is a partial entry
 *            (Docker splits lines longer than 16 KiB)
 * @param start byte offset of the line in its file
 * @param end byte offset just after the line's newline
 */
public record DockerEntry(String log, String stream, String time, long start, long end) {
    public boolean partial() {
        return log.isEmpty() || log.charAt(log.length() - 1) != '\n';
    }
}
