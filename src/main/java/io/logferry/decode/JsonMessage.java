package io.logferry.decode;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Decodes a message that is a JSON object ({@code logferry.json=true}). The text field
 * ({@code message_key}, else {@code message}, else {@code msg}) becomes the message;
 * {@code level} or {@code severity} becomes {@code log.level}; the other fields go to the document
 * root. A message that is not a JSON object stays text, with an error.
 */
public final class JsonMessage {
    /** Text after the object ({@code {"a":1} and more}) makes the message not JSON, rather than being dropped. */
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    public record Result(ObjectNode fields, String text, String level, String error) { }

    private JsonMessage() { }

    public static Result decode(String raw, String messageKey) {
        String trimmed = raw.trim();
        if (!trimmed.startsWith("{")) {
            return new Result(null, raw, null, "the message is not a JSON object");
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(trimmed);
        } catch (JsonProcessingException e) {
            String m = e.getOriginalMessage();
            return new Result(null, raw, null, "the message is not valid JSON: " + m);
        }
        if (!(node instanceof ObjectNode obj)) {
            return new Result(null, raw, null, "the message is not a JSON object");
        }
        String text = raw;
        for (String key : messageKey.isEmpty() ? new String[] {"message", "msg"} : new String[] {messageKey}) {
            JsonNode t = obj.get(key);
            if (t != null && t.isValueNode()) {
                text = t.asText();
                obj.remove(key);
                break;
            }
        }
        String level = null;
        for (String key : new String[] {"level", "severity", "log.level"}) {
            JsonNode l = obj.get(key);
            if (l != null && l.isValueNode()) {
                level = l.asText();
                obj.remove(key);
                break;
            }
        }
        return new Result(obj, text, level, null);
    }
}
