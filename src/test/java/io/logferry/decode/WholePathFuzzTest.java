package io.logferry.decode;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import io.logferry.config.Config;
import io.logferry.config.ConfigLoader;
import io.logferry.elasticsearch.DocumentBuilder;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.model.FieldTree;
import io.logferry.model.Utf8;
import io.logferry.selection.Selector;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Hostile content through the whole path a line takes (issue 23): random label sets (JSON on or
 * off, a message key, a target, processors that name the agent's fields: dissect with indirect
 * keys, add_fields, rename, drop_fields, add_tags, drop_event) times random lines (deep and dotted
 * keys, 20,000-dot and 300 KB keys, the names of the agent's fields in every form, control
 * characters, invalid UTF-8, numbers at the edges) as json-file lines through
 * {@link DockerJsonDecoder}, {@link JsonMessage}, {@link Processing} and {@link DocumentBuilder};
 * each document parsed back with Jackson (duplicate keys refused). For every case: no exception
 * escapes; every field the agent owns (its identity, the data stream, the position, the time, the
 * stream) is exactly what the agent set, read the way Elasticsearch reads it (dotted keys are
 * paths); the nesting and every key stay within {@code limits.field_*}.
 *
 * <p>Seeded: {@code -Dfuzz.seed=} (default fixed), {@code -Dfuzz.cases=} (default 200,000); prints
 * the seed and the counts; a failure names the seed, the case, the labels and the line.
 */
class WholePathFuzzTest {
    private static final long DEFAULT_SEED = 2323L;
    private static final int LINES_PER_LABEL_SET = 100;
    private static final String TIME = "2026-12-07T10:00:00.123456789Z";
    private static final JsonFactory STRICT = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(10_000).maxNameLength(1 << 22).build())
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /** The agent's own fields by their paths: what content may never set. */
    private static final List<String> OWNED = List.of("container", "host", "agent", "data_stream", "event.dataset", "ecs",
            "log.file", "log.offset", "@timestamp", "stream", "docker");

    private static final String[] NAMES = {"container", "container.name", "container.id", "container.image.name", "host", "host.name",
            "agent", "agent.type", "agent.id", "log", "log.file.path", "log.offset", "log.level", "log.flags", "log.logger", "data_stream",
            "data_stream.dataset", "data_stream.namespace", "event", "event.dataset", "event.kind", "ecs", "ecs.version", "@timestamp",
            "message", "msg", "text", "stream", "json", "json.container.name", "docker", "docker.attrs", "labels", "labels.team",
            "labels.env", "service", "service.name", "error", "error.type", "error.message", "tags", "user.name", "a", "b.c",
            "x..y", ".", "", "..", "a.", ".a", "k", "level", "severity", "\u0000", "\u001b[31m", "é.ü", "container..name",
            ".container.name", "container.name.", "host.name.x"};
    private static final String[] OWNED_ROOTS = {"container", "host", "agent", "data_stream", "ecs", "log", "event", "labels",
            "service", "docker", "json", "error"};
    private static final java.util.Set<String> OWNED_ROOT_SET = java.util.Set.of("container", "host", "agent", "data_stream",
            "event", "ecs", "log", "@timestamp", "stream", "labels", "service", "docker");
    private static final String[] NUMBERS = {"0", "-0", "-0.0", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
            "123456789012345678901234567890", "1e308", "1e309", "-1e309", "4.9e-324", "1e-400", "0.1", "1E2", "3"};

    private int hugeKeys;

    @Test
    void noLineSetsTheAgentsFieldsOrEscapesTheLimits() throws Exception {
        long seed = Long.getLong("fuzz.seed", DEFAULT_SEED);
        int cases = Integer.getInteger("fuzz.cases", 200_000);
        Random r = new Random(seed);
        Config normal = new ConfigLoader(Map.of()).load(null);
        Config small = new ConfigLoader(Map.of("LOGFERRY_LIMITS_FIELD_MAX_DEPTH", "5", "LOGFERRY_LIMITS_FIELD_MAX_COUNT", "40",
                "LOGFERRY_LIMITS_FIELD_MAX_KEY_BYTES", "32")).load(null);
        Selector[] selectors = {new Selector(normal, ""), new Selector(small, "")};
        Config[] configs = {normal, small};
        long cutsBefore = cuts();
        int docs = 0;
        int dropped = 0;
        int notJson = 0;
        int malformed = 0;
        int processed = 0;
        int n = 0;
        for (int set = 0; n < cases; set++) {
            int which = set % 2;
            Map<String, String> labels = labels(r);
            ContainerInfo c = new ContainerInfo(String.format("%064x", set), "/fuzz-" + set, "img:1", labels, "", "json-file", true);
            Selector.Decision d = selectors[which].decide(c);
            ContainerSettings s = d.settings().orElseThrow();
            FieldTree.Limits lim = configs[which].limits().fieldLimits();
            assertThat(s.fieldLimits()).isEqualTo(lim);
            DocumentBuilder b = new DocumentBuilder(c, s, new DocumentBuilder.AgentInfo("9.9.9", "agent-1", "host-1"),
                    "/logs/x-json.log", configs[which].limits());
            List<String> own = new ArrayList<>(OWNED);
            if (labels.containsKey("logferry.fields.team")) {
                own.add("labels.team");
            }
            if (labels.containsKey("logferry.service")) {
                own.add("service.name");
            }
            Map<String, Object> expected = owned(parse(b, message(null, null, null, null)), own);
            for (int l = 0; l < LINES_PER_LABEL_SET && n < cases; l++, n++) {
                byte[] line = dockerLine(r);
                int caseNo = n;
                java.util.function.Supplier<String> at = () -> "seed " + seed + " case " + caseNo + " labels " + labels + " line "
                        + Utf8.truncate(new String(line, StandardCharsets.UTF_8), 2_000);
                try {
                    DockerEntry e;
                    try {
                        e = DockerJsonDecoder.decode(line, 0, line.length, 1_000, 1_000 + line.length);
                    } catch (DockerJsonDecoder.MalformedLineException bad) {
                        malformed++;        // the reader's outcome for it: counted and skipped (DecoderFuzzTest)
                        continue;
                    }
                    String text = e.log();
                    Message m;
                    if (s.json()) {
                        JsonMessage.Result j = JsonMessage.decode(text, s.jsonMessageKey(), s.jsonTarget(), s.fieldLimits());
                        notJson += j.error() != null ? 1 : 0;
                        m = message(j.text(), j.fields(), j.level(), j.error());
                    } else {
                        m = message(text, null, null, null);
                    }
                    if (!s.processors().isEmpty()) {
                        String[] reason = new String[1];
                        m = Processing.apply(m, s.processors(), reason);
                        processed++;
                        if (m == null) {
                            dropped++;
                            continue;
                        }
                    }
                    Map<String, Object> doc;
                    try {
                        doc = parse(b, m);
                    } catch (AssertionError bad) {
                        throw new AssertionError(at.get() + ": " + bad.getMessage(), bad);
                    }
                    docs++;
                    assertThat(owned(doc, own)).as(at).isEqualTo(expected);
                } catch (AssertionError e) {
                    throw e;
                } catch (Throwable e) {
                    fail(at.get() + ": " + e, e);
                }
            }
        }
        System.out.println("whole-path fuzz: " + n + " lines (seed " + seed + "), " + docs + " documents, " + dropped + " dropped by a "
                + "processor, " + malformed + " malformed json-file lines, " + notJson + " not JSON, " + processed + " through processors, " + hugeKeys + " huge keys, "
                + (cuts() - cutsBefore) + " fields cut (depth " + FieldTree.Cut.DEPTH.total() + ", count " + FieldTree.Cut.COUNT.total()
                + ", key_bytes " + FieldTree.Cut.KEY_BYTES.total() + ")");
        assertThat(n).isGreaterThanOrEqualTo(cases);
    }

    private static long cuts() {
        long t = 0;
        for (FieldTree.Cut c : FieldTree.Cut.values()) {
            t += c.total();
        }
        return t;
    }

    private static Message message(String text, Map<String, Object> json, String level, String error) {
        return new Message("stdout", TIME, text == null ? "" : text, new Cursor(1, "file-1", 4242), new Cursor(1, "file-1", 4300),
                0, json, level, error, Map.of(), null, null);
    }

    /**
     * The bulk lines parsed back: the document, after checking the nesting and the keys against
     * the limits (with Jackson's streaming parser, duplicate keys refused); its fields as
     * Elasticsearch reads them, a path per leaf (dots in keys are paths too).
     */
    private static Map<String, Object> parse(DocumentBuilder b, Message m) throws Exception {
        int[] start = new int[1];
        byte[] bulk = b.build(m, start);
        assertThat(bulk[bulk.length - 1]).isEqualTo((byte) '\n');
        Map<String, Object> leaves = new LinkedHashMap<>();
        int maxDepth = b.fieldLimits().maxDepth();
        int maxKey = b.fieldLimits().maxKeyBytes();
        int fields = 0;
        try (JsonParser p = STRICT.createParser(bulk, start[0], bulk.length - start[0] - 1)) {
            List<String> path = new ArrayList<>();
            List<Boolean> inArray = new ArrayList<>();
            int depth = 0;
            String name = null;
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                switch (t) {
                    case START_OBJECT, START_ARRAY -> {
                        depth++;
                        assertThat(depth).as("nesting").isLessThanOrEqualTo(Math.max(maxDepth, 3));
                        if (depth > 1 && !inArray.get(inArray.size() - 1)) {
                            path.add(name);
                        } else if (depth > 1) {
                            path.add("[]");
                        }
                        inArray.add(t == JsonToken.START_ARRAY);
                        fields++;
                    }
                    case END_OBJECT, END_ARRAY -> {
                        depth--;
                        inArray.remove(inArray.size() - 1);
                        if (!path.isEmpty() && depth >= 1) {
                            path.remove(path.size() - 1);
                        }
                    }
                    case FIELD_NAME -> {
                        name = p.currentName();
                        if (!path.isEmpty() && !path.get(0).equals("container")) {    // container.labels.* keys are the labels'
                            assertThat(Utf8.length(name)).as("key bytes").isLessThanOrEqualTo(maxKey);
                        } else if (path.isEmpty()) {
                            // a content field of an object the agent writes in part goes in with a dotted name: "labels.<key>"
                            assertThat(Utf8.length(name)).as("key bytes").isLessThanOrEqualTo(Math.max(maxKey + "service.".length(), 64));
                        }
                    }
                    default -> {
                        fields++;
                        String first = path.isEmpty() ? name : path.get(0);
                        int dot = first.indexOf('.');
                        if (!OWNED_ROOT_SET.contains(dot < 0 ? first : first.substring(0, dot))) {
                            continue;       // not under a name the agent writes: not needed for the check
                        }
                        StringBuilder k = new StringBuilder();
                        for (String part : path) {
                            k.append(part).append('.');
                        }
                        k.append(inArray.get(inArray.size() - 1) ? "[]" : name);
                        String key = k.toString();
                        Object v = t == JsonToken.VALUE_STRING ? p.getText() : p.getText();
                        Object had = leaves.putIfAbsent(key, v);
                        if (had != null) {
                            leaves.put(key, had instanceof List<?> l ? append(l, v) : append(List.of(had), v));
                        }
                    }
                }
            }
        }
        assertThat(fields).as("fields").isLessThanOrEqualTo(2 * b.fieldLimits().maxFields() + 200);
        return leaves;
    }

    private static List<Object> append(List<?> l, Object v) {
        List<Object> out = new ArrayList<>(l);
        out.add(v);
        return out;
    }

    /** The leaves under the agent's own paths (Elasticsearch's reading: dotted keys are paths). */
    private static Map<String, Object> owned(Map<String, Object> leaves, List<String> own) {
        Map<String, Object> out = new HashMap<>();
        for (Map.Entry<String, Object> e : leaves.entrySet()) {
            String key = e.getKey();
            for (String o : own) {
                if (key.equals(o) || key.startsWith(o + ".")) {
                    Object had = out.put(key, e.getValue());
                    if (had != null) {
                        out.put(key, List.of(had, e.getValue()));
                    }
                }
            }
        }
        return out;
    }

    // ---- label sets

    private static Map<String, String> labels(Random r) {
        Map<String, String> l = new LinkedHashMap<>();
        if (r.nextInt(8) != 0) {
            l.put("logferry.json", "true");
        }
        if (r.nextInt(6) == 0) {
            l.put("logferry.json.message_key", pick(r, "text", "msg", "log.message", "message", "container.name"));
        }
        if (r.nextInt(8) == 0) {
            l.put("logferry.json.target", pick(r, "app", "json", "payload"));
        }
        if (r.nextInt(3) == 0) {
            l.put("logferry.fields.team", "pay");
        }
        if (r.nextInt(4) == 0) {
            l.put("logferry.service", "svc");
        }
        int processors = r.nextInt(5) == 0 ? 0 : 1 + r.nextInt(4);
        for (int i = 1; i <= processors; i++) {
            String p = "logferry.processors." + i + ".";
            switch (r.nextInt(9)) {
                case 0 -> l.put(p + "add_tags.tags", pick(r, "t", "a,b"));
                case 1 -> {
                    l.put(p + "add_fields.target", pick(r, "", "container", "log", "x", "host.name", "json"));
                    l.put(p + "add_fields.fields." + pick(r, NAMES[0], "name", "file.path", "offset", "y", "dataset", "ecs.version"),
                            "forged");
                }
                case 2 -> {
                    l.put(p + "rename.fields.0.from", pick(r, "k", "a", "b.c", "json", "message", "user.name", "x"));
                    l.put(p + "rename.fields.0.to", pick(r, "container.name", "host", "log.offset", "message", "z", "data_stream",
                            "event.dataset", "ecs.version", "agent.id", "labels.team", "service.name", "q.r.s"));
                    l.put(p + "rename.ignore_missing", "true");
                }
                case 3 -> {
                    l.put(p + "dissect.tokenizer", pick(r, "%{?k} %{&k}", "%{a} %{b}", "%{container.name} %{rest}", "%{?n}=%{&n}",
                            "%{+a} %{+a}", "%{k} %{&k}"));
                    l.put(p + "dissect.target_prefix", pick(r, "", "dissect", "container", "log", "a.b"));
                    if (r.nextBoolean()) {
                        l.put(p + "dissect.overwrite_keys", "true");
                    }
                    if (r.nextBoolean()) {
                        l.put(p + "dissect.ignore_failure", "true");
                    }
                }
                case 4 -> {
                    l.put(p + "drop_fields.fields", pick(r, "container,log", "k", "json", "message", "a,b.c"));
                    l.put(p + "drop_fields.ignore_missing", "true");
                }
                case 5 -> l.put(p + "drop_event.when.equals.message", "drop");
                case 6 -> l.put(p + "add_fields.fields.deep." + "x.".repeat(r.nextInt(40)) + "y", "v");
                case 7 -> {
                    l.put(p + "rename.fields.0.from", "k");
                    l.put(p + "rename.fields.0.to", "message");
                    l.put(p + "rename.ignore_missing", "true");
                }
                default -> {
                    l.put(p + "add_tags.tags", "t");
                    l.put(p + "add_tags.target", pick(r, "container.name", "tags", "log.level", "log.offset"));
                }
            }
        }
        return l;
    }

    // ---- lines

    /** One json-file line: the text as Docker writes it, sometimes with bytes that are not UTF-8 inside. */
    private byte[] dockerLine(Random r) throws Exception {
        String text = r.nextInt(12) == 0 ? plainText(r) : json(r);
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length() + 100);
        out.write("{\"log\":".getBytes(StandardCharsets.US_ASCII));
        byte[] escaped = new io.logferry.elasticsearch.JsonOut(text.length() + 16).string(text + "\n").toBytes();
        if (r.nextInt(10) == 0 && escaped.length > 2) {
            int at = 1 + r.nextInt(escaped.length - 2);
            out.write(escaped, 0, at);
            out.write(pickBytes(r));
            out.write(escaped, at, escaped.length - at);
        } else {
            out.write(escaped);
        }
        out.write(",\"stream\":\"stdout\",\"time\":\"2026-12-07T10:00:00.000000001Z\"}".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    private static byte[] pickBytes(Random r) {
        byte[][] bad = {{(byte) 0xC3, 0x28}, {(byte) 0xFF}, {(byte) 0x80}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xE2, (byte) 0x82}};
        return bad[r.nextInt(bad.length)];
    }

    private static String plainText(Random r) {
        return pick(r, "drop", "hello world", "container.name payments", "a b", "k v", "log.offset 1", "\u0000\u001b[2J", "n=container.name",
                "x " + "a.".repeat(r.nextInt(200)) + "b");
    }

    private String json(Random r) {
        StringBuilder b = new StringBuilder("{");
        int n = r.nextInt(8);
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                b.append(',');
            }
            b.append(quoted(key(r))).append(':');
            value(r, b, r.nextInt(4));
        }
        if (r.nextInt(400) == 0) {
            hugeKeys++;
            b.append(n > 0 ? "," : "").append(quoted(r.nextBoolean() ? "a" + ".b".repeat(20_000) : "k" + ".kk".repeat(100_000)))
                    .append(":1");
            n++;
        }
        if (r.nextInt(300) == 0) {
            // nested as deep as the parser takes (1000), or deeper (refused as not JSON)
            int deep = r.nextBoolean() ? 900 : 1_200;
            b.append(n > 0 ? "," : "").append("\"deep\":").append("{\"d\":".repeat(deep)).append('1').append("}".repeat(deep));
            n++;
        }
        if (r.nextInt(200) == 0) {
            b.append(n > 0 ? "," : "").append("\"many\":{");
            int m = 1_500 + r.nextInt(500);
            for (int i = 0; i < m; i++) {
                b.append(i > 0 ? "," : "").append("\"f").append(i).append("\":").append(i);
            }
            b.append('}');
        }
        b.append('}');
        if (r.nextInt(50) == 0) {
            b.setLength(r.nextInt(b.length()));       // cut short: not JSON
        }
        return b.toString();
    }

    private static String key(Random r) {
        return switch (r.nextInt(6)) {
            case 0, 1, 2 -> NAMES[r.nextInt(NAMES.length)];
            case 3 -> {
                StringBuilder k = new StringBuilder(OWNED_ROOTS[r.nextInt(OWNED_ROOTS.length)]);
                int parts = r.nextInt(30);
                for (int i = 0; i < parts; i++) {
                    k.append(r.nextInt(10) == 0 ? ".." : ".").append(NAMES[r.nextInt(NAMES.length)]);
                }
                yield k.toString();
            }
            case 4 -> r.nextInt(4) == 0 ? "long" + "é".repeat(r.nextInt(1_200)) : "k" + r.nextInt(50);
            default -> "k" + r.nextInt(5);
        };
    }

    private static void value(Random r, StringBuilder b, int depth) {
        int kind = r.nextInt(depth > 0 ? 8 : 5);
        kind = kind == 7 && r.nextBoolean() ? 6 : kind;
        switch (kind) {
            case 0 -> b.append(quoted(pick(r, "payments", "x", "", "drop", "container.name payments", "a b", "\u0000\u0007\u001b",
                    "\ud800", "\udfff x", "日本", "k container.name")));
            case 7 -> b.append("\"\\ud800 \\u0000 \\u001b\"");
            case 1 -> b.append(NUMBERS[r.nextInt(NUMBERS.length)]);
            case 2 -> b.append(pick(r, "true", "false", "null"));
            case 3 -> b.append(quoted("s".repeat(r.nextInt(50))));
            case 4 -> b.append(NUMBERS[r.nextInt(3)]);
            case 5 -> {
                b.append('[');
                int n = r.nextInt(4);
                for (int i = 0; i < n; i++) {
                    if (i > 0) {
                        b.append(',');
                    }
                    value(r, b, depth - 1);
                }
                b.append(']');
            }
            default -> {
                b.append('{');
                int n = r.nextInt(5);
                for (int i = 0; i < n; i++) {
                    if (i > 0) {
                        b.append(',');
                    }
                    b.append(quoted(key(r))).append(':');
                    value(r, b, depth - 1);
                }
                b.append('}');
            }
        }
    }

    private static String quoted(String s) {
        return new io.logferry.elasticsearch.JsonOut(s.length() + 8).string(s).toString();
    }

    private static String pick(Random r, String... options) {
        return options[r.nextInt(options.length)];
    }
}
