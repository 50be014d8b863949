package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.logferry.config.Config;
import io.logferry.decode.Encoder;
import io.logferry.decode.Message;
import io.logferry.model.AckTracker;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerLabels;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.model.LogEvent;
import io.logferry.model.Utf8;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Builds the bulk lines of one container's documents (DESIGN.md, "The document"). Everything
 * that is the same for every line of the container is serialised once, at construction; per line
 * only the timestamp, message, stream, offset and flags are written.
 *
 * <p>The {@code _id} is derived from the container id, the file's fingerprint and the entry's
 * byte offset, so that a replay produces the same ids and {@code op_type: create} refuses the
 * copies with 409.
 */
public final class DocumentBuilder implements Encoder {
    /** Top-level fields of the document that decoded JSON never overwrites; such keys go under {@code json}. */
    static final Set<String> RESERVED = Set.of("@timestamp", "message", "stream", "log", "container", "docker", "host",
            "agent", "data_stream", "event", "error", "labels", "json", "ecs");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final String containerId;
    private final String index;
    /** {@code ,"pipeline":"<name>"} for the create line, serialised once; null without an ingest pipeline. */
    private final byte[] pipeline;
    private final byte[] constantTail;
    /** {@code ,"file":{"path":"..."}} inside {@code log}, serialised once; null without a file. */
    private final byte[] filePath;
    private final JsonOut out = new JsonOut(4096);
    private final byte[] idBytes = new byte[16];
    private String idFile;
    /** Where the last {@link #writeHead} put the {@code _id}'s characters and the document line: what {@link #encode} hands the event. */
    private int idStart;
    private int idEnd;
    private int docStart;

    public record AgentInfo(String version, String id, String hostName) { }

    /** With {@link Config.Limits#defaults()} for the container's labels (tests, benchmarks). */
    public DocumentBuilder(ContainerInfo c, ContainerSettings s, AgentInfo agent, String logPath) {
        this(c, s, agent, logPath, Config.Limits.defaults());
    }

    /**
     * @param limits {@code container_labels_max_count} and {@code container_labels_max_bytes} bound
     *               the {@code container.labels.*} placed in every document ({@link ContainerLabels})
     */
    public DocumentBuilder(ContainerInfo c, ContainerSettings s, AgentInfo agent, String logPath, Config.Limits limits) {
        this.containerId = c.id();
        this.index = s.dataStream();
        this.pipeline = s.pipeline() == null ? null : new JsonOut(64).ascii(",\"pipeline\":").string(s.pipeline()).toBytes();
        this.filePath = logPath == null ? null
                : new JsonOut(256).ascii(",\"file\":{\"path\":").string(logPath).raw('}').toBytes();
        JsonOut t = new JsonOut(1024);
        t.raw(',').key("container").raw('{')
                .key("id").string(c.id()).raw(',')
                .key("name").string(c.name()).raw(',')
                .key("image").raw('{').key("name").string(c.imageName()).raw('}').raw(',')
                .key("runtime").string("docker");
        Map<String, String> labels = ContainerLabels.cap(c.labels(), limits.containerLabelsMaxCount(),
                limits.containerLabelsMaxBytes()).kept();
        if (!labels.isEmpty()) {
            t.raw(',').key("labels").raw('{');
            boolean first = true;
            for (Map.Entry<String, String> l : labels.entrySet()) {
                if (!first) {
                    t.raw(',');
                }
                first = false;
                t.key(l.getKey()).string(l.getValue());
            }
            t.raw('}');
        }
        t.raw('}');
        String project = compose(c, "com.docker.compose.project");
        String service = compose(c, "com.docker.compose.service");
        if (project != null || service != null) {
            t.raw(',').key("docker").raw('{').key("compose").raw('{');
            if (project != null) {
                t.key("project").string(project);
            }
            if (service != null) {
                (project != null ? t.raw(',') : t).key("service").string(service);
            }
            t.raw('}').raw('}');
        }
        t.raw(',').key("host").raw('{').key("name").string(agent.hostName()).raw('}');
        t.raw(',').key("agent").raw('{').key("type").string("logferry").raw(',')
                .key("version").string(agent.version()).raw(',').key("id").string(agent.id()).raw('}');
        t.raw(',').key("data_stream").raw('{').key("type").string("logs").raw(',')
                .key("dataset").string(s.dataset()).raw(',').key("namespace").string(s.namespace()).raw('}');
        t.raw(',').key("event").raw('{').key("dataset").string(s.dataset()).raw('}');
        if (!s.fields().isEmpty()) {
            t.raw(',').key("labels").raw('{');
            boolean first = true;
            for (Map.Entry<String, String> f : new TreeMap<>(s.fields()).entrySet()) {
                if (!first) {
                    t.raw(',');
                }
                first = false;
                t.key(f.getKey()).string(f.getValue());
            }
            t.raw('}');
        }
        t.raw('}').raw('\n');
        this.constantTail = t.toBytes();
    }

    private static String compose(ContainerInfo c, String key) {
        String v = c.labels().get(key);
        return v == null ? null : Utf8.truncate(v, ContainerLabels.MAX_VALUE_BYTES);
    }

    public String index() {
        return index;
    }

    /** The bulk lines for one message; {@code documentStart[0]} receives where the document line begins. */
    public byte[] build(Message m, int[] documentStart) {
        writeHead(m);
        documentStart[0] = docStart;
        out.raw(constantTail);
        return out.toBytes();
    }

    /** {@link #build} without its last bytes, the {@link #tail()}: what a {@link LogEvent} holds of its own. */
    public byte[] buildHead(Message m, int[] documentStart) {
        writeHead(m);
        documentStart[0] = docStart;
        return out.toBytes();
    }

    /** The event of {@code m}: its head, the container's shared tail, its target index and where its {@code _id} is. */
    @Override
    public LogEvent encode(Message m, AckTracker tracker) {
        writeHead(m);
        return new LogEvent(tracker, out.toBytes(), constantTail, docStart, m.commit(), index, idStart, idEnd);
    }

    /** The end of every document line of this container, serialised once, with its newline. */
    public byte[] tail() {
        return constantTail;
    }

    private void writeHead(Message m) {
        JsonOut o = out;
        o.reset();
        o.ascii("{\"create\":{\"_index\":").string(index);
        if (pipeline != null) {
            o.raw(pipeline);
        }
        o.ascii(",\"_id\":\"");
        idStart = o.length();
        writeId(o, m.start());
        idEnd = o.length();
        o.ascii("\"}}\n");
        docStart = o.length();
        o.ascii("{\"@timestamp\":").string(m.time());
        if (m.escapedText() != null) {
            o.ascii(",\"message\":").raw('"').raw(m.escapedText()).raw('"');
        } else if (m.text() != null) {          // null: a processor removed it
            o.ascii(",\"message\":").string(m.text());
        }
        o.ascii(",\"stream\":").string(m.stream())
                .ascii(",\"log\":{\"offset\":").number(m.start().offset());
        if (filePath != null) {
            o.raw(filePath);
        }
        if (m.level() != null) {
            o.ascii(",\"level\":").string(m.level());
        }
        if (m.flags() != 0) {
            o.ascii(",\"flags\":[");
            boolean first = true;
            for (int bit : new int[] {Message.MULTILINE, Message.TRUNCATED, Message.PARTIAL, Message.DISSECT_ERROR}) {
                if ((m.flags() & bit) != 0) {
                    o.ascii(first ? "" : ",").ascii(bit == Message.MULTILINE ? "\"multiline\"" : bit == Message.TRUNCATED ? "\"truncated\""
                            : bit == Message.PARTIAL ? "\"partial\"" : "\"dissect_parsing_error\"");
                    first = false;
                }
            }
            o.raw(']');
        }
        o.raw('}');
        if (m.errorMessage() != null) {
            o.ascii(",\"error\":{\"type\":\"json\",\"message\":").string(m.errorMessage()).raw('}');
        }
        if (m.json() != null && !m.json().isEmpty()) {
            writeJsonFields(o, m.json());
        }
        if (m.fields() != null) {
            ProcessedFields.write(o, m.fields());      // what the container's processors left
        }
        if (!m.attrs().isEmpty()) {
            // --log-opt labels=/env= values Docker records with each entry
            // a dotted key: "docker" may also be in the constant part, and JSON keys must be unique
            o.ascii(",\"docker.attrs\":{");
            boolean first = true;
            for (Map.Entry<String, String> a : new TreeMap<>(m.attrs()).entrySet()) {
                if (!first) {
                    o.raw(',');
                }
                first = false;
                o.key(a.getKey().replace('.', '_')).string(a.getValue());
            }
            o.raw('}');
        }
    }

    private static void writeJsonFields(JsonOut o, ObjectNode fields) {
        ObjectNode clashes = null;
        try {
            for (Iterator<Map.Entry<String, JsonNode>> it = fields.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                String key = f.getKey();
                int dot = key.indexOf('.');
                if (RESERVED.contains(dot < 0 ? key : key.substring(0, dot))) {
                    if (clashes == null) {
                        clashes = MAPPER.createObjectNode();
                    }
                    clashes.set(f.getKey(), f.getValue());
                    continue;
                }
                o.raw(',').key(f.getKey()).raw(MAPPER.writeValueAsBytes(f.getValue()));
            }
            if (clashes != null) {
                o.raw(',').key("json").raw(MAPPER.writeValueAsBytes(clashes));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * 22 characters, URL-safe base64 of 128 bits: the first 64 bits of SHA-256(container id + "/" +
     * file fingerprint), then the offset as a big-endian 64-bit number. Distinct for every
     * (container, file, offset); the ids of one file share their first 11 characters and increase
     * with the offset, which keeps Elasticsearch's {@code _id} lookups (every {@code create} is one)
     * local instead of random.
     */
    String id(Cursor start) {
        JsonOut o = new JsonOut(32);
        writeId(o, start);
        return o.toString();
    }

    private void writeId(JsonOut o, Cursor start) {
        byte[] b = idBytes;
        if (!start.fileId().equals(idFile)) {
            System.arraycopy(sha256(containerId + "/" + start.fileId()), 0, b, 0, 8);
            idFile = start.fileId();
        }
        long off = start.offset();
        for (int i = 15; i >= 8; i--) {
            b[i] = (byte) off;
            off >>>= 8;
        }
        o.base64Url(b);
    }

    public static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
