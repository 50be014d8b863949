package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.logferry.config.Config;
import io.logferry.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The saved objects {@code logferry setup} imports into Kibana ({@code kibana/logferry.ndjson}),
 * checked without a Kibana (there is none on the test machines): every line is JSON; every
 * reference resolves to an object of the file; the dashboard's panels (Lens visualizations by
 * value inside {@code panelsJSON}, the 8.x export format, and the saved search by reference) have
 * their references in the dashboard's {@code references} as Kibana extracts them
 * ({@code <panelIndex>:indexpattern-datasource-layer-<layer>}, {@code <panelIndex>:<panelRefName>}),
 * all on the data view; every field a visualization or a query uses is in logferry's index
 * template. Format taken from Kibana's own sample data (elastic/kibana
 * {@code src/plugins/home/server/services/sample_data/data_sets/flights/saved_objects.ts}).
 */
class KibanaObjectsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern KQL_FIELD = Pattern.compile("([A-Za-z_@][\\w.@]*)\\s*:");

    @TempDir
    Path dir;

    private static List<JsonNode> objects() throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : new String(KibanaSetup.objects(), StandardCharsets.UTF_8).lines().toList()) {
            if (!line.isBlank()) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }

    /** Every field of the index template's mappings, dotted. */
    private static Set<String> templateFields() throws IOException {
        JsonNode t = JSON.readTree(KibanaObjectsTest.class.getResourceAsStream("/elasticsearch/index-template.json"));
        Set<String> out = new HashSet<>();
        collect(t.at("/template/mappings/properties"), "", out);
        return out;
    }

    private static void collect(JsonNode props, String prefix, Set<String> out) {
        for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.add(prefix + e.getKey());
            if (e.getValue().has("properties")) {
                collect(e.getValue().get("properties"), prefix + e.getKey() + ".", out);
            }
        }
    }

    @Test
    void everyObjectIsValidAndEveryReferenceResolvesInTheFile() throws IOException {
        List<JsonNode> all = objects();
        JsonNode summary = all.get(all.size() - 1);
        List<JsonNode> objs = all.subList(0, all.size() - 1);
        assertThat(summary.path("exportedCount").asInt()).as("the export summary counts the objects").isEqualTo(objs.size());
        assertThat(summary.path("missingRefCount").asInt()).isZero();
        Map<String, String> typeOf = new HashMap<>();
        for (JsonNode o : objs) {
            assertThat(o.path("id").asText()).as("id of %s", o).isNotEmpty();
            assertThat(o.path("type").asText()).isIn("index-pattern", "search", "dashboard");
            assertThat(o.path("attributes").path("title").asText()).isNotEmpty();
            assertThat(o.path("references").isArray()).isTrue();
            assertThat(o.path("coreMigrationVersion").asText()).as("an 8.x export").startsWith("8.");
            assertThat(typeOf.put(o.path("type").asText() + ":" + o.path("id").asText(), o.path("id").asText())).as("unique ids").isNull();
        }
        for (JsonNode o : objs) {
            for (JsonNode r : o.path("references")) {
                assertThat(typeOf).as("reference %s of %s", r, o.path("id")).containsKey(r.path("type").asText() + ":" + r.path("id").asText());
            }
        }
        assertThat(objs).extracting(o -> o.path("type").asText()).containsExactly("index-pattern", "search", "dashboard");
    }

    @Test
    void theDashboardsPanelsAreOnTheDataViewAndUseFieldsOfTheTemplate() throws IOException {
        List<JsonNode> objs = objects();
        JsonNode view = objs.stream().filter(o -> o.path("type").asText().equals("index-pattern")).findFirst().orElseThrow();
        JsonNode dash = objs.stream().filter(o -> o.path("type").asText().equals("dashboard")).findFirst().orElseThrow();
        String viewId = view.path("id").asText();
        Set<String> fields = templateFields();
        Map<String, JsonNode> refs = new HashMap<>();
        for (JsonNode r : dash.path("references")) {
            assertThat(refs.put(r.path("name").asText(), r)).as("unique reference names").isNull();
        }
        JsonNode panels = JSON.readTree(dash.at("/attributes/panelsJSON").asText());
        JSON.readTree(dash.at("/attributes/optionsJSON").asText());
        JsonNode source = JSON.readTree(dash.at("/attributes/kibanaSavedObjectMeta/searchSourceJSON").asText());
        assertThat(source.path("query").path("language").asText()).isEqualTo("kuery");

        Set<String> split = new HashSet<>();
        Set<String> indexes = new HashSet<>();
        Set<String> used = new HashSet<>();
        boolean deadLetters = false;
        for (JsonNode p : panels) {
            String pid = p.path("panelIndex").asText();
            assertThat(indexes.add(pid)).as("unique panelIndex").isTrue();
            assertThat(p.at("/gridData/i").asText()).isEqualTo(pid);
            assertThat(p.at("/gridData/x").asInt() + p.at("/gridData/w").asInt()).as("within the 48-column grid").isLessThanOrEqualTo(48);
            if (p.path("type").asText().equals("search")) {
                JsonNode r = refs.get(pid + ":" + p.path("panelRefName").asText());
                assertThat(r).as("reference of the saved search panel").isNotNull();
                used.add(r.path("name").asText());
                continue;
            }
            assertThat(p.path("type").asText()).isEqualTo("lens");
            JsonNode a = p.at("/embeddableConfig/attributes");
            assertThat(a.path("visualizationType").asText()).isEqualTo("lnsXY");
            JsonNode layers = a.at("/state/datasourceStates/formBased/layers");
            assertThat(layers.size()).isPositive();
            for (Iterator<Map.Entry<String, JsonNode>> it = layers.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> layer = it.next();
                String name = "indexpattern-datasource-layer-" + layer.getKey();
                JsonNode r = refs.get(pid + ":" + name);
                assertThat(r).as("the dashboard references layer %s of panel %s", layer.getKey(), pid).isNotNull();
                assertThat(r.path("type").asText()).isEqualTo("index-pattern");
                assertThat(r.path("id").asText()).as("on the data view").isEqualTo(viewId);
                used.add(r.path("name").asText());
                assertThat(a.path("references").toString()).contains(name).contains(viewId);
                Set<String> columns = new HashSet<>();
                for (Iterator<Map.Entry<String, JsonNode>> c = layer.getValue().path("columns").fields(); c.hasNext(); ) {
                    Map.Entry<String, JsonNode> col = c.next();
                    columns.add(col.getKey());
                    String f = col.getValue().path("sourceField").asText();
                    if (!f.equals("___records___")) {
                        assertThat(fields).as("field %s of panel %s is in logferry's index template", f, pid).contains(f);
                    }
                    if (col.getValue().path("operationType").asText().equals("terms")) {
                        split.add(f);
                    }
                }
                assertThat(layer.getValue().path("columnOrder")).extracting(JsonNode::asText).containsExactlyInAnyOrderElementsOf(columns);
                JsonNode xy = a.at("/state/visualization/layers/0");
                assertThat(xy.path("layerId").asText()).isEqualTo(layer.getKey());
                assertThat(columns).contains(xy.path("xAccessor").asText(), xy.path("splitAccessor").asText(), xy.path("accessors").path(0).asText());
            }
            String kql = a.at("/state/query/query").asText();
            Matcher m = KQL_FIELD.matcher(kql);
            while (m.find()) {
                assertThat(fields).as("field %s of the query of panel %s", m.group(1), pid).contains(m.group(1));
            }
            deadLetters |= kql.contains("data_stream.dataset : \"logferry.deadletter\"");
        }
        assertThat(split).as("documents per container, per stream, per log.level; dead letters by target")
                .containsExactlyInAnyOrder("container.name", "stream", "log.level", "document.index");
        assertThat(deadLetters).as("a panel of the dead-letter stream (elasticsearch.dead_letter's default dataset)").isTrue();
        assertThat(used).as("no reference the panels do not use").containsExactlyInAnyOrderElementsOf(refs.keySet());
    }

    @Test
    void setupImportsAllObjectsInOneMultipartRequest() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        List<String> heads = new CopyOnWriteArrayList<>();
        List<byte[]> bodies = new CopyOnWriteArrayList<>();
        server.createContext("/", ex -> {
            heads.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " " + ex.getRequestHeaders().getFirst("kbn-xsrf") + " "
                    + ex.getRequestHeaders().getFirst("Content-Type"));
            bodies.add(ex.getRequestBody().readAllBytes());
            byte[] body = "{\"success\":true,\"successCount\":3,\"successResults\":[]}".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        try {
            Path f = dir.resolve("logferry.yml");
            Files.writeString(f, "elasticsearch:\n  username: u\n  password: p\n");
            Config c = new ConfigLoader(Map.of()).load(f);
            KibanaSetup k = new KibanaSetup("http://127.0.0.1:" + server.getAddress().getPort(), c.elasticsearch());
            assertThat(k.importObjects().imported()).isEqualTo(3);
        } finally {
            server.stop(0);
        }
        assertThat(heads).singleElement().asString()
                .startsWith("POST /api/saved_objects/_import?overwrite=true true multipart/form-data; boundary=");
        String body = new String(bodies.get(0), StandardCharsets.UTF_8);
        assertThat(body).contains("name=\"file\"; filename=\"logferry.ndjson\"")
                .contains("\"id\":\"logferry-logs\"").contains("\"id\":\"logferry-container-logs\"").contains("\"id\":\"logferry-overview\"");
        assertThat(body).contains(new String(KibanaSetup.objects(), StandardCharsets.UTF_8));
    }
}
