package io.logferry.elasticsearch;

import io.logferry.decode.Failure;
import io.logferry.model.AckTracker;
import io.logferry.model.DataStream;
import io.logferry.model.Ecs;
import io.logferry.model.LogEvent;

import java.time.Instant;

/**
 * The dead letter of a line that could not become a document ({@link Failure}: something threw
 * in its decoding, processing or encoding, or it was in flight when the agent exited): a document
 * of the dead-letter stream with the line's own {@code _id} (a replay of the line finds it there,
 * 409), the container, the position, the index the document was meant for
 * ({@code document.index}), the error, and the text as read in {@code event.original} (its first
 * {@value DeadLetters#MAX_ORIGINAL} characters). It is written with plain string writes only:
 * nothing of the line's content is parsed or nested, so it cannot fail the way the line did.
 *
 * <p>Immutable; thread-safe.
 */
final class FailedLines {
    private final String stream;
    private final String dataset;
    private final String namespace;

    /** @param stream {@code elasticsearch.dead_letter} */
    FailedLines(String stream) {
        this.stream = stream;
        DataStream letters = DataStream.parse(stream).orElse(DataStream.logs("logferry.deadletter", "default"));
        this.dataset = letters.dataset();
        this.namespace = letters.namespace();
    }

    String stream() {
        return stream;
    }

    /**
     * @param id       the {@code _id} the line's document would have had
     * @param index    the data stream it was meant for
     * @param filePath the log file, or null (API mode)
     */
    LogEvent letter(Failure f, AckTracker tracker, String id, String index, String containerId, String filePath) {
        String raw = f.raw() == null ? "" : f.raw();
        if (raw.length() > DeadLetters.MAX_ORIGINAL) {
            raw = raw.substring(0, DeadLetters.MAX_ORIGINAL);
        }
        JsonOut o = new JsonOut(raw.length() + 768);
        o.ascii("{\"create\":{\"_index\":").string(stream).ascii(",\"_id\":");
        int idStart = o.length() + 1;            // the id is base64url: written as it is, after its quote
        o.string(id).ascii("}}\n");
        int docStart = o.length();
        o.ascii("{\"@timestamp\":").string(f.time() != null ? f.time() : Instant.now().toString())
                .ascii(",\"message\":").string(f.errorMessage());
        if (f.stream() != null) {
            o.ascii(",\"stream\":").string(f.stream());
        }
        o.ascii(",\"error\":{\"type\":").string(f.errorType()).ascii(",\"message\":").string(f.errorMessage())
                .ascii(",\"code\":").string(f.reason())
                .ascii("},\"container\":{\"id\":").string(containerId)
                .ascii("},\"document\":{\"index\":").string(index);
        if (filePath != null) {
            o.ascii("},\"log\":{\"offset\":").number(f.start().offset()).ascii(",\"file\":{\"path\":").string(filePath).raw('}');
        } else {
            o.ascii("},\"docker.api\":{\"position\":").number(f.start().offset());
        }
        o.ascii("},\"event\":{\"original\":").string(raw).ascii(",\"dataset\":").string(dataset)
                .ascii("},\"data_stream\":{\"type\":\"logs\",\"dataset\":").string(dataset)
                .ascii(",\"namespace\":").string(namespace).ascii("},\"ecs\":{\"version\":").string(Ecs.VERSION).ascii("}}\n");
        return new LogEvent(tracker, o.toBytes(), null, docStart, f.commit(), stream, idStart, idStart + id.length());
    }
}
