package io.logferry.elasticsearch;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.logferry.model.LogEvent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * The second chance of a document Elasticsearch refused for a mapping conflict (another
 * container's JSON made {@code status} an object, this one's is a number, or the reverse): the
 * same document with everything its content put there moved under {@value #FIELD}, a
 * {@code flattened} field in the index template, which takes any shape, so no other document's
 * types can refuse it. What the agent wrote stays where it was and as it was: the action line
 * ({@code _id}, index, pipeline), {@code @timestamp}, {@code message}, {@code stream},
 * {@code log.offset}, {@code log.file.path}, {@code log.level}, {@code log.flags} (with
 * {@value #FLAG} added), {@code docker.api.position}, {@code docker.attrs}, the JSON decoding
 * error, and the container's constant part ({@code container.*}, {@code host.*},
 * {@code agent.*}, {@code data_stream.*}, {@code event.dataset}, {@code ecs.version}, ...), which
 * is the event's {@link LogEvent#tail()} and is copied byte for byte.
 *
 * <p>Built from the event's serialised bytes, only when Elasticsearch refused it; a document that
 * cannot be rebuilt (nested deeper than {@value #MAX_DEPTH} levels, not JSON) has no second chance
 * and is dead-lettered as before. Stateless; thread-safe.
 */
final class Retype {
    /** The {@code flattened} field of the index template that takes the moved fields. */
    static final String FIELD = "logferry.flattened";
    /** Added to {@code log.flags} of a document whose fields were moved. */
    static final String FLAG = "mapping_conflict";
    /** Deeper documents are not rebuilt (they are dead-lettered); the flattened field's own depth_limit is 20 as well. */
    static final int MAX_DEPTH = 64;
    private static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build()).build())
            .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .build();
    /** What the agent writes at the root of a document's own part, and keeps at its place. */
    private static final Set<String> AGENT_ROOT = Set.of("@timestamp", "message", "stream", "docker.api", "docker.attrs");
    /** ... and in its {@code log} object. */
    private static final Set<String> AGENT_LOG = Set.of("offset", "file", "level", "flags");
    /** The container's constant part, when an event has no separate tail (tests). */
    private static final Set<String> CONSTANT_ROOT = Set.of("container", "docker", "service", "host", "agent", "data_stream",
            "event", "ecs", "labels");

    private Retype() { }

    /**
     * The bulk lines (action and document, each with its newline) of {@code e} with its content's
     * fields under {@value #FIELD}; null when the document cannot be rebuilt, or has nothing to move.
     */
    static byte[] document(LogEvent e) {
        byte[] head = e.head();
        int start = e.documentStart();
        byte[] tail = e.tail();
        ObjectNode own;
        try {
            String json = tail == null
                    ? new String(head, start, head.length - start, StandardCharsets.UTF_8)
                    // the head's part of the document line ends where the tail's first member begins
                    : new String(head, start, head.length - start, StandardCharsets.UTF_8) + "}";
            JsonNode n = MAPPER.readTree(json);
            if (!(n instanceof ObjectNode o)) {
                return null;
            }
            own = o;
        } catch (IOException | RuntimeException ex) {
            return null;
        }
        ObjectNode kept = MAPPER.createObjectNode();
        ObjectNode moved = MAPPER.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = own.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String key = f.getKey();
            JsonNode v = f.getValue();
            if (AGENT_ROOT.contains(key) || (tail == null && CONSTANT_ROOT.contains(key))) {
                kept.set(key, v);
            } else if (key.equals("log") && v instanceof ObjectNode log) {
                ObjectNode keptLog = kept.putObject("log");
                for (Iterator<Map.Entry<String, JsonNode>> l = log.fields(); l.hasNext(); ) {
                    Map.Entry<String, JsonNode> lf = l.next();
                    if (AGENT_LOG.contains(lf.getKey())) {
                        keptLog.set(lf.getKey(), lf.getValue());
                    } else {
                        moved.set("log." + lf.getKey(), lf.getValue());
                    }
                }
            } else if (key.equals("error") && agentsError(v)) {
                kept.set(key, v);
            } else {
                moved.set(key, v);
            }
        }
        if (moved.isEmpty()) {
            return null;
        }
        ObjectNode log = kept.get("log") instanceof ObjectNode l ? l : kept.putObject("log");
        ArrayNode flags = log.get("flags") instanceof ArrayNode a ? a : log.putArray("flags");
        flags.add(FLAG);
        kept.putObject("logferry").set("flattened", moved);
        byte[] doc;
        try {
            doc = MAPPER.writeValueAsBytes(kept);
        } catch (IOException | RuntimeException ex) {
            return null;
        }
        // the action line as it was; the document without its closing brace when the tail closes it
        int docLength = tail == null ? doc.length : doc.length - 1;
        int tailLength = tail == null ? 1 : tail.length;
        byte[] out = new byte[start + docLength + tailLength];
        System.arraycopy(head, 0, out, 0, start);
        System.arraycopy(doc, 0, out, start, docLength);
        if (tail == null) {
            out[out.length - 1] = '\n';
        } else {
            System.arraycopy(tail, 0, out, start + docLength, tail.length);
        }
        return out;
    }

    /** The JSON decoding error the agent writes ({@code error.type: json} and its message), not an application's error object. */
    private static boolean agentsError(JsonNode v) {
        return v instanceof ObjectNode o && o.size() == 2 && "json".equals(o.path("type").asText(null)) && o.path("message").isTextual();
    }
}
