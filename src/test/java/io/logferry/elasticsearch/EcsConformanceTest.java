package io.logferry.elasticsearch;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.logferry.model.TestSettings;
import io.logferry.decode.JsonMessage;
import io.logferry.decode.Message;
import io.logferry.model.AckTracker;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.model.Ecs;
import io.logferry.model.LogEvent;
import io.logferry.model.StartPosition;
import io.logferry.model.Streams;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every field the document builder and the dead letters can write, for a fixture of each kind of
 * document (plain, multiline, JSON, JSON that failed, ECS JSON, API mode, dead letter), checked
 * against the copy of the ECS field definitions in {@code src/test/resources/ecs/ecs-fields.csv}:
 * an ECS name carries a value of its ECS type, and the index template maps it with a type of the
 * same family; any other name is one of the documented custom fields
 * ({@code ecs/custom-fields.csv}); every name is in docs/documents.md; {@code ecs.version} is the
 * version of the field list. Prints the table of the fields seen.
 */
class EcsConformanceTest {
    private static final ObjectMapper STRICT = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());
    private static final String ID = "4f9a1c2b3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff";
    private static final String TIME = "2026-12-01T10:00:00.123456789Z";
    private static final String PATH = "/var/lib/docker/containers/" + ID + "/" + ID + "-json.log";

    record EcsField(String type, String level) { }

    static String version;
    static final Map<String, EcsField> ECS = load();
    static final Map<String, String> CUSTOM = custom();

    private static Map<String, EcsField> load() {
        Map<String, EcsField> m = new TreeMap<>();
        for (String[] row : csv("/ecs/ecs-fields.csv")) {
            if (row[0].equals("version")) {
                version = row[1];
            } else if (!row[0].equals("field")) {
                m.put(row[0], new EcsField(row[1], row[2]));
            }
        }
        return m;
    }

    private static Map<String, String> custom() {
        Map<String, String> m = new TreeMap<>();
        for (String[] row : csv("/ecs/custom-fields.csv")) {
            if (!row[0].equals("field")) {
                m.put(row[0], row[1]);
            }
        }
        return m;
    }

    private static List<String[]> csv(String resource) {
        List<String[]> rows = new ArrayList<>();
        try (InputStream in = EcsConformanceTest.class.getResourceAsStream(resource);
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    rows.add(line.split(",", -1));
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(resource, e);
        }
        return rows;
    }

    private static ContainerSettings settings(Map<String, String> fields) {
        return TestSettings.of("nginx", "prod", Streams.ALL, StartPosition.BEGINNING, TestSettings.NO_MULTILINE,
                true, "", 1 << 20, List.of(), List.of(), fields);
    }

    private static DocumentBuilder builder(String logPath) {
        ContainerInfo c = new ContainerInfo(ID, "/shop-web-1", "registry.local:5000/shop/web:1.4.2",
                Map.of("com.docker.compose.project", "shop", "com.docker.compose.service", "web", "tier.name", "front"),
                PATH, "json-file", true);
        return new DocumentBuilder(c, settings(Map.of("team", "payments")),
                new DocumentBuilder.AgentInfo("0.1.0", "agent-1", "docker-host-7"), logPath);
    }

    private static Message message(String text, int flags, JsonMessage.Result json, Map<String, String> attrs) {
        return new Message("stdout", TIME, json == null ? text : json.text(), new Cursor(1, "fileA", 4096),
                new Cursor(1, "fileA", 4200), flags, json == null ? null : json.fields(), json == null ? null : json.level(),
                json == null ? null : json.error(), attrs);
    }

    /** The document line of each fixture, by kind. */
    static Map<String, JsonNode> fixtures() throws Exception {
        Map<String, JsonNode> docs = new LinkedHashMap<>();
        DocumentBuilder file = builder(PATH);
        docs.put("plain", doc(file, message("GET / 200", 0, null, Map.of())));
        docs.put("multiline", doc(file, message("Exception\n\tat a.B(B.java:1)", Message.MULTILINE | Message.TRUNCATED | Message.PARTIAL,
                null, Map.of())));
        docs.put("JSON", doc(file, message(null, 0, JsonMessage.decode(
                "{\"level\":\"warn\",\"msg\":\"slow\",\"duration_ms\":812,\"host\":\"web-1\",\"user\":\"bob\",\"http.status\":500}", ""),
                Map.of())));
        docs.put("JSON, not valid", doc(file, message(null, 0, JsonMessage.decode("{oops", ""), Map.of())));
        docs.put("ECS JSON", doc(file, message(null, 0, JsonMessage.decode("{\"@timestamp\":\"2026-12-01T10:00:00.123Z\","
                + "\"log.level\":\"ERROR\",\"message\":\"payment failed\",\"ecs.version\":\"1.2.0\",\"service.name\":\"checkout\","
                + "\"service.version\":\"2.1\",\"event.dataset\":\"checkout.log\",\"process.thread.name\":\"main\",\"process.pid\":7,"
                + "\"log.logger\":\"shop.Payments\",\"log\":{\"origin\":{\"file\":{\"name\":\"Payments.java\",\"line\":42},"
                + "\"function\":\"charge\"}},\"error.type\":\"java.lang.IllegalStateException\",\"error.message\":\"declined\","
                + "\"error.stack_trace\":\"java.lang.IllegalStateException: declined\\n\\tat shop.Payments.charge(Payments.java:42)\","
                + "\"trace.id\":\"0af7651916cd43dd8448eb211c80319c\",\"transaction.id\":\"b7ad6b7169203331\","
                + "\"span.id\":\"00f067aa0ba902b7\",\"tags\":[\"payments\"],\"labels\":{\"order\":\"o-1\"},"
                + "\"host\":{\"hostname\":\"c0ffee\"},\"order_total\":12.5}", ""), Map.of())));
        docs.put("API mode", doc(builder(null), message("from the API", 0, null, Map.of("com.example.tier", "web"))));
        DocumentBuilder api = builder(null);
        LogEvent e = api.encode(message("refused", 0, null, Map.of()), new AckTracker(ID, null));
        byte[] letter = new DeadLetters("logs-logferry.deadletter-default", Clock.fixed(Instant.parse("2026-12-01T10:00:01Z"),
                ZoneOffset.UTC)).letter(e, 400, "document_parsing_exception", "failed to parse field [log.level]");
        String l = new String(letter, StandardCharsets.UTF_8);
        docs.put("dead letter", STRICT.readTree(l.substring(l.indexOf('\n') + 1)));
        return docs;
    }

    private static JsonNode doc(DocumentBuilder b, Message m) throws Exception {
        int[] start = new int[1];
        byte[] bytes = b.build(m, start);
        return STRICT.readTree(new String(bytes, start[0], bytes.length - start[0], StandardCharsets.UTF_8));
    }

    /** Every leaf of {@code doc} by its full dotted name (a dotted key counts as its parts); arrays by their elements. */
    static void leaves(String prefix, JsonNode node, Map<String, List<JsonNode>> into) {
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                leaves(prefix.isEmpty() ? f.getKey() : prefix + "." + f.getKey(), f.getValue(), into);
            }
        } else if (node.isArray()) {
            node.forEach(v -> leaves(prefix, v, into));
        } else {
            into.computeIfAbsent(prefix, k -> new ArrayList<>()).add(node);
        }
    }

    @Test
    void everyFieldIsEcsWithItsTypeOrADocumentedCustomField() throws Exception {
        JsonNode template = STRICT.readTree(Setup.templateBody(false, ""));
        String docs = Files.readString(Path.of("docs/documents.md"));
        Map<String, String> seen = new TreeMap<>();
        Set<String> problems = new java.util.LinkedHashSet<>();
        for (Map.Entry<String, JsonNode> fixture : fixtures().entrySet()) {
            JsonNode doc = fixture.getValue();
            assertThat(doc.at("/ecs/version").asText()).as("%s: ecs.version", fixture.getKey()).isEqualTo(version).isEqualTo(Ecs.VERSION);
            Map<String, List<JsonNode>> leaves = new TreeMap<>();
            leaves("", doc, leaves);
            for (Map.Entry<String, List<JsonNode>> leaf : leaves.entrySet()) {
                String name = leaf.getKey();
                String where = fixture.getKey() + ": " + name;
                EcsField ecs = ECS.get(name);
                String objectParent = ECS.entrySet().stream().filter(x -> x.getValue().type().equals("object")
                        && name.startsWith(x.getKey() + ".")).map(Map.Entry::getKey).findFirst().orElse(null);
                String custom = customName(name);
                if (ecs != null) {
                    if (!ecs.level().equals("core") && !ecs.level().equals("extended")) {
                        problems.add(where + ": ECS level " + ecs.level());
                    }
                    for (JsonNode v : leaf.getValue()) {
                        if (!fits(ecs.type(), v)) {
                            problems.add(where + ": " + v + " is not a value of ECS type " + ecs.type());
                        }
                    }
                    String mapped = mappedType(template, name, leaf.getValue().get(0));
                    if (!family(mapped).equals(family(ecs.type()))) {
                        problems.add(where + ": the template maps it as " + mapped + ", ECS says " + ecs.type());
                    }
                    seen.put(name, ecs.type() + " (ECS, " + ecs.level() + ")");
                    mentioned(docs, name, where, problems);
                } else if (objectParent != null) {
                    leaf.getValue().stream().filter(v -> !v.isTextual())
                            .forEach(v -> problems.add(where + ": " + v + " in ECS keyword object " + objectParent));
                    seen.put(objectParent + ".*", "keyword (ECS object " + objectParent + ")");
                    mentioned(docs, objectParent, where, problems);
                } else if (custom != null) {
                    String type = CUSTOM.get(custom);
                    for (JsonNode v : leaf.getValue()) {
                        if (!type.equals("any") && !fits(type, v)) {
                            problems.add(where + ": " + v + " is not a " + type);
                        }
                    }
                    seen.put(custom, type + " (custom)");
                    mentioned(docs, custom, where, problems);
                } else if (!fixture.getKey().startsWith("ECS JSON") && !fixture.getKey().equals("JSON") || Ecs.taken(name)) {
                    problems.add(where + ": neither an ECS field of ecs-fields.csv nor a custom field of custom-fields.csv");
                } else {
                    seen.put(name, "the application's own (decoded JSON, not an ECS name)");
                }
            }
        }
        StringBuilder table = new StringBuilder("fields written, ECS " + version + ":\n");
        seen.forEach((k, v) -> table.append(String.format("  %-28s %s%n", k, v)));
        System.out.print(table);
        assertThat(problems).as("%s", table).isEmpty();
        // what the builder and the dead letters write of their own, all seen
        assertThat(seen).containsKeys("ecs.version", "agent.name", "agent.ephemeral_id", "agent.id", "agent.type", "agent.version",
                "service.name", "container.image.tag", "container.labels.*", "labels.*", "log.offset", "log.file.path", "log.flags",
                "docker.api.position", "docker.attrs.*", "error.code", "error.type", "error.message", "event.original",
                "log.logger", "error.stack_trace", "log.origin.file.line", "json.*", "host.name");
    }

    private static String customName(String name) {
        if (CUSTOM.containsKey(name)) {
            return name;
        }
        for (String c : CUSTOM.keySet()) {
            if (c.endsWith(".*") && name.startsWith(c.substring(0, c.length() - 1))) {
                return c;
            }
        }
        return null;
    }

    private static void mentioned(String docs, String name, String where, Set<String> problems) {
        if (!docs.contains("`" + name + "`")) {
            problems.add("`" + name + "` is not in docs/documents.md");
        }
    }

    private static boolean fits(String type, JsonNode v) {
        return switch (type) {
            case "keyword", "constant_keyword", "wildcard", "match_only_text", "text" -> v.isTextual();
            case "long" -> v.isIntegralNumber();
            case "date" -> v.isTextual() && parses(v.asText());
            default -> false;
        };
    }

    private static boolean parses(String date) {
        try {
            Instant.parse(date);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** keyword, text, number, date or object. */
    static String family(String type) {
        return switch (type) {
            case "keyword", "constant_keyword", "wildcard" -> "keyword";
            case "match_only_text", "text" -> "text";
            case "long", "integer", "short", "byte" -> "number";
            case "date", "date_nanos" -> "date";
            case "object", "flattened" -> "object";
            default -> type;
        };
    }

    /** The type the template gives a field: its explicit mapping, else the dynamic template that would match a string. */
    static String mappedType(JsonNode template, String name, JsonNode value) {
        JsonNode props = template.path("template").path("mappings").path("properties");
        String[] parts = name.split("\\.");
        JsonNode m = null;
        for (int i = 0; i < parts.length; i++) {
            m = props.path(parts[i]);
            if (m.isMissingNode()) {
                break;
            }
            if (i < parts.length - 1) {
                props = m.path("properties");
            }
        }
        if (m != null && !m.isMissingNode() && m.has("type")) {
            return m.path("type").asText();
        }
        if (value.isIntegralNumber()) {
            return "long"; // Elasticsearch's dynamic mapping of a whole number
        }
        for (JsonNode dt : template.path("template").path("mappings").path("dynamic_templates")) {
            JsonNode d = dt.elements().next();
            String pm = d.path("path_match").asText("");
            boolean byPath = !pm.isEmpty() && name.startsWith(pm.substring(0, pm.length() - 1));
            if (byPath || (pm.isEmpty() && d.path("match_mapping_type").asText().equals("string"))) {
                return d.path("mapping").path("type").asText();
            }
        }
        return "unmapped";
    }

    @Test
    void theCustomFieldsAreFewAndNoneIsAnEcsName() {
        Set<String> clash = new TreeSet<>();
        for (String c : CUSTOM.keySet()) {
            String n = c.endsWith(".*") ? c.substring(0, c.length() - 2) : c;
            if (ECS.containsKey(n)) {
                clash.add(c);
            }
        }
        assertThat(clash).isEmpty();
        assertThat(ECS.keySet()).allSatisfy(f -> assertThat(Ecs.ROOT_NAMES).contains(Ecs.root(f)));
    }
}
