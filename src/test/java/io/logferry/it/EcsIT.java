package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * ECS as Kibana expects it, on the real engine and Elasticsearch: JSON of two containers that
 * disagrees on a field's type all arrives (nothing in the dead-letter stream); a container logging
 * ECS JSON keeps {@code log.logger} and {@code error.stack_trace} at their ECS names; and
 * {@code logferry setup} beside a template for Fleet's {@code logs-docker.container_logs} at
 * priority 200 succeeds, says which template wins where, and the agent ships.
 */
class EcsIT {
    private static final String FLEET = "logs-docker.container_logs";

    @TempDir
    Path dir;
    private final DockerRun docker = new DockerRun();
    private final Es es = new Es(TestEnv.esUrl());
    private AgentProcess agent;
    private boolean fleetTemplate;

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        docker.close();
        if (fleetTemplate) {
            es.request("DELETE", "/_index_template/" + FLEET, null);
        }
    }

    @Test
    void jsonThatDisagreesOnTypesArrivesAndEcsJsonKeepsItsNames() throws Exception {
        Instant started = Instant.now();
        String run = TestEnv.uniqueName("ecs");
        String index = "logs-docker-" + run;
        String deadLetter = "logs-logferry.deadletter-" + run;
        agent = new AgentProcess(dir, run, "logferry.test=" + run, "", Map.of("LOGFERRY_ELASTICSEARCH_DEAD_LETTER", deadLetter));
        agent.start();
        Map<String, String> json = Map.of("logferry.test", run, "logferry.json", "true");
        // first: a date-like string and a number; once they are in (the mapping made), a plain string in both
        docker.run(run + "-a", json, "echo '{\"msg\":\"a\",\"when\":\"2026-12-01T10:00:00Z\",\"code\":5}'");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count(index) >= 1);
        docker.run(run + "-b", json, "echo '{\"msg\":\"b\",\"when\":\"tomorrow\",\"code\":\"E42\"}'");
        docker.run(run + "-ecs", json, "echo '{\"@timestamp\":\"2026-12-01T10:00:00.123Z\",\"log.level\":\"ERROR\","
                + "\"message\":\"payment failed\",\"ecs.version\":\"1.2.0\",\"service.name\":\"checkout\","
                + "\"log.logger\":\"shop.Payments\",\"process.thread.name\":\"main\",\"error.type\":\"java.lang.IllegalStateException\","
                + "\"error.message\":\"declined\",\"error.stack_trace\":\"java.lang.IllegalStateException: declined\\n\\tat "
                + "shop.Payments.charge(Payments.java:42)\"}'");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count(index) >= 3);

        List<JsonNode> docs = es.all(index, "message", "when", "code", "log", "error", "service", "process", "json", "container.name",
                "ecs", "agent");
        System.out.println("ECS documents: " + docs.size() + " in " + Duration.between(started, Instant.now()).toMillis() + " ms");
        assertThat(docs).hasSize(3);
        Map<String, JsonNode> by = docs.stream().collect(Collectors.toMap(
                d -> d.path("container").path("name").asText().substring(run.length() + 1), d -> d));
        assertThat(by.get("a").path("when").asText()).isEqualTo("2026-12-01T10:00:00Z");
        assertThat(by.get("b").path("when").asText()).isEqualTo("tomorrow");
        assertThat(by.get("b").path("code").asText()).isEqualTo("E42");
        assertThat(es.count(deadLetter)).as("nothing refused").isZero();
        JsonNode mapping = es.request("GET", "/" + index + "/_mapping/field/when", null);
        assertThat(mapping.toString()).as("no date detection: %s", mapping).contains("\"keyword\"").doesNotContain("\"date\"");

        JsonNode ecs = by.get("ecs");
        assertThat(ecs.path("message").asText()).isEqualTo("payment failed");
        assertThat(ecs.path("log").path("level").asText()).isEqualTo("ERROR");
        assertThat(ecs.path("log").path("logger").asText()).isEqualTo("shop.Payments");
        assertThat(ecs.path("error").path("stack_trace").asText()).startsWith("java.lang.IllegalStateException: declined\n\tat shop.");
        assertThat(ecs.path("error").path("type").asText()).isEqualTo("java.lang.IllegalStateException");
        assertThat(ecs.path("service").path("name").asText()).isEqualTo("checkout");
        assertThat(ecs.path("process").path("thread").path("name").asText()).isEqualTo("main");
        assertThat(ecs.path("ecs").path("version").asText()).as("the document's version").isEqualTo("9.1.0");
        assertThat(ecs.path("json").path("log").isMissingNode()).isTrue();
        assertThat(ecs.path("json").path("error").isMissingNode()).isTrue();
        assertThat(ecs.path("agent").path("ephemeral_id").asText()).isNotBlank();

        // searchable at their ECS names
        JsonNode hits = es.request("POST", "/" + index + "/_search", "{\"query\":{\"bool\":{\"filter\":["
                + "{\"term\":{\"log.logger\":\"shop.Payments\"}},{\"match\":{\"error.stack_trace.text\":\"declined\"}}]}}}");
        assertThat(hits.path("hits").path("total").path("value").asInt()).as("%s", hits).isEqualTo(1);
    }

    @Test
    void setupBesideFleetsDockerTemplateSucceedsAndShips() throws Exception {
        String run = TestEnv.uniqueName("fleet");
        // Fleet's Docker integration: its template for logs-docker.container_logs-*, priority 200, not ours
        JsonNode put = es.request("PUT", "/_index_template/" + FLEET, "{\"index_patterns\":[\"" + FLEET + "-*\"],\"priority\":200,"
                + "\"data_stream\":{},\"_meta\":{\"package\":{\"name\":\"docker\"},\"managed_by\":\"fleet\",\"managed\":true},"
                + "\"template\":{\"mappings\":{\"properties\":{\"message\":{\"type\":\"keyword\"}}}}}");
        assertThat(put.path("acknowledged").asBoolean()).as("%s", put).isTrue();
        fleetTemplate = true;

        agent = new AgentProcess(dir, run, "logferry.test=" + run);
        Cli setup = Cli.run(dir, Map.of(), "setup", "--config", agent.configFile().toString());
        System.out.println("logferry setup beside Fleet's template:\n" + setup.out());
        assertThat(setup.exit()).as("%s", setup).isZero();
        assertThat(setup.out()).contains("index template 'logferry' installed").contains("priority 199")
                .contains(FLEET + "-default -> template '" + FLEET + "' (priority 200), not logferry's")
                .contains("logs-docker-default -> template 'logferry' (priority 199); Elasticsearch's simulation: logferry's mappings");
        assertThat(es.request("GET", "/_index_template/" + FLEET, null).path("index_templates").path(0)
                .path("index_template").path("priority").asInt()).as("Fleet's template untouched").isEqualTo(200);

        agent.start();
        docker.run(run + "-c", Map.of("logferry.test", run), "echo 'beside fleet'");
        String index = "logs-docker-" + run;
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count(index) >= 1);
        assertThat(Tally.messages(es.all(index, "message"))).containsExactly("beside fleet");
        JsonNode ts = es.request("GET", "/" + index + "/_mapping/field/@timestamp", null);
        assertThat(ts.toString()).as("logferry's template made the stream: %s", ts).contains("date_nanos");
    }
}
