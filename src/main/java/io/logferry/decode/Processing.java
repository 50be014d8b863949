package io.logferry.decode;

import io.logferry.model.ProcessorChain;

import java.time.Instant;
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
 * them there. What the processors leave may be any tree: the document builder puts it through a
 * new {@link io.logferry.model.FieldTree} (the limits and the clash rule) before it writes it.
 */
final class Processing {
    static final String DISSECT_FLAG = ProcessorChain.DISSECT_PARSING_ERROR;
    static final String TRUNCATED = "truncated";

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
            // JsonMessage has built and placed the fields already (a FieldTree: dots are nesting, bounded);
            // a JSON log object meets the level's: its fields join it, as the tree merges objects
            for (Map.Entry<String, Object> f : m.json().entrySet()) {
                if (ev.get(f.getKey()) instanceof Map<?, ?> here && f.getValue() instanceof Map<?, ?> there) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> h = (Map<String, Object>) here;
                    there.forEach((k, v) -> h.put(String.valueOf(k), v));
                } else {
                    ev.put(f.getKey(), f.getValue());
                }
            }
        }
        String reason = chain.apply(ev);
        if (reason != null) {
            dropReason[0] = reason;
            return null;
        }
        // the time a timestamp processor (or decode_json_fields' overwrite_keys) parsed: an Instant, which
        // only those write; anything else at @timestamp is content, and goes under json as before
        String time = m.time();
        if (ev.get("@timestamp") instanceof Instant at) {
            ev.remove("@timestamp");
            time = at.toString();
        }
        Object text = ev.remove("message");
        if (text instanceof Map<?, ?> || text instanceof List<?>) {
            ev.put("message", text);        // an object or array moved onto message: not text; the builder puts it under json
            text = null;
        }
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
            if (f instanceof List<?> list && list.contains(TRUNCATED) || TRUNCATED.equals(f)) {
                flags |= Message.TRUNCATED;         // truncate_fields, as Filebeat flags it
            }
            if (log.isEmpty()) {
                ev.remove("log");
            }
        }
        return new Message(m.stream(), time, text == null ? null : String.valueOf(text),
                m.start(), m.commit(), flags, null, level, m.errorMessage(), m.attrs(), null, ev);
    }
}
