package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.testcontainers.containers.GenericContainer;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What an operator does and watches, in order, on an extra Elasticsearch node of its own (it is
 * stopped in the middle; the shared server never is):
 * <ol>
 * <li>{@code logferry setup} on an empty cluster creates the index template, and imports the data
 * view and saved search into "Kibana" — a loopback stand-in that records the request, since
 * Kibana cannot run here;</li>
 * <li>{@code logferry check} reaches everything and lists the container it would ship, with its settings;</li>
 * <li>an agent started with {@code setup.enabled: false} ships a container, so the template it
 * writes under is the one {@code setup} made: {@code @timestamp} is {@code date_nanos};</li>
 * <li>{@code /metrics} counts equal what reached Elasticsearch;</li>
 * <li>{@code /ready} turns 503 when Elasticsearch stops, though the agent is idle, and 200 when it is back; {@code /health} stays 200 (degraded) meanwhile.</li>
 * </ol>
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperationsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RUN = TestEnv.uniqueName("ops");
    private static final String INDEX = "logs-docker-" + RUN;
    private static final Map<String, String> LABELS = Map.of("logferry.test", RUN, "logferry.multiline", "java");

    private static EsNode node;
    private static Es es;
    private static StandIn kibana;
    private static Path dir;
    private static Path config;
    private static AgentProcess agent;
    private static final List<GenericContainer<?>> containers = new ArrayList<>();

    @BeforeAll
    static void startNode() throws Exception {
        dir = Files.createTempDirectory("ops-it");
        node = EsNode.single("ops");
        node.startAsync();      // starts while the stand-in and the config are made
        kibana = new StandIn(c -> {
            if (c.method().equals("POST") && c.path().startsWith("/api/saved_objects/_import")) {
                return new StandIn.Reply(200, "{\"success\":true,\"successCount\":2,\"successResults\":[]}");
            }
            if (c.method().equals("GET") && c.path().equals("/api/status")) {
                return new StandIn.Reply(200, "{\"name\":\"kibana\",\"version\":{\"number\":\"8.19.21\"}}");
            }
            return new StandIn.Reply(404, "{\"statusCode\":404,\"message\":\"Not Found\"}");
        });
        config = dir.resolve("logferry.yml");
        Files.writeString(config, """
                docker:
                  host: %s
                  containers_path: %s
                selection:
                  include_labels: ["logferry.test=%s"]
                defaults:
                  namespace: %s
                elasticsearch:
                  hosts: [%s]
                  username: kibana-user
                  password: %s
                kibana:
                  url: %s
                registry:
                  path: %s
                """.formatted(TestEnv.dockerHost(), TestEnv.containersPath(), RUN, RUN, node.url(), "pw-" + RUN,
                kibana.url(), dir.resolve("check-registry.json")));
        node.awaitUp();
        es = new Es(node.url());
    }

    @AfterAll
    static void stopAll() throws Exception {
        if (agent != null) {
            agent.close();
        }
        containers.forEach(GenericContainer::stop);
        if (kibana != null) {
            kibana.close();
        }
        if (node != null) {
            node.close();
        }
    }

    @Test
    @Order(1)
    void setupInstallsTheTemplateAndTheKibanaObjects() throws Exception {
        assertThat(es.request("GET", "/_index_template/logferry", null).path("_status").asInt()).as("no template before setup").isEqualTo(404);

        Cli r = Cli.run(dir, Map.of(), "setup", "--config", config.toString());
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("index template 'logferry' installed").contains("imported into " + kibana.url());
        assertThat(r.err()).as(r.toString()).isEmpty();

        JsonNode t = es.request("GET", "/_index_template/logferry", null).path("index_templates").path(0).path("index_template");
        assertThat(t.path("index_patterns").toString()).contains("logs-docker*");
        assertThat(t.path("data_stream").isObject()).isTrue();
        JsonNode props = t.path("template").path("mappings").path("properties");
        assertThat(props.path("@timestamp").path("type").asText()).isEqualTo("date_nanos");
        assertThat(props.path("message").path("type").asText()).isEqualTo("text");
        assertThat(props.path("container").path("properties").path("name").path("type").asText()).isEqualTo("keyword");
        // this distribution has no data-streams module, so no lifecycle API: setup says so instead of setting one
        assertThat(r.out()).contains("no lifecycle: this cluster does not manage data stream lifecycles");
        assertThat(t.path("template").has("lifecycle")).isFalse();

        List<StandIn.Call> calls = kibana.calls();
        assertThat(calls).hasSize(1);
        StandIn.Call imp = calls.get(0);
        assertThat(imp.method()).isEqualTo("POST");
        assertThat(imp.path()).isEqualTo("/api/saved_objects/_import?overwrite=true");
        assertThat(imp.header("kbn-xsrf")).isEqualTo("true");
        assertThat(imp.header("authorization")).isEqualTo(EsNode.basic("kibana-user", "pw-" + RUN));
        assertThat(imp.header("content-type")).startsWith("multipart/form-data; boundary=");
        String body = imp.text();
        assertThat(body).contains("Content-Disposition: form-data; name=\"file\"; filename=\"logferry.ndjson\"");
        List<JsonNode> objects = new ArrayList<>();
        for (String line : body.lines().toList()) {
            if (line.startsWith("{")) {
                objects.add(JSON.readTree(line));
            }
        }
        JsonNode view = objects.stream().filter(o -> o.path("type").asText().equals("index-pattern")).findFirst().orElseThrow();
        assertThat(view.path("attributes").path("title").asText()).isEqualTo("logs-*");
        assertThat(view.path("attributes").path("timeFieldName").asText()).isEqualTo("@timestamp");
        JsonNode search = objects.stream().filter(o -> o.path("type").asText().equals("search")).findFirst().orElseThrow();
        assertThat(search.path("references").path(0).path("id").asText()).isEqualTo(view.path("id").asText());
        // the same objects as the file the docs tell users to import by hand
        assertThat(body).contains(Files.readString(Path.of("config/kibana/logferry.ndjson")).strip());

        Cli again = Cli.run(dir, Map.of(), "setup", "--config", config.toString());
        assertThat(again.exit()).as("setup runs again without harm: %s", again).isZero();
    }

    @Test
    @Order(2)
    void checkReachesEverythingAndListsWhatItWouldShip() throws Exception {
        GenericContainer<?> c = Containers.oneShot(RUN + "-a", LABELS, Containers.numbered("a", 500, true));
        containers.add(c);
        c.start();

        Cli r = Cli.run(dir, Map.of(), "check", "--config", config.toString());
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.err()).as(r.toString()).isEmpty();
        assertThat(r.out())
                .contains("docker: ok: Docker ")
                .contains("elasticsearch: ok: cluster ")
                .contains("index template 'logferry': installed")
                .contains("kibana: ok: Kibana 8.19.21")
                .contains("password ******")
                .doesNotContain("pw-" + RUN)
                .contains("check: ok");
        String ship = r.out().lines().filter(l -> l.contains("ship  " + RUN + "-a ")).findFirst().orElseThrow(() -> new AssertionError(r.out()));
        assertThat(ship).contains("-> " + INDEX).contains("multiline java").contains("streams all").contains("json false");

        // Docker unreachable: one line naming it, exit 1
        Cli bad = Cli.run(dir, Map.of("LOGFERRY_DOCKER_HOST", "unix://" + dir.resolve("no-such.sock")), "check", "--config", config.toString());
        assertThat(bad.exit()).as(bad.toString()).isEqualTo(1);
        assertThat(bad.errLines()).as(bad.toString()).singleElement().asString().startsWith("docker: cannot reach unix://");
    }

    @Test
    @Order(3)
    void aShippedDocumentHasDateNanosAndTheMetricsMatchElasticsearch() throws Exception {
        agent = new AgentProcess(dir, RUN, "logferry.test=" + RUN, "", Map.of(
                "LOGFERRY_ELASTICSEARCH_HOSTS", node.url(),
                "LOGFERRY_SETUP_ENABLED", "false"));
        agent.start();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count(INDEX) >= 1000);

        JsonNode mapping = es.request("GET", "/" + INDEX + "/_mapping", null);
        String backing = mapping.fieldNames().next();
        assertThat(backing).as("a data stream's backing index").startsWith(".ds-" + INDEX);
        assertThat(mapping.path(backing).path("mappings").path("properties").path("@timestamp").path("type").asText()).isEqualTo("date_nanos");
        List<JsonNode> docs = es.all(INDEX, "message", "stream", "@timestamp", "container.id", "log.offset");
        assertThat(docs.get(0).path("@timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{1,9}Z");
        Containers.assertExactlyOnce(docs, Map.of("a", 500), true);

        assertMetricsMatch(1000);
    }

    private static void assertMetricsMatch(long expected) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                .until(() -> agent.metric("logferry_events_acked_total") == expected && agent.metric("logferry_queue_events") == 0);
        assertThat(es.count(INDEX)).isEqualTo(expected);
        assertThat(agent.metric("logferry_events_read_total")).isEqualTo(expected);
        assertThat(agent.metric("logferry_events_acked_total")).isEqualTo(expected);
        assertThat(agent.metric("logferry_events_dead_lettered_total")).isZero();
        assertThat(agent.metric("logferry_events_duplicate_total")).isZero();
        assertThat(agent.metric("logferry_queue_bytes")).isZero();
        assertThat(agent.metric("logferry_bulk_request_duration_seconds_count")).isPositive();
        // the per-stage latency histograms are there, both series of each (issue 25; their values are timings: not asserted)
        for (String stage : List.of("read_lag", "queue_wait", "delivery")) {
            for (String tailer : List.of("caught_up", "behind")) {
                String series = "logferry_event_" + stage + "_seconds_count{tailer=\"" + tailer + "\"}";
                assertThat(agent.metric(series)).as(series).isNotNegative();
                assertThat(agent.metric("logferry_event_" + stage + "_seconds_bucket{tailer=\"" + tailer + "\",le=\"+Inf\"}"))
                        .as(series).isEqualTo(agent.metric(series));
            }
        }
        // every acknowledged event was counted once in the delivery stage
        assertThat(agent.metric("logferry_event_delivery_seconds_count{tailer=\"caught_up\"}")
                + agent.metric("logferry_event_delivery_seconds_count{tailer=\"behind\"}")).isEqualTo(expected);
    }

    @Test
    @Order(4)
    void readyTurns503WhenElasticsearchStopsAnd200WhenItIsBackWhileHealthStays200() throws Exception {
        HttpResponse<String> up = agent.getResponse("/health");
        assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
        assertThat(up.body()).contains("\"status\":\"up\"");
        assertThat(agent.getResponse("/ready").statusCode()).isEqualTo(200);
        assertThat(agent.metric("logferry_elasticsearch_up")).isEqualTo(1);

        long t0 = System.nanoTime();
        node.stop();     // the agent is idle: nothing is being sent that could notice
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .until(() -> agent.getResponse("/ready").statusCode() == 503);
        long downMs = (System.nanoTime() - t0) / 1_000_000;
        HttpResponse<String> notReady = agent.getResponse("/ready");
        assertThat(notReady.body()).contains("\"status\":\"not_ready\"").contains("elasticsearch").contains("cannot connect to " + node.url());
        // the liveness stays: the agent does its job (reads, queues, retries), a restart would not help
        HttpResponse<String> live = agent.getResponse("/health");
        assertThat(live.statusCode()).as(live.body()).isEqualTo(200);
        assertThat(live.body()).contains("\"status\":\"degraded\"").contains("cannot connect to " + node.url());
        assertThat(agent.metric("logferry_elasticsearch_up")).isZero();

        node.start();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
                .until(() -> agent.getResponse("/ready").statusCode() == 200);
        assertThat(agent.getResponse("/health").body()).contains("\"status\":\"up\"");
        assertThat(agent.metric("logferry_elasticsearch_up")).isEqualTo(1);
        System.out.println("OperationsIT: /ready said 503 " + downMs + " ms after the node stopped");

        // and it ships again, with the counts still matching
        GenericContainer<?> c = Containers.oneShot(RUN + "-b", LABELS, Containers.numbered("b", 200, false));
        containers.add(c);
        c.start();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> es.count(INDEX) >= 1200);
        assertMetricsMatch(1200);
    }
}
