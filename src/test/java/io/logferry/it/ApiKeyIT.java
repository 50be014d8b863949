package io.logferry.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * API-key authentication. This Elasticsearch distribution cannot create API keys (its security
 * index needs a module it lacks), so a loopback stand-in plays Elasticsearch: it answers the few
 * APIs logferry calls ({@code _cluster/health}, {@code _security/_authenticate}, index templates,
 * the lifecycle probe, {@code _bulk}) only when the request carries
 * {@code Authorization: ApiKey <the key>}, and 401 otherwise, as Elasticsearch does. Every request
 * of {@code check}, {@code setup} and the running agent is checked for the header.
 */
class ApiKeyIT {
    private static final String KEY = Base64.getEncoder().encodeToString("VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw".getBytes(StandardCharsets.UTF_8));
    private static final String RUN = TestEnv.uniqueName("key");

    @TempDir
    Path dir;
    private StandIn es;
    private final AtomicInteger docs = new AtomicInteger();
    private volatile String template;

    @BeforeEach
    void standIn() throws Exception {
        es = new StandIn(c -> {
            if (!("ApiKey " + KEY).equals(c.header("authorization"))) {
                return new StandIn.Reply(401, "{\"error\":{\"type\":\"security_exception\",\"reason\":\"unable to authenticate with provided "
                        + "credentials and anonymous access is not allowed for this request\"},\"status\":401}");
            }
            String path = c.path().replaceAll("\\?.*", "");
            return switch (c.method() + " " + path) {
                case "GET /_cluster/health" -> new StandIn.Reply(200, "{\"cluster_name\":\"stand-in\",\"status\":\"green\"}");
                case "GET /" -> new StandIn.Reply(200, "{\"version\":{\"number\":\"8.19.21\"}}");
                case "GET /_security/_authenticate" -> new StandIn.Reply(200, "{\"username\":\"logferry-svc\",\"api_key\":{\"id\":\"VuaCfGcBCdbkQm-e5aOx\",\"name\":\"logferry\"}}");
                case "GET /_data_stream/_lifecycle/stats" -> new StandIn.Reply(200, "{\"data_stream_count\":0,\"data_streams\":[]}");
                case "GET /_index_template/logferry" -> template == null ? new StandIn.Reply(404, "{}") : new StandIn.Reply(200, "{\"index_templates\":[]}");
                case "PUT /_index_template/logferry" -> {
                    template = c.text();
                    yield new StandIn.Reply(200, "{\"acknowledged\":true}");
                }
                case "POST /_bulk" -> {
                    StringBuilder items = new StringBuilder();
                    for (String line : c.text().split("\n")) {
                        if (line.startsWith("{\"create\"")) {
                            items.append(items.isEmpty() ? "" : ",").append("{\"create\":{\"_index\":\"logs-docker-x\",\"status\":201}}");
                            docs.incrementAndGet();
                        }
                    }
                    yield new StandIn.Reply(200, "{\"errors\":false,\"items\":[" + items + "]}");
                }
                default -> new StandIn.Reply(404, "{\"error\":\"no handler for " + c.method() + " " + path + "\"}");
            };
        });
    }

    @AfterEach
    void stop() {
        es.close();
    }

    private Path config() throws Exception {
        Path f = dir.resolve("logferry.yml");
        Files.writeString(f, """
                docker:
                  host: %s
                  containers_path: %s
                selection:
                  include_labels: ["logferry.test=%s"]
                elasticsearch:
                  hosts: [%s]
                registry:
                  path: %s
                """.formatted(TestEnv.dockerHost(), TestEnv.containersPath(), RUN, es.url(), dir.resolve("registry.json")));
        return f;
    }

    private void assertEveryRequestCarriedTheKey() {
        assertThat(es.calls()).isNotEmpty();
        assertThat(es.calls()).allSatisfy(c -> assertThat(c.header("authorization")).as(c.method() + " " + c.path()).isEqualTo("ApiKey " + KEY));
    }

    @Test
    void checkAndSetupSendTheApiKey() throws Exception {
        Cli check = Cli.run(dir, Map.of("LOGFERRY_ELASTICSEARCH_API_KEY", KEY), "check", "--config", config().toString());
        assertThat(check.exit()).as(check.toString()).isZero();
        assertThat(check.out()).contains("api_key ******").contains("authenticated as logferry-svc (API key logferry)")
                .contains("index template 'logferry': not installed yet").doesNotContain(KEY);

        Cli setup = Cli.run(dir, Map.of("LOGFERRY_ELASTICSEARCH_API_KEY", KEY), "setup", "--config", config().toString());
        assertThat(setup.exit()).as(setup.toString()).isZero();
        // the stand-in answers the lifecycle API, as Elasticsearch 8.14+ with the data-streams module does
        assertThat(setup.out()).contains("data stream lifecycle on");
        assertThat(template).contains("\"lifecycle\":{\"enabled\":true}").contains("\"@timestamp\":{\"type\":\"date_nanos\"}");
        assertEveryRequestCarriedTheKey();
    }

    @Test
    void aWrongApiKeyGivesOneClearLine() throws Exception {
        String wrong = Base64.getEncoder().encodeToString("VuaCfGcBCdbkQm-e5aOx:wrong-key-part".getBytes(StandardCharsets.UTF_8));
        Cli r = Cli.run(dir, Map.of("LOGFERRY_ELASTICSEARCH_API_KEY", wrong), "check", "--config", config().toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.errLines()).containsExactly("elasticsearch: authentication failed for the API key (401)");
        assertThat(r.out() + r.err()).doesNotContain(wrong);
    }

    @Test
    void theAgentShipsWithTheApiKeyAndNeverLogsIt() throws Exception {
        GenericContainer<?> c = Containers.oneShot(RUN, Map.of("logferry.test", RUN), Containers.numbered("k", 100, false));
        try (AgentProcess agent = new AgentProcess(dir, RUN, "logferry.test=" + RUN, "", Map.of(
                "LOGFERRY_ELASTICSEARCH_HOSTS", es.url(),
                "LOGFERRY_ELASTICSEARCH_API_KEY", KEY,
                "LOGFERRY_ELASTICSEARCH_USERNAME", "ignored-when-a-key-is-set",
                "LOGFERRY_LOG_LEVEL", "DEBUG"))) {
            c.start();
            agent.start();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                    .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                    .until(() -> docs.get() >= 100);
            await().atMost(Duration.ofSeconds(30)).until(() -> agent.getResponse("/health").statusCode() == 200);
            assertThat(agent.metric("logferry_events_acked_total")).isEqualTo(100);
            assertThat(agent.terminate()).isZero();
            assertThat(docs.get()).isEqualTo(100);
            assertThat(es.calls().stream().filter(x -> x.path().startsWith("/_bulk")).count()).isPositive();
            assertThat(es.calls().stream().filter(x -> x.path().startsWith("/_cluster/health")).count()).as("the /health probe").isPositive();
            assertEveryRequestCarriedTheKey();
            assertThat(agent.output()).doesNotContain(KEY).doesNotContain("ui2lp2axTNmsyakw9tvNnw");
        } finally {
            c.stop();
        }
    }
}
