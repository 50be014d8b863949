package io.logferry.decode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.logferry.model.ProcessorChain;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a container's processors on one message: the message becomes Filebeat's event (a tree of
 * maps: {@code message}, {@code stream}, {@code log.level}, the decoded JSON fields), the chain
 * changes it, and what is left comes back as the message's text, level, flags and
 * {@link Message#fields()}. Stateless; called on the tailer's thread.
 *
 * <p>Decoded JSON fields come as {@link JsonMessage} placed them (the fields of JSON that is not
 * ECS whose names ECS or the agent use are under {@code json} already), and the processors see
 * them there.
 */
final class Processing {
    static final String DISSECT_FLAG = "dissect_parsing_error";

    private Processing() {
    }

    /** The message after the chain, or null when a processor dropped it ({@link #dropReason} tells why). */
    static Message apply(Message m, ProcessorChain chain, String[] dropReason) {
        Map<String, Object> ev = new LinkedHashMap<>();
        ev.put("message", m.text());
        ev.put("stream", m.stream());
        if (m.level() != null) {
            Map<String, Object> log = new LinkedHashMap<>();
            log.put("level", m.level());
            ev.put("log", log);
        }
        if (m.json() != null) {
            // JsonMessage has placed the fields already (ECS names of non-ECS JSON, and the agent's own, under json)
            for (Iterator<Map.Entry<String, JsonNode>> it = m.json().fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                put(ev, f.getKey(), value(f.getValue()));
            }
        }
        String reason = chain.apply(ev);
        if (reason != null) {
            dropReason[0] = reason;
            return null;
        }
        Object text = ev.remove("message");
        ev.remove("stream");
        String level = null;
        int flags = m.flags();
        if (ev.get("log") instanceof Map<?, ?> log) {
            if (log.get("level") instanceof String l) {
                level = l;
                log.remove("level");
            }
            Object f = log.remove("flags");
            if (f instanceof List<?> list && list.contains(DISSECT_FLAG) || DISSECT_FLAG.equals(f)) {
                flags |= Message.DISSECT_ERROR;
            }
            if (log.isEmpty()) {
                ev.remove("log");
            }
        }
        return new Message(m.stream(), m.time(), text == null ? null : text instanceof String s ? s : String.valueOf(text),
                m.start(), m.commit(), flags, null, level, m.errorMessage(), m.attrs(), null, ev);
    }

    /** A top-level JSON key, its dots as nesting ({@code "http.method"} is {@code http.method}) when that does not clash. */
    @SuppressWarnings("unchecked")
    private static void put(Map<String, Object> ev, String key, Object value) {
        if (key.indexOf('.') <= 0 || key.endsWith(".") || key.contains("..")) {
            ev.put(key, value);
            return;
        }
        String[] parts = key.split("\\.");
        Map<String, Object> at = ev;
        for (int i = 0; i < parts.length - 1; i++) {
            Object next = at.get(parts[i]);
            if (next == null) {
                next = new LinkedHashMap<String, Object>();
                at.put(parts[i], next);
            } else if (!(next instanceof Map<?, ?>)) {
                ev.put(key, value);
                return;
            }
            at = (Map<String, Object>) next;
        }
        if (at.containsKey(parts[parts.length - 1])) {
            ev.put(key, value);
        } else {
            at.put(parts[parts.length - 1], value);
        }
    }

    /** A JSON value as the event's types: maps, lists, String, Long, Double, Boolean, null (big numbers as their text). */
    static Object value(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        if (n.isTextual()) {
            return n.textValue();
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        if (n.isIntegralNumber()) {
            return n.canConvertToLong() ? (Object) n.longValue() : n.asText();
        }
        if (n.isNumber()) {
            return n.doubleValue();
        }
        if (n.isArray()) {
            List<Object> l = new ArrayList<>(n.size());
            n.forEach(x -> l.add(value(x)));
            return l;
        }
        if (n instanceof ObjectNode o) {
            Map<String, Object> m = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                m.put(f.getKey(), value(f.getValue()));
            }
            return m;
        }
        return n.asText();
    }
}
