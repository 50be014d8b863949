package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.logferry.config.Config;
import io.logferry.elasticsearch.DatasetTemplates;
import io.logferry.elasticsearch.EsConnection;
import io.logferry.elasticsearch.Setup;
import io.logferry.metrics.Metrics;
import org.elasticsearch.client.RestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The dataset templates against the real Elasticsearch: a template of someone else's, for the
 * dataset or under logferry's name, is left exactly as it was and the dataset goes on (counted);
 * where logferry does put its template, a document with 2,000 distinct keys and one with a value
 * that does not fit its field's type are both accepted.
 */
class TemplatesIT {
    private final Es es = new Es(TestEnv.esUrl());
    private final Metrics metrics = new Metrics();
    private final List<String> templates = new ArrayList<>();
    private final List<String> streams = new ArrayList<>();
    private RestClient client;
    private DatasetTemplates gate;

    @BeforeEach
    void connect() throws Exception {
        Config.Elasticsearch cfg = new Config.Elasticsearch(List.of(TestEnv.esUrl()), "", "", "", "", "", Config.TlsVerify.FULL,
                100, 1 << 20, Duration.ofSeconds(1), 1, Duration.ofSeconds(10), Duration.ofSeconds(1), Duration.ofSeconds(5),
                "logs-logferry.deadletter-default");
        client = EsConnection.build(cfg);
        gate = new DatasetTemplates(client, metrics);
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (String s : streams) {
            es.request("DELETE", "/_data_stream/" + s, null);
            es.request("DELETE", "/" + s, null);
        }
        for (String t : templates) {
            es.request("DELETE", "/_index_template/" + t, null);
        }
        client.close();
    }

    private JsonNode template(String name) {
        JsonNode n = es.request("GET", "/_index_template/" + name, null);
        return n.path("index_templates").path(0).path("index_template");
    }

    private void putForeign(String name, String pattern, int priority) {
        templates.add(name);
        JsonNode r = es.request("PUT", "/_index_template/" + name, "{\"index_patterns\":[\"" + pattern + "\"],\"priority\":" + priority
                + ",\"data_stream\":{},\"_meta\":{\"owner\":\"the operator\"},\"template\":{\"mappings\":{\"properties\":"
                + "{\"message\":{\"type\":\"keyword\"}}}}}");
        assertThat(r.path("acknowledged").asBoolean()).as("put %s: %s", name, r).isTrue();
    }

    @Test
    void aTemplateOfSomeoneElsesForTheDatasetIsNeverShadowed() throws Exception {
        String ds = TestEnv.uniqueName("lfcown");
        putForeign("operator-" + ds, "logs-" + ds + "-*", 150);
        templates.add("logferry-" + ds);
        JsonNode before = template("operator-" + ds);

        gate.ensure(ds);

        assertThat(template("operator-" + ds)).isEqualTo(before);
        assertThat(es.request("GET", "/_index_template/logferry-" + ds, null).path("_status").asInt()).as("not put").isEqualTo(404);
        assertThat(metrics.value(Setup.SKIPPED_METRIC, "reason", "would_shadow")).isEqualTo(1);
        // once per dataset: asked again, nothing more is done or counted
        gate.ensure(ds);
        assertThat(metrics.value(Setup.SKIPPED_METRIC, "reason", "would_shadow")).isEqualTo(1);
    }

    @Test
    void aTemplateUnderLogferrysNameThatLogferryDidNotPutIsLeftAsItIs() throws Exception {
        String ds = TestEnv.uniqueName("lfcname");
        // its pattern is for other streams: only the name is taken
        putForeign("logferry-" + ds, "other-" + ds + "-*", 150);
        JsonNode before = template("logferry-" + ds);

        gate.ensure(ds);

        assertThat(template("logferry-" + ds)).isEqualTo(before);
        assertThat(template("logferry-" + ds).path("_meta").path("owner").asText()).isEqualTo("the operator");
        assertThat(metrics.value(Setup.SKIPPED_METRIC, "reason", "not_ours")).isEqualTo(1);
    }

    @Test
    void whereLogferryPutsItsTemplateExtraFieldsAndMalformedValuesDoNotRefuseTheDocument() throws Exception {
        String ds = TestEnv.uniqueName("lfcfields");
        String stream = "logs-" + ds + "-default";
        templates.add("logferry-" + ds);
        streams.add(stream);

        gate.ensure(ds);
        JsonNode t = template("logferry-" + ds);
        assertThat(t.path("_meta").path("managed_by").asText()).isEqualTo("logferry");
        JsonNode mapping = t.path("template").path("settings").path("index").path("mapping");
        assertThat(mapping.path("total_fields").path("ignore_dynamic_beyond_limit").asText())
                .as("Elasticsearch 8.13+ keeps the setting: %s", t).isEqualTo("true");
        assertThat(mapping.path("ignore_malformed").asText()).isEqualTo("true");

        // 2,000 distinct keys: with the ECS fields, beyond the limit of 2,000 fields
        StringBuilder wide = new StringBuilder("{\"@timestamp\":\"2026-12-01T10:00:00.000000001Z\",\"message\":\"wide\"");
        for (int i = 0; i < 2000; i++) {
            wide.append(",\"k").append(i).append("\":\"v").append(i).append('"');
        }
        wide.append('}');
        JsonNode r1 = es.request("PUT", "/" + stream + "/_create/wide?refresh=true", wide.toString());
        assertThat(r1.path("_status").asInt()).as("%s", r1).isEqualTo(201);

        // log.offset and log.origin.file.line are longs, @timestamp date_nanos: a string that is neither does not refuse the document
        JsonNode r2 = es.request("PUT", "/" + stream + "/_create/malformed?refresh=true",
                "{\"@timestamp\":\"2026-12-01T10:00:00.000000002Z\",\"message\":\"malformed\",\"log\":{\"offset\":\"not a number\"},"
                        + "\"log.origin\":{\"file\":{\"line\":\"x\"}}}");
        assertThat(r2.path("_status").asInt()).as("%s", r2).isEqualTo(201);

        JsonNode hits = es.request("GET", "/" + stream + "/_search?q=message:wide", null).path("hits").path("hits");
        assertThat(hits.size()).isEqualTo(1);
        assertThat(hits.path(0).path("_ignored").size()).as("the fields beyond the limit are ignored, not refused")
                .isGreaterThan(0);
        assertThat(hits.path(0).path("_source").path("k1999").asText()).as("and kept in _source").isEqualTo("v1999");
        JsonNode bad = es.request("GET", "/" + stream + "/_search?q=message:malformed", null).path("hits").path("hits");
        assertThat(bad.path(0).path("_ignored").toString()).contains("log.offset").contains("log.origin.file.line");
        assertThat(metrics.value(Setup.SKIPPED_METRIC, "reason", "would_shadow")).isZero();
    }
}
