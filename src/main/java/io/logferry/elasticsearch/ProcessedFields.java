package io.logferry.elasticsearch;

import io.logferry.model.Ecs;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Writes the fields a container's processors left ({@code Message.fields()}) into its document.
 * A field of a top-level object the document writes in part ({@code log}, {@code event},
 * {@code error}, {@code labels}) goes in with a dotted name ({@code "log.logger":...}: Elasticsearch
 * merges it into that object) unless the document writes that field itself ({@link #OWN}); a
 * field on one of the document's other own objects ({@code container}, {@code data_stream},
 * {@code agent}, ...) and those fields go under {@code json}, as clashing decoded JSON does. Every
 * other field goes in as it is. So a processor can add {@code log.level} or {@code http.*}, never
 * change the document's identity or its data stream. Stateless.
 */
final class ProcessedFields {
    /** Objects the document writes only part of: a processor may add fields to them. */
    private static final Set<String> SHARED = Set.of("log", "event", "error", "labels");
    /** The fields of {@link #SHARED} objects the document writes itself. */
    private static final Set<String> OWN = Set.of("log.offset", "log.file", "log.level", "log.flags", "event.dataset",
            "error.type", "error.message", "service.name");

    /**
     * Top-level names whose non-object values go under {@code json}: what the agent alone writes
     * ({@link Ecs#AGENT_OWNED}) and the shared objects. {@code service} is shared too where the
     * document has a {@code service.name} of its own (a compose service, {@code logferry.service}).
     */
    private static final Set<String> RESERVED;

    static {
        Set<String> r = new java.util.HashSet<>(Ecs.AGENT_OWNED);
        r.addAll(SHARED);
        RESERVED = Set.copyOf(r);
    }

    private ProcessedFields() {
    }

    /** @param service whether the document writes {@code service.name} itself */
    static void write(JsonOut o, Map<String, Object> fields, boolean service) {
        Map<String, Object> clashes = new LinkedHashMap<>();
        for (Map.Entry<String, Object> f : fields.entrySet()) {
            String key = f.getKey();
            if (key.equals("json") && f.getValue() instanceof Map<?, ?> m) {
                m.forEach((k, v) -> clashes.put(String.valueOf(k), v));
            } else if ((SHARED.contains(key) || service && key.equals("service")) && f.getValue() instanceof Map<?, ?> m) {
                dotted(o, key, m, clashes);
            } else if (RESERVED.contains(key) || service && key.equals("service")) {
                clashes.put(key, f.getValue());
            } else {
                o.raw(',').key(key).value(f.getValue());
            }
        }
        if (!clashes.isEmpty()) {
            o.raw(',').key("json").value(clashes);
        }
    }

    private static void dotted(JsonOut o, String path, Map<?, ?> m, Map<String, Object> clashes) {
        for (Map.Entry<?, ?> e : m.entrySet()) {
            String p = path + "." + e.getKey();
            if (OWN.contains(p)) {
                clashes.put(p, e.getValue());
            } else if (e.getValue() instanceof Map<?, ?> inner && !inner.isEmpty()) {
                dotted(o, p, inner, clashes);
            } else {
                o.raw(',').key(p).value(e.getValue());
            }
        }
    }
}
