package io.logferry.decode;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.logferry.model.Ecs;
import io.logferry.model.FieldTree;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
 * <p>The parser's tokens go straight into a {@link FieldTree} (no intermediate node tree, no
 * recursion): dotted keys are nesting, the later of two clashing keys wins, and depth, key length
 * and the number of fields are bounded by {@code limits.field_*} as they are parsed. The detection
 * is a few hash lookups on the tree. A message that is not a JSON object stays text, with an
 * error. Stateless; thread-safe.
 */
public final class JsonMessage {
    /** Where the fields of other JSON go that would land on an ECS or agent name. */
    public static final String CLASHES = "json";

    /**
     * @param fields the fields for the document (without the text and the level), a {@link FieldTree}'s
     *               root, or null when not JSON
     * @param ecs    true when the message is ECS JSON: its fields are in ECS places
     */
    public record Result(Map<String, Object> fields, String text, String level, String error, boolean ecs, String time) {
        public Result(Map<String, Object> fields, String text, String level, String error) {
            this(fields, text, level, error, false, null);
        }

        public Result(Map<String, Object> fields, String text, String level, String error, boolean ecs) {
            this(fields, text, level, error, ecs, null);
        }
    }

    private JsonMessage() { }

    /** With the default target and field limits. */
    public static Result decode(String raw, String messageKey) {
        return decode(raw, messageKey, "");
    }

    /** With the default field limits. */
    public static Result decode(String raw, String messageKey, String target) {
        return decode(raw, messageKey, target, FieldTree.Limits.DEFAULTS);
    }

    /**
     * @param target where other (non-ECS) JSON's fields go: empty for the document root (ECS and
     *               agent names under {@code json}), else the name of one field that holds them all
     * @param limits {@code limits.field_*}
     */
    public static Result decode(String raw, String messageKey, String target, FieldTree.Limits limits) {
        return decode(raw, messageKey, target, limits, false);
    }

    /**
     * @param overwriteKeys Filebeat's {@code json.overwrite_keys}: the JSON's {@code @timestamp}, when its
     *                      fields go to the root (ECS JSON, or an empty {@code target}: Filebeat's
     *                      {@code keys_under_root}) and it is an RFC 3339 time, is taken out as
     *                      {@link Result#time()}: the document's time. Nothing else of the agent's.
     */
    public static Result decode(String raw, String messageKey, String target, FieldTree.Limits limits, boolean overwriteKeys) {
        String trimmed = raw.trim();
        if (!trimmed.startsWith("{")) {
            return new Result(null, raw, null, "the message is not a JSON object");
        }
        FieldTree tree;
        try {
            tree = FieldTree.parseJson(trimmed, limits);
        } catch (JsonProcessingException e) {
            return new Result(null, raw, null, "the message is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            return new Result(null, raw, null, "the message is not valid JSON: " + e.getMessage());
        }
        Map<String, Object> obj = tree.root();
        boolean ecs = isEcs(obj);
        String time = null;
        if (overwriteKeys && (ecs || target.isEmpty())) {
            time = time(obj.get("@timestamp"));
            if (time != null) {
                obj.remove("@timestamp");
            }
        }
        if (ecs) {
            Result r = ecs(obj, raw);
            return new Result(r.fields(), r.text(), r.level(), null, true, time);
        }
        String text = raw;
        for (String key : messageKey.isEmpty() ? new String[] {"message", "msg"} : new String[] {messageKey}) {
            Object t = FieldTree.get(obj, key);
            if (t != null && !(t instanceof Map<?, ?>) && !(t instanceof List<?>)) {
                text = String.valueOf(t);
                FieldTree.remove(obj, key);
                break;
            }
        }
        String level = null;
        for (String key : new String[] {"level", "severity", "log.level"}) {
            Object l = FieldTree.get(obj, key);
            if (l != null && !(l instanceof Map<?, ?>) && !(l instanceof List<?>)) {
                level = String.valueOf(l);
                FieldTree.remove(obj, key);
                break;
            }
        }
        return new Result(place(obj, target, limits), text, level, null, false, time);
    }

    /** An RFC 3339 time ({@link Ecs#timestamp}) as the document writes it; else null. */
    private static String time(Object v) {
        java.time.Instant at = Ecs.timestamp(v);
        return at == null ? null : at.toString();
    }

    /**
     * ECS JSON: {@code ecs.version}, or {@code @timestamp} + {@code log.level} + {@code message}
     * (dotted keys are nesting in the tree: both forms are one).
     */
    static boolean isEcs(Map<String, Object> o) {
        if (FieldTree.get(o, "ecs.version") != null || o.get("ecs") instanceof Map<?, ?> e && e.containsKey("version")) {
            return true;
        }
        return o.containsKey("@timestamp") && o.containsKey("message") && o.get("log") instanceof Map<?, ?> log
                && log.containsKey("level");
    }

    private static Result ecs(Map<String, Object> obj, String raw) {
        String text = raw;
        Object t = obj.get("message");
        if (t != null && !(t instanceof Map<?, ?>) && !(t instanceof List<?>)) {
            text = String.valueOf(t);
            obj.remove("message");
        }
        String level = null;
        Object l = FieldTree.get(obj, "log.level");
        if (l != null && !(l instanceof Map<?, ?>) && !(l instanceof List<?>)) {
            level = String.valueOf(l);
            FieldTree.remove(obj, "log.level");
        }
        return new Result(obj, text, level, null, true);
    }

    /** Other JSON's fields where {@code target} says (see the class comment), one level down re-bounded by the tree. */
    private static Map<String, Object> place(Map<String, Object> obj, String target, FieldTree.Limits limits) {
        if (!target.isEmpty()) {
            Map<String, Object> wrapped = new LinkedHashMap<>();
            if (!obj.isEmpty()) {
                FieldTree under = new FieldTree(limits, 2);
                for (Map.Entry<String, Object> e : obj.entrySet()) {
                    under.put(under.rootFrame(), e.getKey(), e.getValue());
                }
                wrapped.put(target, under.root());
            }
            return wrapped;
        }
        List<String> moved = null;
        for (String key : obj.keySet()) {
            if (Ecs.taken(key)) {
                if (moved == null) {
                    moved = new ArrayList<>(4);
                }
                moved.add(key);
            }
        }
        if (moved != null) {
            FieldTree clashes = new FieldTree(limits, 2);
            for (String key : moved) {
                clashes.put(clashes.rootFrame(), key, obj.remove(key));
            }
            obj.put(CLASHES, clashes.root());
        }
        return obj;
    }
}
