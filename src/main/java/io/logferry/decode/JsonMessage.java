package io.logferry.decode;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.logferry.model.Ecs;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Decodes a message that is a JSON object ({@code logferry.json=true}) and decides where its
 * fields go (docs/documents.md, "JSON decoding"). Two kinds:
 *
 * <ul>
 *   <li><b>ECS JSON</b>, what ECS-logging libraries write (logback-ecs-encoder, ecs-logging-python,
 *       pino's ECS format, ecszap, ...): the object carries {@code ecs.version}, or
 *       {@code @timestamp}, {@code log.level} and {@code message} (dotted or nested alike). Its
 *       {@code message} becomes the message, its {@code log.level} the level, and its other fields
 *       stay where ECS puts them; the document builder merges them into the document, the agent's
 *       own fields winning.</li>
 *   <li><b>Other JSON</b>: the text field ({@code message_key}, else {@code message}, else
 *       {@code msg}) becomes the message, {@code level}, {@code severity} or {@code log.level} the
 *       level. With the default target (empty) a field stays at the document root unless its first
 *       name part is an ECS name or one the agent writes ({@link Ecs#taken}): those go under
 *       {@code json}, so that a string {@code service}, {@code user} or {@code http} never lands on
 *       an ECS object with another meaning. With a target ({@code defaults.json_target}), all of
 *       them go under that one field.</li>
 * </ul>
 *
 * <p>The detection is a few hash lookups on the parsed object. A message that is not a JSON object
 * stays text, with an error. Stateless; thread-safe.
 */
public final class JsonMessage {
    /** Text after the object ({@code {"a":1} and more}) makes the message not JSON, rather than being dropped. */
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /** Where the fields of other JSON go that would land on an ECS or agent name. */
    public static final String CLASHES = "json";

    /**
     * @param fields the fields for the document (without the text and the level), or null when not JSON
     * @param ecs    true when the message is ECS JSON: its fields are in ECS places
     */
    public record Result(ObjectNode fields, String text, String level, String error, boolean ecs) {
        public Result(ObjectNode fields, String text, String level, String error) {
            this(fields, text, level, error, false);
        }
    }

    private JsonMessage() { }

    /** With the default target. */
    public static Result decode(String raw, String messageKey) {
        return decode(raw, messageKey, "");
    }

    /**
     * @param target where other (non-ECS) JSON's fields go: empty for the document root (ECS and
     *               agent names under {@code json}), else the name of one field that holds them all
     */
    public static Result decode(String raw, String messageKey, String target) {
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
        if (isEcs(obj)) {
            return ecs(obj, raw);
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
        return new Result(place(obj, target), text, level, null, false);
    }

    /**
     * ECS JSON: {@code ecs.version}, or {@code @timestamp} + {@code log.level} + {@code message},
     * each dotted ({@code "log.level"}) or nested ({@code "log":{"level":..}}).
     */
    static boolean isEcs(ObjectNode o) {
        if (o.has("ecs.version") || o.path("ecs").has("version")) {
            return true;
        }
        return o.has("@timestamp") && o.has("message") && (o.has("log.level") || o.path("log").has("level"));
    }

    private static Result ecs(ObjectNode obj, String raw) {
        String text = raw;
        JsonNode t = obj.get("message");
        if (t != null && t.isValueNode()) {
            text = t.asText();
            obj.remove("message");
        }
        String level = null;
        JsonNode l = obj.get("log.level");
        if (l != null && l.isValueNode()) {
            level = l.asText();
            obj.remove("log.level");
        } else if (obj.get("log") instanceof ObjectNode log && log.get("level") != null && log.get("level").isValueNode()) {
            level = log.get("level").asText();
            log.remove("level");
            if (log.isEmpty()) {
                obj.remove("log");
            }
        }
        return new Result(obj, text, level, null, true);
    }

    /** Other JSON's fields where {@code target} says (see the class comment). */
    private static ObjectNode place(ObjectNode obj, String target) {
        if (!target.isEmpty()) {
            ObjectNode wrapped = MAPPER.createObjectNode();
            if (!obj.isEmpty()) {
                wrapped.set(target, obj);
            }
            return wrapped;
        }
        List<String> moved = null;
        for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
            String key = it.next().getKey();
            if (Ecs.taken(key)) {
                if (moved == null) {
                    moved = new ArrayList<>(4);
                }
                moved.add(key);
            }
        }
        if (moved != null) {
            ObjectNode clashes = MAPPER.createObjectNode();
            for (String key : moved) {
                clashes.set(key, obj.remove(key));
            }
            obj.set(CLASHES, clashes);
        }
        return obj;
    }
}
