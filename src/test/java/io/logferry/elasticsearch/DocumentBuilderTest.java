package io.logferry.elasticsearch;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.logferry.model.TestSettings;
import io.logferry.config.Config;
import io.logferry.decode.Message;
import io.logferry.model.AckTracker;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerLabels;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.model.LogEvent;
import io.logferry.model.StartPosition;
import io.logferry.model.Streams;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class DocumentBuilderTest {
    /** Duplicate keys would make Elasticsearch refuse the document: parse strictly. */
    private static final ObjectMapper STRICT = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());
    private static final String ID = "4f9a1c2b3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff";
    private static final String TIME = "2024-05-01T10:00:00.123456789Z";
    private static final DocumentBuilder.AgentInfo AGENT = new DocumentBuilder.AgentInfo("0.1.0", "agent-1", "docker-host-7");
    private static final String PATH = "/var/lib/docker/containers/" + ID + "/" + ID + "-json.log";

    private static ContainerInfo container(String id, Map<String, String> labels) {
        return new ContainerInfo(id, "/shop-web-1", "nginx:1.27", labels, PATH, "json-file", true);
    }

    private static ContainerSettings settings(String dataset, Map<String, String> fields) {
        return TestSettings.of(dataset, "prod", Streams.ALL, StartPosition.BEGINNING, TestSettings.NO_MULTILINE,
                false, "", 1 << 20, List.of(), List.of(), fields);
    }

    private static DocumentBuilder builder() {
        return new DocumentBuilder(container(ID, Map.of("com.docker.compose.project", "shop", "com.docker.compose.service", "web",
                "org.opencontainers.image.version", "1.2.3", "logferry.enable", "true")), settings("nginx", Map.of("team", "payments")), AGENT, PATH);
    }

    private static Message message(String text, long start, int flags) {
        return new Message("stderr", TIME, text, new Cursor(1, "fileA", start), new Cursor(1, "fileA", start + 100), flags, null, null, null);
    }

    private record Doc(JsonNode action, JsonNode doc, byte[] bytes, int docStart) { }

    private static Doc build(DocumentBuilder b, Message m) throws Exception {
        int[] start = new int[1];
        byte[] bytes = b.build(m, start);
        // what a tailer queues: the event's own bytes and the container's shared tail, the same bytes in all
        int[] headStart = new int[1];
        LogEvent e = new LogEvent(new AckTracker(ID, null), b.buildHead(m, headStart), b.tail(), headStart[0], m.commit());
        assertThat(headStart[0]).isEqualTo(start[0]);
        assertThat(e.tail()).isSameAs(b.tail());
        assertThat(e.payload()).isEqualTo(bytes);
        assertThat(e.size()).isEqualTo(bytes.length);
        String text = new String(bytes, StandardCharsets.UTF_8);
        assertThat(text).endsWith("\n");
        String[] lines = text.substring(0, text.length() - 1).split("\n", -1);
        assertThat(lines).as("an action line and a document line").hasSize(2);
        assertThat(start[0]).isEqualTo(lines[0].getBytes(StandardCharsets.UTF_8).length + 1);
        return new Doc(STRICT.readTree(lines[0]), STRICT.readTree(new String(bytes, start[0], bytes.length - start[0], StandardCharsets.UTF_8)),
                bytes, start[0]);
    }

    @Test
    void theDocument() throws Exception {
        Doc d = build(builder(), message("GET / 200 \"ok\" \u0000 café", 4096, Message.MULTILINE | Message.PARTIAL));
        JsonNode create = d.action().get("create");
        assertThat(create.get("_index").asText()).isEqualTo("logs-nginx-prod");
        assertThat(create.get("_id").asText()).hasSize(22).matches("[A-Za-z0-9_-]+");

        JsonNode doc = d.doc();
        assertThat(doc.get("@timestamp").asText()).isEqualTo(TIME);
        assertThat(doc.get("message").asText()).isEqualTo("GET / 200 \"ok\" \u0000 café");
        assertThat(doc.get("stream").asText()).isEqualTo("stderr");
        assertThat(doc.at("/log/offset").asLong()).isEqualTo(4096);
        assertThat(doc.at("/log/file/path").asText()).isEqualTo(PATH);
        assertThat(doc.at("/log/flags").toString()).isEqualTo("[\"multiline\",\"partial\"]");
        assertThat(doc.at("/log/level").isMissingNode()).isTrue();
        assertThat(doc.at("/container/id").asText()).isEqualTo(ID);
        assertThat(doc.at("/container/name").asText()).isEqualTo("shop-web-1");
        assertThat(doc.at("/container/image/name").asText()).isEqualTo("nginx:1.27");
        assertThat(doc.at("/container/runtime").asText()).isEqualTo("docker");
        JsonNode labels = doc.at("/container/labels");
        assertThat(labels.get("com_docker_compose_project").asText()).isEqualTo("shop");
        assertThat(labels.get("org_opencontainers_image_version").asText()).isEqualTo("1.2.3");
        assertThat(labels.get("logferry_enable").asText()).isEqualTo("true");
        labels.fieldNames().forEachRemaining(k -> assertThat(k).doesNotContain("."));
        assertThat(doc.at("/docker/compose/project").asText()).isEqualTo("shop");
        assertThat(doc.at("/docker/compose/service").asText()).isEqualTo("web");
        assertThat(doc.at("/host/name").asText()).isEqualTo("docker-host-7");
        assertThat(doc.at("/agent/type").asText()).isEqualTo("logferry");
        assertThat(doc.at("/agent/version").asText()).isEqualTo("0.1.0");
        assertThat(doc.at("/agent/id").asText()).isEqualTo("agent-1");
        assertThat(doc.at("/data_stream/type").asText()).isEqualTo("logs");
        assertThat(doc.at("/data_stream/dataset").asText()).isEqualTo("nginx");
        assertThat(doc.at("/data_stream/namespace").asText()).isEqualTo("prod");
        assertThat(doc.at("/event/dataset").asText()).isEqualTo("nginx");
        assertThat(doc.at("/labels/team").asText()).isEqualTo("payments");
        assertThat(doc.has("error")).isFalse();
        assertThat(doc.has("json")).isFalse();
    }

    @Test
    void aModulesStreamsGoToTheirDatasets() throws Exception {
        ContainerSettings base = settings("nginx.access", Map.of());
        ContainerSettings s = new ContainerSettings(base.dataset(), base.namespace(), base.streams(),
                base.startPosition(), base.multiline(), base.json(), base.jsonMessageKey(), base.maxBytes(),
                base.includeLines(), base.excludeLines(), base.fields(), null, null, "", 0, io.logferry.model.Priority.NORMAL,
                2, null, "nginx", "nginx.error", null);
        DocumentBuilder b = new DocumentBuilder(container(ID, Map.of()), s, AGENT, PATH);
        for (String stream : List.of("stdout", "stderr")) {
            // content that names event.module and event.dataset: it cannot move the document or relabel its module
            Map<String, Object> json = new java.util.LinkedHashMap<>();
            json.put("event", new java.util.LinkedHashMap<>(Map.of("module", "x", "dataset", "y", "action", "get")));
            Message m = new Message(stream, TIME, "hello", new Cursor(1, "fileA", 0), new Cursor(1, "fileA", 10), 0, json, null, null);
            LogEvent e = b.encode(m, new AckTracker(ID, null));
            String dataset = stream.equals("stdout") ? "nginx.access" : "nginx.error";
            assertThat(e.index()).isEqualTo("logs-" + dataset + "-prod");
            String text = new String(e.payload(), StandardCharsets.UTF_8);
            String[] lines = text.substring(0, text.length() - 1).split("\n", -1);
            assertThat(STRICT.readTree(lines[0]).at("/create/_index").asText()).isEqualTo("logs-" + dataset + "-prod");
            JsonNode doc = STRICT.readTree(lines[1]);
            assertThat(doc.at("/data_stream/dataset").asText()).isEqualTo(dataset);
            assertThat(doc.at("/event/dataset").asText()).isEqualTo(dataset);
            assertThat(doc.at("/event/module").asText()).isEqualTo("nginx");
            assertThat(doc.at("/json/event/module").asText()).isEqualTo("x");
            assertThat(doc.at("/json/event/dataset").asText()).isEqualTo("y");
            assertThat(doc.get("event.action").asText()).isEqualTo("get");
        }
        // without a module, no event.module
        Doc plain = build(builder(), message("x", 0, 0));
        assertThat(plain.doc().at("/event/module").isMissingNode()).isTrue();
    }

    @Test
    void nanosecondsAreKeptAsGiven() throws Exception {
        for (String t : List.of("2017-11-09T13:27:36.277747246Z", "2024-01-01T00:00:00.000000001Z", "2024-01-01T00:00:00Z")) {
            Message m = new Message("stdout", t, "x", new Cursor(1, "f", 0), new Cursor(1, "f", 1), 0, null, null, null);
            assertThat(build(builder(), m).doc().get("@timestamp").asText()).isEqualTo(t);
        }
    }

    @Test
    void noComposeLabelsNoLabelsNoFieldsNoPath() throws Exception {
        DocumentBuilder b = new DocumentBuilder(container(ID, Map.of()), settings("docker", Map.of()), AGENT, null);
        JsonNode doc = build(b, message("x", 0, 0)).doc();
        assertThat(doc.has("docker")).isFalse();
        assertThat(doc.has("labels")).isFalse();
        assertThat(doc.at("/container/labels").isMissingNode()).isTrue();
        assertThat(doc.at("/log/file").isMissingNode()).isTrue();
        assertThat(doc.at("/log/flags").isMissingNode()).isTrue();
        assertThat(doc.at("/log/offset").asLong()).isZero();
        DocumentBuilder onlyService = new DocumentBuilder(container(ID, Map.of("com.docker.compose.service", "db")),
                settings("docker", Map.of()), AGENT, null);
        JsonNode d2 = build(onlyService, message("x", 0, 0)).doc();
        assertThat(d2.at("/docker/compose/service").asText()).isEqualTo("db");
        assertThat(d2.at("/docker/compose/project").isMissingNode()).isTrue();
    }

    @Test
    void containerLabelsAreCappedInCountBytesAndValueLength() throws Exception {
        Map<String, String> labels = new java.util.HashMap<>();
        for (int i = 0; i < 500; i++) {
            labels.put(String.format("com.example.l%03d", i), "v" + i);
        }
        labels.put("com.docker.compose.project", "p".repeat(5000));
        labels.put("com_example_l000", "collides with com.example.l000 once dots are underscores");
        Config.Limits d = Config.Limits.defaults();
        Config.Limits limits = new Config.Limits(d.maxBytes(), d.multilineMaxLines(), d.multilineMaxTimeout(), d.regexMaxLength(),
                d.regexMaxCount(), 20, 16_384, d.heldFilesPerContainer(), d.heldBytesTotal());
        DocumentBuilder b = new DocumentBuilder(container(ID, labels), settings("docker", Map.of()), AGENT, null, limits);
        JsonNode doc = build(b, message("x", 0, 0)).doc();     // the strict parser refuses duplicate keys
        JsonNode kept = doc.at("/container/labels");
        assertThat(kept.size()).isEqualTo(20);
        assertThat(kept.has("com_docker_compose_project")).isTrue();
        assertThat(kept.get("com_docker_compose_project").asText()).hasSize(ContainerLabels.MAX_VALUE_BYTES);
        assertThat(kept.get("com_example_l000").asText()).isEqualTo("v0");
        assertThat(kept.has("com_example_l018")).isTrue();
        assertThat(kept.has("com_example_l019")).isFalse();
        assertThat(doc.at("/docker/compose/project").asText()).hasSize(ContainerLabels.MAX_VALUE_BYTES);
        // the defaults: 100 labels, 16 KiB
        JsonNode byDefault = build(new DocumentBuilder(container(ID, labels), settings("docker", Map.of()), AGENT, null),
                message("x", 0, 0)).doc();
        assertThat(byDefault.at("/container/labels").size()).isEqualTo(100);
    }

    @Test
    void jsonErrorsAndLevel() throws Exception {
        Message m = new Message("stdout", TIME, "{oops", new Cursor(1, "f", 0), new Cursor(1, "f", 6), Message.TRUNCATED,
                null, "warn", "the message is not valid JSON: Unexpected character ('o')");
        JsonNode doc = build(builder(), m).doc();
        assertThat(doc.get("message").asText()).isEqualTo("{oops");
        assertThat(doc.at("/error/message").asText()).startsWith("the message is not valid JSON");
        assertThat(doc.at("/error/type").asText()).isNotEmpty();
        assertThat(doc.at("/log/level").asText()).isEqualTo("warn");
        assertThat(doc.at("/log/flags").toString()).isEqualTo("[\"truncated\"]");
    }

    @Test
    void decodedFieldsAreMergedButNeverOverTheDocumentsOwn() throws Exception {
        ObjectNode json = new ObjectMapper().createObjectNode();
        json.put("user", "alice");
        json.putObject("http").put("status", 200);
        json.put("message", "from json");
        json.put("@timestamp", "1999-01-01T00:00:00Z");
        json.putObject("container").put("id", "spoofed");
        json.putObject("log").put("logger", "app.Main");
        json.put("labels", "x");
        json.put("host", "h");
        json.put("stream", "s");
        json.putObject("data_stream").put("dataset", "evil");
        Message m = new Message("stdout", TIME, "text", new Cursor(1, "f", 0), new Cursor(1, "f", 6), 0, tree(json), null, null);
        JsonNode doc = build(builder(), m).doc();
        assertThat(doc.get("user").asText()).isEqualTo("alice");
        assertThat(doc.at("/http/status").asInt()).isEqualTo(200);
        assertThat(doc.get("message").asText()).isEqualTo("text");
        assertThat(doc.get("@timestamp").asText()).isEqualTo(TIME);
        assertThat(doc.at("/container/id").asText()).isEqualTo(ID);
        assertThat(doc.at("/data_stream/dataset").asText()).isEqualTo("nginx");
        assertThat(doc.at("/labels/team").asText()).isEqualTo("payments");
        assertThat(doc.get("stream").asText()).isEqualTo("stdout");
        JsonNode moved = doc.get("json");
        assertThat(moved.get("message").asText()).isEqualTo("from json");
        assertThat(moved.get("@timestamp").asText()).isEqualTo("1999-01-01T00:00:00Z");
        assertThat(moved.at("/container/id").asText()).isEqualTo("spoofed");
        assertThat(doc.at("/log/logger").asText()).as("ECS places the JsonMessage kept are merged").isEqualTo("app.Main");
        assertThat(doc.at("/log/offset").asLong()).isZero();
        assertThat(moved.get("labels").asText()).isEqualTo("x");
        assertThat(moved.get("host").asText()).isEqualTo("h");
        assertThat(moved.get("stream").asText()).isEqualTo("s");
    }

    @Test
    void dottedJsonKeysNeverReachTheDocumentsOwnObjects() throws Exception {
        ObjectNode json = new ObjectMapper().createObjectNode();
        json.put("container.id", "spoofed");
        json.put("log.offset", 1);
        json.put("user.name", "alice");
        Message m = new Message("stdout", TIME, "text", new Cursor(1, "f", 0), new Cursor(1, "f", 6), 0, tree(json), null, null);
        JsonNode doc = build(builder(), m).doc();
        assertThat(doc.has("container.id")).isFalse();
        assertThat(doc.has("log.offset")).isFalse();
        assertThat(doc.at("/json/container/id").asText()).isEqualTo("spoofed");
        assertThat(doc.at("/json/log/offset").asInt()).isEqualTo(1);
        assertThat(doc.at("/log/offset").asLong()).isZero();
        assertThat(doc.at("/user/name").asText()).isEqualTo("alice");
    }

    @Test
    void hostileJsonKeysNeitherCrashNorNestWithoutBound() throws Exception {
        ObjectNode json = new ObjectMapper().createObjectNode();
        json.put("a".repeat(3) + ".b".repeat(20_000), 1);             // 20,000 dots (names end at 50,000 characters in the parser)
        json.put("x.y.z", 2);
        json.put("x..w", 3);
        json.put(".lead", 4);
        json.put("trail.", 5);
        ObjectNode deep = json.putObject("d");
        for (int i = 0; i < 500; i++) {
            deep = deep.putObject("n" + i);
        }
        deep.put("leaf", 1);
        Message m = new Message("stdout", TIME, "text", new Cursor(1, "f", 0), new Cursor(1, "f", 6), 0, tree(json), null, null);
        JsonNode doc = build(builder(), m).doc();
        // 19 objects, then the rest of the key flat on level 20, cut at field_max_key_bytes (1024)
        JsonNode at = doc.get("aaa");
        for (int i = 0; i < 18; i++) {
            at = at.get("b");
        }
        String flat = at.fieldNames().next();
        assertThat(flat).startsWith("b.b.b").hasSize(1024);
        assertThat(doc.at("/x/y/z").asInt()).isEqualTo(2);
        assertThat(doc.at("/x/w").asInt()).as("empty parts dropped").isEqualTo(3);
        assertThat(doc.get("lead").asInt()).isEqualTo(4);
        assertThat(doc.get("trail").asInt()).isEqualTo(5);
        JsonNode d = doc.get("d");
        for (int i = 0; i < 18; i++) {
            d = d.get("n" + i);
        }
        assertThat(d.fieldNames().next()).as("deeper objects stay flat on level 20").startsWith("n18.n19.n20");
    }

    /** The JSON as JsonMessage would hand it on: a field tree. */
    private static java.util.Map<String, Object> tree(ObjectNode json) {
        java.util.Map<String, Object> raw = new ObjectMapper().convertValue(json,
                new com.fasterxml.jackson.core.type.TypeReference<java.util.Map<String, Object>>() { });
        return io.logferry.model.FieldTree.of(raw, io.logferry.model.FieldTree.Limits.DEFAULTS).root();
    }

    @Test
    void dockerAttrsGoUnderDockerAttrs() throws Exception {
        Message m = new Message("stdout", TIME, "text", new Cursor(1, "f", 0), new Cursor(1, "f", 6), 0, null, null, null,
                java.util.Map.of("com.example.tier", "web"));
        JsonNode doc = build(builder(), m).doc();
        assertThat(doc.at("/docker.attrs/com_example_tier").asText()).isEqualTo("web");
    }

    @Test
    void theIdIsDeterministic() throws Exception {
        Message m = message("x", 123, 0);
        String id = build(builder(), m).action().at("/create/_id").asText();
        assertThat(build(builder(), m).action().at("/create/_id").asText()).isEqualTo(id);
        // the text, time, stream and flags are not part of the identity: a replay of the same bytes has the same id
        Message other = new Message("stdout", "2030-01-01T00:00:00Z", "different", new Cursor(7, "fileA", 123),
                new Cursor(7, "fileA", 999), Message.TRUNCATED, null, null, null);
        assertThat(build(builder(), other).action().at("/create/_id").asText()).isEqualTo(id);
        // and ids in one builder do not depend on what it built before
        DocumentBuilder b = builder();
        b.build(new Message("stdout", TIME, "y", new Cursor(1, "fileB", 5), new Cursor(1, "fileB", 6), 0, null, null, null), new int[1]);
        assertThat(b.id(new Cursor(1, "fileA", 123))).isEqualTo(id);
    }

    /**
     * Fixed expected values, computed apart from this code (SHA-256 and base64url in Python): an
     * {@code _id} that changes between versions makes every line replayed after an upgrade a
     * duplicate in the index. If this test fails, the change is the bug, not the table.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0} {1} {2} -> {3}")
    @org.junit.jupiter.params.provider.CsvSource({
            "4f9a1c2b3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff, 9f86d081884c7d65, 0, 1Qx5XFvbg40AAAAAAAAAAA",
            "4f9a1c2b3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff, 9f86d081884c7d65, 4096, 1Qx5XFvbg40AAAAAAAAQAA",
            "4f9a1c2b3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff, 9f86d081884c7d65, 1099511627776, 1Qx5XFvbg40AAAEAAAAAAA",
            "4f9a1c2b3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff, 2c26b46b68ffc68f, 4096, dW5vLVjPticAAAAAAAAQAA",
            "0c5e1d9b2f7a4e3c8b6d5a4f3e2d1c0b9a8f7e6d5c4b3a2918171615141312ff, 9f86d081884c7d65, 4096, TMr8OUU2njYAAAAAAAAQAA",
            "4f9a1c2b3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff, api, 1714557600123456789, 5jrpvsRGZl4Xy1UNnk4NFQ",
    })
    void theIdOfAGivenContainerFileAndOffsetNeverChanges(String containerId, String fileId, long offset, String expected) throws Exception {
        DocumentBuilder b = new DocumentBuilder(container(containerId, Map.of()), settings("nginx", Map.of()), AGENT, PATH);
        assertThat(b.id(new Cursor(1, fileId, offset))).isEqualTo(expected);
        // the same in the action line, whatever else the message says, and in the event the encoder makes
        Message m = new Message("stdout", TIME, "text", new Cursor(3, fileId, offset), new Cursor(3, fileId, offset + 50), 0, null, null, null);
        assertThat(build(b, m).action().at("/create/_id").asText()).isEqualTo(expected);
        LogEvent e = b.encode(m, new AckTracker(containerId, null));
        assertThat(e.id()).isEqualTo(expected);
        assertThat(e.index()).isEqualTo("logs-nginx-prod").isSameAs(b.index());
    }

    @Test
    void theIdDiffersForOffsetsFilesAndContainers() {
        DocumentBuilder a = builder();
        DocumentBuilder other = new DocumentBuilder(container(ID.replace('4', '5'), Map.of()), settings("nginx", Map.of()), AGENT, PATH);
        Set<String> ids = new HashSet<>();
        int n = 0;
        for (String file : List.of("fileA", "fileB", "fileC")) {
            for (long off = 0; off < 20_000; off += 1 + (off % 7)) {
                ids.add(a.id(new Cursor(1, file, off)));
                ids.add(other.id(new Cursor(1, file, off)));
                n += 2;
            }
        }
        ids.add(a.id(new Cursor(1, "fileA", Long.MAX_VALUE)));
        ids.add(a.id(new Cursor(1, "fileA", 1L << 40)));
        n += 2;
        assertThat(ids).hasSize(n);
        assertThat(a.id(new Cursor(1, "fileA", 10))).isNotEqualTo(a.id(new Cursor(1, "fileB", 10)));
        assertThat(a.id(new Cursor(1, "fileA", 10))).isNotEqualTo(other.id(new Cursor(1, "fileA", 10)));
        assertThat(a.id(new Cursor(1, "fileA", 10))).isNotEqualTo(a.id(new Cursor(1, "fileA", 11)));
    }

    @Test
    void escapedTextGivesTheSameDocumentAsTheText() throws Exception {
        String text = "GET /a?b=1&c=<2> \"quoted\" \\ tab\there \u0001";
        String escaped = "GET /a?b=1\\u0026c=\\u003c2\\u003e \\\"quoted\\\" \\\\ tab\\there \\u0001";
        Message plain = new Message("stdout", TIME, text, new Cursor(1, "f", 0), new Cursor(1, "f", 9), 0, null, null, null);
        Message copied = new Message("stdout", TIME, null, new Cursor(1, "f", 0), new Cursor(1, "f", 9), 0, null, null, null,
                Map.of(), escaped.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertThat(copied.text()).isEqualTo(text);
        assertThat(build(builder(), copied).doc()).isEqualTo(build(builder(), plain).doc());
        assertThat(build(builder(), copied).doc().get("message").asText()).isEqualTo(text);
    }

    @Test
    void idsOfOneFileShareAPrefixAndCarryTheOffset() {
        DocumentBuilder a = builder();
        byte[] first = java.util.Base64.getUrlDecoder().decode(a.id(new Cursor(1, "fileA", 0)));
        byte[] later = java.util.Base64.getUrlDecoder().decode(a.id(new Cursor(1, "fileA", 0x0102030405L)));
        byte[] otherFile = java.util.Base64.getUrlDecoder().decode(a.id(new Cursor(1, "fileB", 0x0102030405L)));
        assertThat(first).hasSize(16);
        assertThat(java.util.Arrays.copyOf(later, 8)).isEqualTo(java.util.Arrays.copyOf(first, 8))
                .isNotEqualTo(java.util.Arrays.copyOf(otherFile, 8));
        assertThat(java.nio.ByteBuffer.wrap(later, 8, 8).getLong()).isEqualTo(0x0102030405L);
        assertThat(java.util.Arrays.copyOf(first, 8))
                .isEqualTo(java.util.Arrays.copyOf(DocumentBuilder.sha256(ID + "/fileA"), 8));
        assertThat(a.id(new Cursor(1, "fileA", 1000))).startsWith(a.id(new Cursor(1, "fileA", 2000)).substring(0, 10));
    }

    @Test
    void everyPossibleTextMakesValidJson() throws Exception {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < 0x800; c++) {
            all.append(c);
        }
        all.append("\ud83d\ude80 \ud800 \udfff \\ \" </script>");
        DocumentBuilder b = builder();
        JsonNode doc = build(b, message(all.toString(), 0, 0)).doc();
        assertThat(doc.get("message").asText()).isEqualTo(all.toString().replace('\ud800', '\ufffd').replace('\udfff', '\ufffd'));
    }
}
