package io.logferry.decode;

import java.util.Map;

/**
 * One line of a json-file log, decoded: {@code {"log":"...","stream":"stdout","time":"..."}}.
 *
 * @param log the text as Docker recorded it; without a final newline it is a partial entry
 *            (Docker splits lines longer than 16 KiB). Null in the record when {@code escaped}
 *            holds the text; {@link #log()} decodes it then.
 * @param start byte offset of the line in its file
 * @param end byte offset just after the line's newline
 * @param attrs the entry's {@code attrs} ({@code --log-opt labels=/env=}), empty when it has none
 * @param escaped for a complete line that nothing needs to read: its text without the final
 *                newline exactly as Docker escaped it, valid JSON string content (ASCII, valid
 *                escapes, no surrogate escapes), so that the document can copy it; else null
 */
public record DockerEntry(String log, String stream, String time, long start, long end, Map<String, String> attrs,
                          byte[] escaped) {

    public DockerEntry {
        attrs = attrs == null || attrs.isEmpty() ? Map.of() : Map.copyOf(attrs);
    }

    public DockerEntry(String log, String stream, String time, long start, long end, Map<String, String> attrs) {
        this(log, stream, time, start, end, attrs, null);
    }

    public DockerEntry(String log, String stream, String time, long start, long end) {
        this(log, stream, time, start, end, Map.of(), null);
    }

    static DockerEntry escaped(byte[] escaped, String stream, String time, long start, long end) {
        return new DockerEntry(null, stream, time, start, end, Map.of(), escaped);
    }

    /** The text with its newline (decoded from {@link #escaped()} when the entry carries that). */
    @Override
    public String log() {
        return log != null ? log : FastDockerLine.unescape(escaped) + "\n";
    }

    public boolean partial() {
        if (log == null) {
            return false;
        }
        return log.isEmpty() || log.charAt(log.length() - 1) != '\n';
    }
}
