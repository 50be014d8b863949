package io.logferry.decode;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.logferry.event.Cursor;

/**
 * One log event after reassembly and joining, ready to become a document.
 *
 * @param start where its first entry begins: with the file it names, the document's identity
 * @param commit the cursor that may be committed once this message is acknowledged: its end, or
 *               earlier when another stream still holds unfinished lines before that end
 * @param json the decoded JSON fields (logferry.json), or null
 */
public record Message(String stream, String time, String text, Cursor start, Cursor commit, int flags,
                      ObjectNode json, String level, String errorMessage) {
    public static final int MULTILINE = 1;
    public static final int TRUNCATED = 2;
    public static final int PARTIAL = 4;
}
