package io.logferry.elasticsearch;

import io.logferry.config.Config;
import io.logferry.decode.Encoder;
import io.logferry.decode.Failure;
import io.logferry.decode.Message;
import io.logferry.model.AckTracker;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerLabels;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.model.Ecs;
import io.logferry.model.FieldTree;
import io.logferry.model.LogEvent;
import io.logferry.model.Utf8;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Builds the bulk lines of one container's documents (DESIGN.md, "The document"; every field with
 * its ECS type in docs/documents.md). Everything that is the same for every line of the container
 * ({@code container}, {@code service}, {@code host}, {@code agent}, {@code data_stream},
 * {@code event.dataset}, {@code ecs.version}, {@code labels}) is serialised once, at construction;
 * per line only the timestamp, message, stream, position, flags and decoded JSON are written.
 *
 * <p>Content fields (decoded JSON as {@link io.logferry.decode.JsonMessage} built its
 * {@link FieldTree}, or the event the container's processors left, put through a new one here)
 * are written by {@link ContentFields}: the agent's own fields win, whatever form the content took;
 * a field the document has already ({@code container.*}, {@code log.offset}, {@code event.dataset},
 * {@code service.name} when the container has one...) goes under {@code json} instead; an
 * application's {@code ecs.version} is dropped (the document's states the version of its fields).
 *
 * <p>The {@code _id} is derived from the container id, the file's fingerprint and the entry's
 * byte offset, so that a replay produces the same ids and {@code op_type: create} refuses the
 * copies with 409.
 *
 * <p>Not thread-safe: one builder per container, used by its tailer's thread.
 */
public final class DocumentBuilder implements Encoder {
    /** The message flags in the order {@code log.flags} lists them. */
    private static final int[] FLAG_BITS = {Message.MULTILINE, Message.TRUNCATED, Message.PARTIAL, Message.DISSECT_ERROR};
    /** A new value for every start of the agent: {@code agent.ephemeral_id}. */
    static final String EPHEMERAL_ID = UUID.randomUUID().toString();
    private static final String DISSECT_FLAG = "\"" + io.logferry.model.ProcessorChain.DISSECT_PARSING_ERROR + "\"";

    private final String containerId;
    private final String index;
    /** The index and tail of stderr's lines: the same as stdout's unless a module sends them to another dataset. */
    private final String stderrIndex;
    private final byte[] stderrTail;
    /** {@code ,"pipeline":"<name>"} for the create line, serialised once; null without an ingest pipeline. */
    private final byte[] pipeline;
    private final byte[] constantTail;
    /** {@code ,"file":{"path":"..."}} inside {@code log}, serialised once; null without a file (API mode). */
    private final byte[] filePath;
    /** The container's {@code service.name}, or null. */
    private final String serviceName;
    /** {@code limits.field_*}: the tree a processed event is put through. */
    private final FieldTree.Limits fieldLimits;
    /** Where content fields go beside the agent's own. */
    private final ContentFields contentFields;
    private final JsonOut out = new JsonOut(4096);
    /** The dead letters of lines that could not become documents ({@link #deadLetter}). */
    private FailedLines failedLines = new FailedLines(DEFAULT_DEAD_LETTER);
    private final String logPath;
    private final byte[] idBytes = new byte[16];
    private String idFile;
    /** Where the last {@link #writeHead} put the {@code _id}'s characters and the document line: what {@link #encode} hands the event. */
    private int idStart;
    private int idEnd;
    private int docStart;

    /**
     * @param name         {@code agent.name}: the agent's name, the Docker host's name unless given
     * @param ephemeralId  {@code agent.ephemeral_id}: new at every start of the process
     */
    public record AgentInfo(String version, String id, String hostName, String name, String ephemeralId) {
        /** Named after the host, with this process's ephemeral id. */
        public AgentInfo(String version, String id, String hostName) {
            this(version, id, hostName, hostName, EPHEMERAL_ID);
        }
    }

    /** With {@link Config.Limits#defaults()} for the container's labels (tests, benchmarks). */
    public DocumentBuilder(ContainerInfo c, ContainerSettings s, AgentInfo agent, String logPath) {
        this(c, s, agent, logPath, Config.Limits.defaults());
    }

    /**
     * @param logPath the container's json-file log, or null in API mode (then the position goes to
     *                {@code docker.api.position}, not {@code log.offset}, which is for file offsets)
     * @param limits {@code container_labels_max_count} and {@code container_labels_max_bytes} bound
     *               the {@code container.labels.*} placed in every document ({@link ContainerLabels})
     */
    public DocumentBuilder(ContainerInfo c, ContainerSettings s, AgentInfo agent, String logPath, Config.Limits limits) {
        this.containerId = c.id();
        this.logPath = logPath;
        this.index = s.dataStream();
        this.pipeline = s.pipeline() == null ? null : new JsonOut(64).ascii(",\"pipeline\":").string(s.pipeline()).toBytes();
        this.filePath = logPath == null ? null
                : new JsonOut(256).ascii(",\"file\":{\"path\":").string(logPath).raw('}').toBytes();
        JsonOut t = new JsonOut(1024);
        t.raw(',').key("container").raw('{')
                .key("id").string(c.id()).raw(',')
                .key("name").string(c.name()).raw(',')
                .key("image").raw('{').key("name").string(c.imageName());
        String tag = imageTag(c.imageName());
        if (tag != null) {
            t.raw(',').key("tag").string(tag);
        }
        t.raw('}').raw(',').key("runtime").string("docker");
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
        String project = label(c, "com.docker.compose.project");
        String service = label(c, "com.docker.compose.service");
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
        String own = label(c, SERVICE_LABEL);
        this.serviceName = own != null && !own.isBlank() ? own : service;
        if (serviceName != null) {
            t.raw(',').key("service").raw('{').key("name").string(serviceName).raw('}');
        }
        t.raw(',').key("host").raw('{').key("name").string(agent.hostName()).raw('}');
        t.raw(',').key("agent").raw('{').key("type").string("logferry").raw(',')
                .key("name").string(agent.name()).raw(',')
                .key("version").string(agent.version()).raw(',').key("id").string(agent.id()).raw(',')
                .key("ephemeral_id").string(agent.ephemeralId()).raw('}');
        byte[] common = t.toBytes();
        this.fieldLimits = limits.fieldLimits();
        this.contentFields = new ContentFields(serviceName != null, Set.copyOf(s.fields().keySet()), fieldLimits, s.module() != null);
        this.constantTail = tail(common, s, s.dataset("stdout"));
        this.stderrIndex = s.dataStream("stderr");
        this.stderrTail = stderrIndex.equals(index) ? constantTail : tail(common, s, s.dataset("stderr"));
    }

    /** The end of every document line of the container's lines that go to {@code dataset}: {@code common}, then the dataset's fields. */
    private static byte[] tail(byte[] common, ContainerSettings s, String dataset) {
        JsonOut t = new JsonOut(common.length + 256);
        t.raw(common);
        t.raw(',').key("data_stream").raw('{').key("type").string("logs").raw(',')
                .key("dataset").string(dataset).raw(',').key("namespace").string(s.namespace()).raw('}');
        t.raw(',').key("event").raw('{').key("dataset").string(dataset);
        if (s.module() != null) {
            t.raw(',').key("module").string(s.module());
        }
        t.raw('}');
        t.raw(',').key("ecs").raw('{').key("version").string(Ecs.VERSION).raw('}');
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
        return t.toBytes();
    }

    /** {@code elasticsearch.dead_letter}'s default. */
    static final String DEFAULT_DEAD_LETTER = "logs-logferry.deadletter-default";

    /**
     * As {@link #DocumentBuilder(ContainerInfo, ContainerSettings, AgentInfo, String, Config.Limits)}, with the
     * dead-letter stream ({@code elasticsearch.dead_letter}) that {@link #deadLetter} writes to.
     */
    public DocumentBuilder(ContainerInfo c, ContainerSettings s, AgentInfo agent, String logPath, Config.Limits limits,
                           String deadLetterStream) {
        this(c, s, agent, logPath, limits);
        this.failedLines = new FailedLines(deadLetterStream);
    }

    /**
     * The dead letter of a line that could not become a document (see {@link FailedLines}): the
     * line's own {@code _id}, in the dead-letter stream, with the error and the text as read.
     */
    @Override
    public LogEvent deadLetter(Failure f, AckTracker tracker) {
        return failedLines.letter(f, tracker, id(f.start()), stderrTail != constantTail && "stderr".equals(f.stream()) ? stderrIndex : index,
                containerId, logPath);
    }

    /** The label that names the container's {@code service.name}, over the compose service. */
    public static final String SERVICE_LABEL = "logferry.service";

    /**
     * The tag of an image reference ({@code 1.27} of {@code nginx:1.27},
     * {@code registry:5000/team/app:v2}); null without one (an id, a digest, a name alone).
     */
    static String imageTag(String image) {
        if (image == null) {
            return null;
        }
        int at = image.indexOf('@');
        String ref = at < 0 ? image : image.substring(0, at);
        int colon = ref.lastIndexOf(':');
        if (colon < 0 || colon < ref.lastIndexOf('/') || colon == ref.length() - 1 || ref.startsWith("sha256:")) {
            return null;
        }
        return Utf8.truncate(ref.substring(colon + 1), ContainerLabels.MAX_VALUE_BYTES);
    }

    private static String label(ContainerInfo c, String key) {
        String v = c.labels().get(key);
        return v == null ? null : Utf8.truncate(v, ContainerLabels.MAX_VALUE_BYTES);
    }

    /** {@code limits.field_*} as this builder applies them. */
    public FieldTree.Limits fieldLimits() {
        return fieldLimits;
    }

    public String index() {
        return index;
    }

    /** The bulk lines for one message; {@code documentStart[0]} receives where the document line begins. */
    public byte[] build(Message m, int[] documentStart) {
        writeHead(m);
        documentStart[0] = docStart;
        out.raw(tail(m));
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
        boolean err = stderrTail != constantTail && "stderr".equals(m.stream());
        return new LogEvent(tracker, out.toBytes(), err ? stderrTail : constantTail, docStart, m.commit(), err ? stderrIndex : index,
                idStart, idEnd);
    }

    /** The tail of {@code m}'s document: its stream's. */
    private byte[] tail(Message m) {
        return stderrTail != constantTail && "stderr".equals(m.stream()) ? stderrTail : constantTail;
    }

    /** The end of every document line of this container, serialised once, with its newline. */
    public byte[] tail() {
        return constantTail;
    }

    private void writeHead(Message m) {
        JsonOut o = out;
        o.reset();
        o.ascii("{\"create\":{\"_index\":").string(stderrTail != constantTail && "stderr".equals(m.stream()) ? stderrIndex : index);
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
        o.ascii(",\"stream\":").string(m.stream());
        // the content: decoded JSON as JsonMessage built it, or what the processors left, through a new tree
        Map<String, Object> content = m.fields() != null ? FieldTree.of(m.fields(), fieldLimits).root()
                : m.json() != null && !m.json().isEmpty() ? m.json() : null;
        if (filePath != null) {
            o.ascii(",\"log\":{\"offset\":").number(m.start().offset()).raw(filePath);
        } else {
            // API mode: the position is a timestamp in nanoseconds, not a file offset
            o.ascii(",\"docker.api\":{\"position\":").number(m.start().offset()).raw('}');
        }
        // API mode: the log object is opened by its first member, if any
        boolean logOpen = filePath != null;
        if (m.level() != null) {
            o.ascii(logOpen ? ",\"level\":" : ",\"log\":{\"level\":").string(m.level());
            logOpen = true;
        }
        if (m.flags() != 0) {
            o.ascii(logOpen ? ",\"flags\":[" : ",\"log\":{\"flags\":[");
            logOpen = true;
            boolean first = true;
            for (int bit : FLAG_BITS) {
                if ((m.flags() & bit) != 0) {
                    o.ascii(first ? "" : ",").ascii(bit == Message.MULTILINE ? "\"multiline\"" : bit == Message.TRUNCATED ? "\"truncated\""
                            : bit == Message.PARTIAL ? "\"partial\"" : DISSECT_FLAG);
                    first = false;
                }
            }
            o.raw(']');
        }
        FieldTree clashes = null;
        if (content != null) {
            clashes = contentFields.clashes();
            logOpen = contentFields.writeLog(o, content, clashes, logOpen);
        }
        if (logOpen) {
            o.raw('}');
        }
        if (m.errorMessage() != null) {
            o.ascii(",\"error\":{\"type\":\"json\",\"message\":").string(m.errorMessage()).raw('}');
        }
        if (content != null) {
            contentFields.write(o, content, clashes, m.errorMessage() != null);
            ContentFields.writeJson(o, clashes);
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
