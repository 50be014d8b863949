package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class IntegrationsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The index_template object of Fleet's nginx.access template, as GET /_index_template/logs-nginx.access answers (trimmed). */
    private static JsonNode fleet(String settings) throws Exception {
        return JSON.readTree("{\"index_patterns\":[\"logs-nginx.access-*\"],\"priority\":200,\"template\":{\"settings\":" + settings
                + "},\"_meta\":{\"managed_by\":\"fleet\"}}");
    }

    @Test
    void namesFollowFleet() {
        assertThat(Integrations.templateName("nginx.access")).isEqualTo("logs-nginx.access");
    }

    @Test
    void describesWhatTheClusterHas() throws Exception {
        assertThat(Integrations.describe("nginx.access", null, false, false))
                .isEqualTo("no index template 'logs-nginx.access' (Elastic's integration for nginx.access is not installed): "
                        + "documents are stored as shipped, not parsed");
        JsonNode t = fleet("{\"index\":{\"default_pipeline\":\"logs-nginx.access-1.20.0\",\"final_pipeline\":\".fleet_final_pipeline-1\"}}");
        assertThat(Integrations.describe("nginx.access", t, true, true)).isEqualTo("index template 'logs-nginx.access' (priority 200), "
                + "ingest pipeline 'logs-nginx.access-1.20.0': documents are parsed by the integration");
        assertThat(Integrations.describe("nginx.access", t, false, true))
                .contains("its ingest pipeline 'logs-nginx.access-1.20.0' is missing: Elasticsearch refuses the documents");
        assertThat(Integrations.describe("nginx.access", t, true, false))
                .contains("its final pipeline '.fleet_final_pipeline-1' is missing");
        // settings written with dotted keys
        JsonNode dotted = fleet("{\"index.default_pipeline\":\"p\"}");
        assertThat(Integrations.setting(dotted, "default_pipeline")).isEqualTo("p");
        assertThat(Integrations.describe("nginx.access", fleet("{}"), false, true)).contains("without a default ingest pipeline");
    }
}
