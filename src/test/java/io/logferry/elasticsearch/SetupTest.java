package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class SetupTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theTemplateMapsTimestampAsDateNanosForDataStreams() throws Exception {
        JsonNode t = JSON.readTree(Setup.templateBody(false, "30d"));
        assertThat(t.path("index_patterns").toString()).contains("logs-docker*").contains("logs-logferry*");
        assertThat(t.path("data_stream").isObject()).isTrue();
        JsonNode p = t.path("template").path("mappings").path("properties");
        assertThat(p.path("@timestamp").path("type").asText()).isEqualTo("date_nanos");
        assertThat(p.path("message").path("type").asText()).isEqualTo("match_only_text");
        assertThat(p.path("host").path("properties").path("name").path("type").asText()).isEqualTo("keyword");
        assertThat(t.path("template").has("lifecycle")).as("no lifecycle where the cluster has none").isFalse();
    }

    @Test
    void fieldsBeyondTheLimitAndMalformedValuesDoNotRefuseADocument() throws Exception {
        JsonNode t = JSON.readTree(Setup.templateBody(false, ""));
        JsonNode mapping = t.path("template").path("settings").path("index").path("mapping");
        assertThat(mapping.path("total_fields").path("limit").asInt()).isEqualTo(2000);
        assertThat(mapping.path("total_fields").path("ignore_dynamic_beyond_limit").asBoolean()).isTrue();
        assertThat(mapping.path("ignore_malformed").asBoolean()).isTrue();
        assertThat(t.path("_meta").path("managed_by").asText()).isEqualTo("logferry");
        assertThat(t.path("template").path("mappings").path("properties").path("document").path("properties")
                .path("index").path("type").asText()).isEqualTo("keyword");

        // for a cluster before 8.13: the same template without the one setting it does not know
        com.fasterxml.jackson.databind.node.ObjectNode older = (com.fasterxml.jackson.databind.node.ObjectNode) t;
        assertThat(Setup.withoutBeyondLimit(older)).isTrue();
        assertThat(older.path("template").path("settings").path("index").path("mapping").path("total_fields").has("ignore_dynamic_beyond_limit")).isFalse();
        assertThat(older.path("template").path("settings").path("index").path("mapping").path("total_fields").path("limit").asInt()).isEqualTo(2000);
        assertThat(Setup.withoutBeyondLimit(older)).as("not there any more").isFalse();
    }

    @Test
    void aLifecycleWithRetentionWhereTheClusterManagesThem() throws Exception {
        JsonNode lc = JSON.readTree(Setup.templateBody(true, " 30d ")).path("template").path("lifecycle");
        assertThat(lc.path("enabled").asBoolean()).isTrue();
        assertThat(lc.path("data_retention").asText()).isEqualTo("30d");

        JsonNode none = JSON.readTree(Setup.templateBody(true, "")).path("template").path("lifecycle");
        assertThat(none.path("enabled").asBoolean()).isTrue();
        assertThat(none.has("data_retention")).as("no retention given: kept until deleted").isFalse();
    }

    @Test
    void theKibanaObjectsInTheJarAreTheFileTheDocsShip() throws Exception {
        byte[] inJar = KibanaSetup.objects();
        byte[] file = Files.readAllBytes(Path.of("config/kibana/logferry.ndjson"));
        assertThat(new String(inJar, StandardCharsets.UTF_8))
                .as("src/main/resources/kibana/logferry.ndjson must be a copy of config/kibana/logferry.ndjson")
                .isEqualTo(new String(file, StandardCharsets.UTF_8));
        boolean view = false;
        boolean search = false;
        for (String line : new String(inJar, StandardCharsets.UTF_8).lines().toList()) {
            JsonNode o = JSON.readTree(line);
            if (o.path("type").asText().equals("index-pattern")) {
                view = o.path("attributes").path("title").asText().equals("logs-*")
                        && o.path("attributes").path("timeFieldName").asText().equals("@timestamp");
            }
            if (o.path("type").asText().equals("search")) {
                search = o.path("references").path(0).path("type").asText().equals("index-pattern");
            }
        }
        assertThat(view).as("a data view logs-* on @timestamp").isTrue();
        assertThat(search).as("a saved search on that data view").isTrue();
    }

    @Test
    void composedOfTheClustersOwnComponentTemplatesWithOursOnTop() throws Exception {
        JsonNode alone = JSON.readTree(Setup.templateBody(true, ""));
        assertThat(alone.path("composed_of").size()).isZero();
        assertThat(alone.path("priority").asInt()).as("below Fleet's 200").isEqualTo(Setup.PRIORITY).isLessThan(200);
        assertThat(alone.at("/template/settings/index/lifecycle").isMissingNode()).isTrue();
        JsonNode composed = JSON.readTree(Setup.templateBody(true, "", java.util.List.of("logs@settings", "ecs@mappings")));
        assertThat(composed.path("composed_of").toString()).isEqualTo("[\"logs@settings\",\"ecs@mappings\"]");
        assertThat(composed.at("/template/settings/index/lifecycle/prefer_ilm").asBoolean(true))
                .as("the data stream lifecycle, not logs@settings' ILM policy").isFalse();
        assertThat(composed.at("/template/settings/index/default_pipeline").asText()).isEqualTo("_none");
        assertThat(composed.at("/template/mappings/date_detection").asBoolean(true)).isFalse();
        JsonNode p = composed.at("/template/mappings/properties");
        assertThat(p.at("/data_stream/properties/dataset/type").asText()).isEqualTo("constant_keyword");
        assertThat(p.at("/container/properties/labels/type").asText())
                .as("not flattened: it cost Elasticsearch more CPU per document (docs/documents.md)").isEqualTo("object");
        assertThat(p.at("/error/properties/stack_trace/type").asText()).isEqualTo("wildcard");
    }

    @Test
    void typesTheClusterLacksFallBackToTextAndKeyword() throws Exception {
        com.fasterxml.jackson.databind.node.ObjectNode t =
                (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(Setup.templateBody(false, ""));
        for (String type : new String[] {"match_only_text", "constant_keyword", "wildcard", "flattened"}) {
            assertThat(Setup.fallBack(t, type)).as(type).isTrue();
            assertThat(Setup.fallBack(t, type)).as("%s: nothing left", type).isFalse();
            assertThat(t.toString()).doesNotContain("\"type\":\"" + type + "\"");
        }
        JsonNode p = t.at("/template/mappings/properties");
        assertThat(p.at("/message/type").asText()).isEqualTo("text");
        assertThat(p.at("/error/properties/stack_trace/type").asText()).isEqualTo("keyword");
        assertThat(p.at("/error/properties/stack_trace/ignore_above").asInt()).as("no immense terms").isEqualTo(1024);
        assertThat(p.at("/error/properties/stack_trace/fields/text/type").asText()).isEqualTo("text");
        assertThat(p.at("/data_stream/properties/namespace/type").asText()).isEqualTo("keyword");
        // the field of retyped documents still takes any shape: an object Elasticsearch does not parse
        assertThat(p.at("/logferry/properties/flattened").toString()).isEqualTo("{\"type\":\"object\",\"enabled\":false}");
    }
}
