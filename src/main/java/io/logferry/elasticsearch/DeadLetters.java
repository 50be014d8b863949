package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.logferry.model.DataStream;
import io.logferry.model.Ecs;
import io.logferry.model.LogEvent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;

/**
 * Builds the dead-letter document that replaces a document Elasticsearch refused: the same
 * {@code _id} (so that a replay finds it there), the item's status ({@code error.code}: it is not
 * an HTTP exchange of the application's, so not {@code http.response.status_code}), the error
 * ({@code error.type}, {@code error.message}), the agent and host that shipped it ({@code agent.*},
 * {@code host.name}, copied from the refused document), {@code ecs.version}, the index it was meant for
 * ({@code document.index}) and the original document in {@code event.original} (its first
 * {@value #MAX_ORIGINAL} characters). The {@code _id} and the index are the event's own
 * ({@link LogEvent#id()}, {@link LogEvent#index()}), as the document builder set them.
 *
 * <p>Immutable; thread-safe.
 */
final class DeadLetters {
    static final int MAX_ORIGINAL = 32 * 1024;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final String stream;
    private final String dataset;
    private final String namespace;
    private final Clock clock;

    /** @param stream {@code elasticsearch.dead_letter}: {@code logs-<dataset>-<namespace>} */
    DeadLetters(String stream, Clock clock) {
        this.stream = stream;
        this.clock = clock;
        // the data_stream fields of a dead letter name the stream it goes to
        DataStream letters = DataStream.parse(stream).orElse(DataStream.logs("logferry.deadletter", "default"));
        this.dataset = letters.dataset();
        this.namespace = letters.namespace();
    }

    String stream() {
        return stream;
    }

    /** The bulk lines (action and document, each with its newline) of the dead letter of {@code e}. */
    byte[] letter(LogEvent e, int status, String type, String reason) {
        byte[] payload = e.payload();
        String original = new String(payload, e.documentStart(), payload.length - e.documentStart() - 1, StandardCharsets.UTF_8);
        String id = e.id();
        JsonOut o = new JsonOut(Math.min(original.length(), MAX_ORIGINAL) + 512);
        o.ascii("{\"create\":{\"_index\":").string(stream);
        if (id != null) {
            o.ascii(",\"_id\":").string(id);
        }
        o.ascii("}}\n{\"@timestamp\":").string(clock.instant().toString())
                .ascii(",\"message\":").string(reason == null ? "refused" : reason)
                .ascii(",\"error\":{\"type\":").string(String.valueOf(type)).ascii(",\"message\":").string(String.valueOf(reason))
                .ascii(",\"code\":").string(Integer.toString(status))
                .ascii("},\"container\":{\"id\":").string(e.tracker().containerId())
                .ascii("},\"document\":{\"index\":").string(String.valueOf(e.index()))
                .ascii("},\"event\":{\"original\":").string(original.length() > MAX_ORIGINAL ? original.substring(0, MAX_ORIGINAL) : original)
                .ascii(",\"dataset\":").string(dataset)
                .ascii("},\"data_stream\":{\"type\":\"logs\",\"dataset\":").string(dataset)
                .ascii(",\"namespace\":").string(namespace).ascii("},\"ecs\":{\"version\":").string(Ecs.VERSION).raw('}');
        byte[] tail = e.tail();
        // the container's constant part holds them, and is small: parse that rather than the whole document
        writeShipper(o, tail != null && tail.length > 1 && tail[0] == ','
                ? "{" + new String(tail, 1, tail.length - 1, StandardCharsets.UTF_8) : original);
        o.ascii("}\n");
        return o.toBytes();
    }

    /** {@code agent} and {@code host} of the refused document (the builder writes both in every document), when it parses. */
    private static void writeShipper(JsonOut o, String document) {
        JsonNode doc;
        try {
            doc = MAPPER.readTree(document);
        } catch (IOException | RuntimeException ex) {
            return;
        }
        for (String field : new String[] {"agent", "host"}) {
            JsonNode v = doc.path(field);
            if (v.isObject()) {
                try {
                    o.raw(',').key(field).raw(MAPPER.writeValueAsBytes(v));
                } catch (IOException ex) {
                    throw new UncheckedIOException(ex);
                }
            }
        }
    }
}
