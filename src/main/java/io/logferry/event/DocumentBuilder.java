package io.logferry.event;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.logferry.decode.Message;
import io.logferry.selection.ContainerSettings;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
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
public final class DocumentBuilder {
    /** Top-level fields of the document that decoded JSON never overwrites; such keys go under {@code json}. */
    static final Set<String> RESERVED = Set.of("@timestamp", "message", "stream", "log", "container", "docker", "host",
            "agent", "data_stream", "event", "error", "labels", "json", "ecs");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final String containerId;
    private final String index;
    private final byte[] constantTail;
    private final String path;
    private final JsonOut out = new JsonOut(4096);
    private String idFile;
    private long idHigh;
    private long idLow;

    public record AgentInfo(String version, String id, String hostName) { }

    public DocumentBuilder(ContainerInfo c, ContainerSettings s, AgentInfo agent, String logPath) {
        this.containerId = c.id();
        this.index = s.dataStream();
        this.path = logPath;
        JsonOut t = new JsonOut(1024);
        t.raw(',').key("container").raw('{')
                .key("id").string(c.id()).raw(',')
                .key("name").string(c.name()).raw(',')
                .key("image").raw('{').key("name").string(c.imageName()).raw('}').raw(',')
                .key("runtime").string("docker");
        if (!c.labels().isEmpty()) {
            t.raw(',').key("labels").raw('{');
            boolean first = true;
            for (Map.Entry<String, String> l : new TreeMap<>(c.labels()).entrySet()) {
                if (!first) {
                    t.raw(',');
                }
                first = false;
                t.key(l.getKey().replace('.', '_')).string(l.getValue());
            }
            t.raw('}');
        }
        t.raw('}');
        String project = c.labels().get("com.docker.compose.project");
        String service = c.labels().get("com.docker.compose.service");
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

    public String index() {
        return index;
    }

    /** The bulk lines for one message; {@code documentStart[0]} receives where the document line begins. */
    public byte[] build(Message m, int[] documentStart) {
        JsonOut o = out;
        o.reset();
        o.ascii("{\"create\":{\"_index\":").string(index).ascii(",\"_id\":\"").ascii(id(m.start())).ascii("\"}}\n");
        documentStart[0] = o.length();
        o.ascii("{\"@timestamp\":").string(m.time())
                .ascii(",\"message\":").string(m.text())
                .ascii(",\"stream\":").string(m.stream())
                .ascii(",\"log\":{\"offset\":").number(m.start().offset());
        if (path != null) {
            o.ascii(",\"file\":{\"path\":").string(path).raw('}');
        }
        if (m.level() != null) {
            o.ascii(",\"level\":").string(m.level());
        }
        if (m.flags() != 0) {
            o.ascii(",\"flags\":[");
            boolean first = true;
            for (int bit : new int[] {Message.MULTILINE, Message.TRUNCATED, Message.PARTIAL}) {
                if ((m.flags() & bit) != 0) {
                    o.ascii(first ? "" : ",").ascii(bit == Message.MULTILINE ? "\"multiline\"" : bit == Message.TRUNCATED ? "\"truncated\"" : "\"partial\"");
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
        o.raw(constantTail);
        return o.toBytes();
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

    /** 22 characters, URL-safe base64 of 128 bits: distinct for every (container, file, offset). */
    String id(Cursor start) {
        if (!start.fileId().equals(idFile)) {
            byte[] h = sha256(containerId + "/" + start.fileId());
            ByteBuffer bb = ByteBuffer.wrap(h);
            idHigh = bb.getLong();
            idLow = bb.getLong();
            idFile = start.fileId();
        }
        long off = start.offset();
        ByteBuffer b = ByteBuffer.allocate(16);
        b.putLong(mix(idHigh ^ (off * 0x9E3779B97F4A7C15L)));
        b.putLong(mix(idLow + off * 0xC2B2AE3D27D4EB4FL));
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
    }

    /** The splitmix64 finaliser: a bijection, so distinct inputs give distinct outputs. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
