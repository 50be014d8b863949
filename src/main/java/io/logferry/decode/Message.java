package io.logferry.decode;

import io.logferry.model.Cursor;

import java.util.Map;

/**
 * One log event after reassembly and joining, ready to become a document.
 *
 * @param start where its first entry begins: with the file it names, the document's identity
 * @param commit the cursor that may be committed once this message is acknowledged: its end, or
 *               earlier when another stream still holds unfinished lines before that end
 * @param json the decoded JSON fields (logferry.json), a {@link io.logferry.model.FieldTree}'s root, or null
 * @param attrs the Docker {@code attrs} of its first entry ({@code --log-opt labels=/env=}), empty when none
 * @param escapedText the text as valid JSON string content, copied from the json-file line as it is
 *                    (then {@code text} is null in the record and {@link #text()} decodes it); else null
 * @param fields the event's fields after the container's processors ran (its JSON fields among them, then
 *               {@code json} is null), without {@code message}, {@code stream}, {@code log.level} and
 *               {@code log.flags}; null when the container has no processors. With fields, a null
 *               {@code text} means the processors removed {@code message}.
 */
public record Message(String stream, String time, String text, Cursor start, Cursor commit, int flags,
                      Map<String, Object> json, String level, String errorMessage, Map<String, String> attrs,
                      byte[] escapedText, Map<String, Object> fields) {
    public static final int MULTILINE = 1;
    public static final int TRUNCATED = 2;
    public static final int PARTIAL = 4;
    /** A dissect processor did not match the text ({@code log.flags: dissect_parsing_error}, as Filebeat flags it). */
    public static final int DISSECT_ERROR = 8;

    public Message {
        attrs = attrs == null ? Map.of() : attrs;
    }

    public Message(String stream, String time, String text, Cursor start, Cursor commit, int flags,
                   Map<String, Object> json, String level, String errorMessage, Map<String, String> attrs, byte[] escapedText) {
        this(stream, time, text, start, commit, flags, json, level, errorMessage, attrs, escapedText, null);
    }

    public Message(String stream, String time, String text, Cursor start, Cursor commit, int flags,
                   Map<String, Object> json, String level, String errorMessage, Map<String, String> attrs) {
        this(stream, time, text, start, commit, flags, json, level, errorMessage, attrs, null);
    }

    /** The text (decoded from {@link #escapedText()} when the message carries that instead). */
    @Override
    public String text() {
        return text != null || escapedText == null ? text : FastDockerLine.unescape(escapedText);
    }

    public Message(String stream, String time, String text, Cursor start, Cursor commit, int flags,
                   Map<String, Object> json, String level, String errorMessage) {
        this(stream, time, text, start, commit, flags, json, level, errorMessage, Map.of());
    }
}
