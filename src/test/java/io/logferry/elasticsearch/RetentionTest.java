package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.logferry.config.Config;
import io.logferry.config.ConfigException;
import io.logferry.config.ConfigLoader;
import org.elasticsearch.client.RestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * {@code setup.data_retention} and {@code setup.ilm_policy} on every template the agent puts, the
 * main one and each dataset's, against a scripted cluster on loopback (the test distribution of
 * Elasticsearch has neither ILM nor data stream lifecycles, so the requests are checked here).
 */
class RetentionTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private HttpServer server;
    private final Map<String, JsonNode> put = new ConcurrentHashMap<>();

    private RestClient cluster(boolean dsl, boolean ilm) throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            String path = ex.getRequestURI().getPath();
            int status = 404;
            String body = "{\"error\":\"no\",\"status\":404}";
            if (path.equals("/_data_stream/_lifecycle/stats") && dsl || path.equals("/_ilm/status") && ilm) {
                status = 200;
                body = "{}";
            } else if (ex.getRequestMethod().equals("GET") && path.startsWith("/_index_template/")) {
                status = 200;
                body = "{\"index_templates\":[]}";
            } else if (ex.getRequestMethod().equals("PUT") && path.startsWith("/_index_template/")) {
                put.put(path.substring("/_index_template/".length()), JSON.readTree(ex.getRequestBody()));
                status = 200;
                body = "{\"acknowledged\":true}";
            }
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(status, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        server.start();
        return EsConnection.build(new Config.Elasticsearch(List.of("http://127.0.0.1:" + server.getAddress().getPort()), "", "", "",
                "", "", Config.TlsVerify.FULL, 100, 1 << 20, Duration.ofMillis(10), 1, Duration.ofSeconds(5),
                Duration.ofMillis(1), Duration.ofMillis(5), "logs-logferry.deadletter-test"));
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void theDataRetentionIsOnTheMainTemplateAndEveryDatasetsOne() throws Exception {
        try (RestClient client = cluster(true, false)) {
            Config.Retention r = new Config.Retention("30d", "");
            Setup.Result result = Setup.installTemplate(client, r, null);
            new DatasetTemplates(client, null, ms -> false, r).ensure("nginx");
            assertThat(result.describe()).contains("data stream lifecycle on, data_retention 30d");
        }
        assertThat(put).containsOnlyKeys("logferry", "logferry-nginx");
        for (JsonNode t : put.values()) {
            assertThat(t.path("template").path("lifecycle").path("data_retention").asText()).isEqualTo("30d");
            assertThat(t.path("template").path("settings").path("index").path("lifecycle").path("name").isMissingNode()).isTrue();
        }
    }

    @Test
    void anIlmPolicyWinsWhereTheClusterRunsIlmAndIsLeftOutWhereItDoesNot() throws Exception {
        try (RestClient client = cluster(true, true)) {
            Config.Retention r = new Config.Retention("30d", "logs-keep-90d");
            assertThat(Setup.installTemplate(client, r, null).describe()).contains("ILM policy logs-keep-90d");
            new DatasetTemplates(client, null, ms -> false, r).ensure("nginx");
        }
        for (JsonNode t : put.values()) {
            JsonNode lc = t.path("template").path("settings").path("index").path("lifecycle");
            assertThat(lc.path("name").asText()).isEqualTo("logs-keep-90d");
            assertThat(lc.path("prefer_ilm").asBoolean()).isTrue();
            assertThat(t.path("template").has("lifecycle")).as("no data stream lifecycle beside the policy").isFalse();
        }
        stop();
        put.clear();
        try (RestClient client = cluster(true, false)) {
            Setup.installTemplate(client, new Config.Retention("30d", "logs-keep-90d"), null);
        }
        JsonNode t = put.get("logferry");
        assertThat(t.path("template").path("settings").path("index").path("lifecycle").path("name").isMissingNode())
                .as("a cluster without ILM would refuse the setting").isTrue();
        assertThat(t.path("template").path("lifecycle").path("data_retention").asText()).isEqualTo("30d");
    }

    @Test
    void theConfigRefusesARetentionOrPolicyItCannotSend() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader(Map.of(
                "LOGFERRY_SETUP_DATA_RETENTION", "30 days", "LOGFERRY_SETUP_ILM_POLICY", "a b")).load(null));
        assertThat(e.problems()).containsExactly(
                "config: key 'setup.data_retention' must be an Elasticsearch time value such as 30d, 12h or 90m, got '30 days'",
                "config: key 'setup.ilm_policy' must be a policy name (letters, digits, . _ @ -), got 'a b'");
    }
}
