package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The walking skeleton end to end: real containers print numbered lines, the agent ships them,
 * and the real Elasticsearch holds each line exactly once with the right fields.
 */
class EndToEndIT {
    @TempDir
    Path dir;
    private final List<GenericContainer<?>> containers = new ArrayList<>();
    private AgentProcess agent;

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        containers.forEach(GenericContainer::stop);
    }

    private GenericContainer<?> track(GenericContainer<?> c) {
        containers.add(c);
        return c;
    }

    /** {@code file} reads the json-file logs; {@code api} the Docker logs API: the same documents. */
    @ParameterizedTest
    @ValueSource(strings = {"file", "api"})
    void threeContainersAndALateOneArriveExactlyOnce(String readMode) throws Exception {
        String run = TestEnv.uniqueName("e2e" + readMode);
        Map<String, String> labels = Map.of("logferry.test", run);
        Es es = new Es(TestEnv.esUrl());
        String index = "logs-docker-" + run;

        // 3 containers × 5,000 lines on stdout and 5,000 on stderr = 30,000 lines
        for (int i = 1; i <= 3; i++) {
            track(Containers.oneShot(run + "-c" + i, labels, Containers.numbered("c" + i, 5000, true))).start();
        }
        agent = new AgentProcess(dir, run, "logferry.test=" + run, "", Map.of("LOGFERRY_DOCKER_READ_MODE", readMode));
        agent.start();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count(index) >= 30_000);

        // a container started after the agent is picked up too
        track(Containers.shell(run + "-late", labels, Containers.numbered("late", 1000, false) + "; sleep 3600")).start();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> es.count(index) >= 31_000);

        List<JsonNode> docs = es.all(index, "message", "stream", "container.name", "container.id", "container.image.name",
                "container.labels", "host.name", "agent.type", "data_stream", "@timestamp", "log.offset");
        assertThat(docs).hasSize(31_000);
        Containers.assertExactlyOnce(docs, Map.of("c1", 5000, "c2", 5000, "c3", 5000, "late", 1000), false);
        Containers.assertExactlyOnce(docs.stream().filter(d -> !d.path("message").asText().startsWith("late")).toList(),
                Map.of("c1", 5000, "c2", 5000, "c3", 5000), true);

        Map<String, Long> perContainer = docs.stream().collect(Collectors.groupingBy(d -> d.path("container").path("name").asText(), Collectors.counting()));
        assertThat(perContainer).containsExactlyInAnyOrderEntriesOf(Map.of(
                run + "-c1", 10_000L, run + "-c2", 10_000L, run + "-c3", 10_000L, run + "-late", 1000L));
        for (JsonNode d : docs) {
            String tag = d.path("message").asText().split(" ")[0];
            assertThat(d.path("container").path("name").asText()).isEqualTo(run + "-" + tag);
        }
        JsonNode one = docs.get(0);
        // Docker's RFC 3339 nanosecond times, trailing zeros trimmed: finer than milliseconds
        assertThat(docs).allSatisfy(d -> assertThat(d.path("@timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,9})?Z"));
        assertThat(docs).anySatisfy(d -> assertThat(d.path("@timestamp").asText()).matches(".*\\.\\d{7,9}Z"));
        assertThat(one.path("container").path("id").asText()).hasSize(64);
        assertThat(one.path("container").path("image").path("name").asText()).isEqualTo(TestEnv.image());
        assertThat(one.path("container").path("labels").path("logferry_test").asText()).isEqualTo(run);
        assertThat(one.path("host").path("name").asText()).isNotEmpty();
        assertThat(one.path("agent").path("type").asText()).isEqualTo("logferry");
        assertThat(one.path("data_stream").path("dataset").asText()).isEqualTo("docker");
        assertThat(one.path("data_stream").path("namespace").asText()).isEqualTo(run);

        // the nanoseconds survive in Elasticsearch: @timestamp is mapped as date_nanos
        JsonNode mapping = es.request("GET", "/" + index + "/_mapping/field/@timestamp", null);
        assertThat(mapping.toString()).contains("date_nanos");

        // what the agent counted matches what arrived
        await().atMost(Duration.ofSeconds(30)).until(() -> agent.metric("logferry_events_acked_total") == 31_000);
        assertThat(agent.output()).contains(readMode.equals("api") ? "Docker logs API" : "json-file");
        assertThat(agent.metric("logferry_events_read_total")).isEqualTo(31_000);
    }
}
