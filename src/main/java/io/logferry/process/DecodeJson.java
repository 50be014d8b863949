package io.logferry.process;

import io.logferry.model.FieldTree;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code decode_json_fields}: the JSON text in each of {@code fields} decoded into fields, with
 * Filebeat's options (https://www.elastic.co/guide/en/beats/filebeat/current/decode-json-fields.html):
 * {@code target} (absent: the decoded object replaces the text; {@code ""}: merged into the event's
 * root; a name: put there), {@code process_array}, {@code max_depth} (JSON texts inside the decoded
 * object decoded too, that many levels), {@code overwrite_keys} (at the root: existing keys
 * replaced, and an {@code @timestamp} that parses becomes the event's time), {@code add_error_key}
 * ({@code error.message} and {@code error.type: json} when a text does not decode),
 * {@code expand_keys} (dotted keys nest: always so, {@link FieldTree}'s rule).
 *
 * <p>The text is parsed by {@link FieldTree#parseJson}, the one bounded way content JSON becomes
 * fields ({@link FieldTree.Limits#DEFAULTS}; the document builder bounds the event again by the
 * container's {@code limits.field_*}). Nested decoding is a loop, at most {@value #MAX_DEPTH} levels
 * and {@value #MAX_NESTED} texts per field.
 */
record DecodeJson(List<String> fields, String target, boolean processArray, int maxDepth, boolean overwriteKeys,
                  boolean addErrorKey) implements Processor {
    static final int MAX_DEPTH = 10;
    static final int MAX_NESTED = 1000;

    DecodeJson {
        fields = List.copyOf(fields);
        fields.forEach(Fields::path);
        if (target != null && !target.isEmpty()) {
            Fields.path(target);
        }
    }

    static Processor compile(Map<String, String> o, Compiler.Bounds b) throws Compiler.Invalid {
        Compiler.known("decode_json_fields", o, Set.of("fields", "target", "process_array", "max_depth", "overwrite_keys",
                "add_error_key", "expand_keys", "document_id"));
        if (o.containsKey("document_id")) {
            throw new Compiler.Invalid("decode_json_fields.document_id is not supported: a document's _id is logferry's own (exactly once)");
        }
        List<String> fields = Compiler.list(o.get("fields"));
        if (fields.isEmpty()) {
            throw new Compiler.Invalid("decode_json_fields needs fields");
        }
        Compiler.count("decode_json_fields.fields", fields.size(), b);
        int depth = 1;
        if (o.containsKey("max_depth")) {
            String d = o.get("max_depth").trim();
            if (!Compiler.number(d) || Integer.parseInt(d) < 1 || Integer.parseInt(d) > MAX_DEPTH) {
                throw new Compiler.Invalid("decode_json_fields.max_depth '" + d + "' is not a whole number from 1 to " + MAX_DEPTH);
            }
            depth = Integer.parseInt(d);
        }
        Compiler.bool("decode_json_fields.expand_keys", o.get("expand_keys"), false);
        String target = o.get("target");
        return new DecodeJson(fields, target == null ? null : target.trim(),
                Compiler.bool("decode_json_fields.process_array", o.get("process_array"), false), depth,
                Compiler.bool("decode_json_fields.overwrite_keys", o.get("overwrite_keys"), false),
                Compiler.bool("decode_json_fields.add_error_key", o.get("add_error_key"), false));
    }

    @Override
    public Outcome run(Map<String, Object> event) {
        String error = null;
        for (String f : fields) {
            String[] path = Fields.path(f);
            if (!(Fields.get(event, path) instanceof String text)) {
                continue;       // absent, or not text: nothing to decode
            }
            Object decoded;
            try {
                decoded = decode(text);
            } catch (IllegalArgumentException e) {
                error = "decoding the JSON of field " + f + ": " + e.getMessage();
                continue;
            }
            if (decoded == null) {
                continue;       // an array without process_array: left as text
            }
            nested(decoded);
            if (target == null) {
                Fields.put(event, path, decoded, true);
            } else if (!target.isEmpty()) {
                Fields.put(event, Fields.path(target), decoded, true);
            } else if (decoded instanceof Map<?, ?> m) {
                String e = merge(event, m);
                error = e != null ? e : error;
            } else {
                error = "decoding the JSON of field " + f + ": an array cannot be merged into the root";
            }
        }
        if (error == null) {
            return Outcome.CONTINUE;
        }
        if (addErrorKey) {
            Map<String, Object> err = new LinkedHashMap<>();
            err.put("message", error);
            err.put("type", "json");
            Fields.put(event, new String[] {"error"}, err, true);
        }
        return Outcome.STOP;
    }

    /** A text's value: an object, an array (with {@code process_array}), or null for an array without. */
    private Object decode(String text) {
        String t = text.trim();
        if (t.startsWith("[") && !processArray) {
            return null;
        }
        Map<String, Object> root = FieldTree.parseJsonText(t, FieldTree.Limits.DEFAULTS, processArray).root();
        return t.startsWith("[") ? root.get(FieldTree.ARRAY) : root;
    }

    /** {@code max_depth} > 1: JSON texts inside the decoded value decoded in place, level by level, without recursion. */
    @SuppressWarnings("unchecked")
    private void nested(Object decoded) {
        ArrayDeque<Object> level = new ArrayDeque<>();
        level.add(decoded);
        int budget = MAX_NESTED;
        for (int d = 1; d < maxDepth && !level.isEmpty(); d++) {
            ArrayDeque<Object> next = new ArrayDeque<>();
            ArrayDeque<Object> walk = new ArrayDeque<>(level);
            while (!walk.isEmpty() && budget > 0) {
                Object at = walk.poll();
                if (at instanceof Map<?, ?> m) {
                    for (Map.Entry<String, Object> e : ((Map<String, Object>) m).entrySet()) {
                        Object v = e.getValue();
                        if (v instanceof String s && looksLikeJson(s) && budget-- > 0) {
                            Object x = tryDecode(s);
                            if (x != null) {
                                e.setValue(x);
                                next.add(x);
                            }
                        } else if (v instanceof Map<?, ?> || v instanceof List<?> && processArray) {
                            walk.add(v);
                        }
                    }
                } else if (at instanceof List<?> l && processArray) {
                    List<Object> list = (List<Object>) l;
                    for (int i = 0; i < list.size(); i++) {
                        Object v = list.get(i);
                        if (v instanceof String s && looksLikeJson(s) && budget-- > 0) {
                            Object x = tryDecode(s);
                            if (x != null) {
                                list.set(i, x);
                                next.add(x);
                            }
                        } else if (v instanceof Map<?, ?> || v instanceof List<?>) {
                            walk.add(v);
                        }
                    }
                }
            }
            level = next;
        }
    }

    private static boolean looksLikeJson(String s) {
        String t = s.stripLeading();
        return t.startsWith("{") || t.startsWith("[");
    }

    private Object tryDecode(String s) {
        try {
            return decode(s);
        } catch (IllegalArgumentException e) {
            return null;        // not JSON: stays text, as in Filebeat
        }
    }

    /** Target {@code ""}: each key into the root; existing ones kept unless {@code overwrite_keys}. @return an error, or null */
    private String merge(Map<String, Object> event, Map<?, ?> m) {
        String error = null;
        for (Map.Entry<?, ?> e : m.entrySet()) {
            String k = String.valueOf(e.getKey());
            if (k.equals("@timestamp") && overwriteKeys) {
                Instant at = io.logferry.model.Ecs.timestamp(e.getValue());
                if (at == null) {
                    error = "@timestamp not overwritten (parse error on " + Chain.quote(String.valueOf(e.getValue())) + ")";
                } else {
                    event.put(k, at);
                }
                continue;
            }
            if (overwriteKeys || !event.containsKey(k)) {
                event.put(k, e.getValue());
            }
        }
        return error;
    }

    @Override
    public String describe() {
        return "decode_json_fields fields=" + fields + (target == null ? "" : " target=" + Chain.quote(target))
                + (processArray ? " process_array=true" : "") + (maxDepth != 1 ? " max_depth=" + maxDepth : "")
                + (overwriteKeys ? " overwrite_keys=true" : "") + (addErrorKey ? " add_error_key=true" : "");
    }
}
