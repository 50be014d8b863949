package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 23, case 3: one container's JSON shapes must not get another container's documents
 * refused. Container A prints {@code {"status":{"x":N}}} first, so that the data stream maps
 * {@code status} as an object; then container B prints {@code {"status":N}} (a plain value, which
 * Elasticsearch refuses against an object, {@code ignore_malformed} or not), beside a victim
 * container printing 500 numbered text lines. Every line of A, B and the victim is in the index
 * exactly once; none is dead-lettered: B's documents were sent again once with their decoded fields
 * under {@code logferry.flattened} (searchable there), their message and identity unchanged.
 */
class TypeIsolationIT {
    private static final int JSON_LINES = 100;
    private static final int VICTIM_LINES = 500;

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

    /** {"message":"<tag> out N","status":<value of N>} for N in 1..JSON_LINES; then it stays up. */
    private static String json(String tag, String statusFormat) {
        return "awk 'BEGIN{for(i=1;i<=" + JSON_LINES + ";i++) printf \"{\\\"message\\\":\\\"" + tag + " out %d\\\",\\\"status\\\":"
                + statusFormat + "}\\n\", i, i}'; sleep 3600";
    }

    private GenericContainer<?> start(String name, Map<String, String> labels, String script) {
        GenericContainer<?> c = Containers.shell(name, labels, script);
        containers.add(c);
        c.start();
        return c;
    }

    @Test
    void oneContainersJsonShapesRefuseNoneOfAnothersDocuments() throws Exception {
        String run = TestEnv.uniqueName("types");
        String index = "logs-docker-" + run;
        String deadLetter = "logs-logferry.deadletter-" + run;
        Es es = new Es(TestEnv.esUrl());
        agent = new AgentProcess(dir, run, "logferry.test=" + run, "", Map.of("LOGFERRY_ELASTICSEARCH_DEAD_LETTER", deadLetter));
        agent.start();

        start(run + "-a", Map.of("logferry.test", run, "logferry.json", "true"), json("a", "{\\\"x\\\":%d}"));
        // hang guard (about 10x what it takes): A's object mapping is in place before B prints
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> es.count(index) >= JSON_LINES);
        start(run + "-b", Map.of("logferry.test", run, "logferry.json", "true"), json("b", "%d"));
        start(run + "-victim", Map.of("logferry.test", run), Containers.numbered("victim", VICTIM_LINES, false) + "; sleep 3600");

        int total = 2 * JSON_LINES + VICTIM_LINES;
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> es.count(index) + es.count(deadLetter) >= total);

        List<JsonNode> docs = es.all(index, "message", "stream", "status", "logferry", "log", "container", "data_stream", "_id");
        Containers.assertExactlyOnce(docs, Map.of("a", JSON_LINES, "b", JSON_LINES, "victim", VICTIM_LINES), false);
        assertThat(es.count(deadLetter)).as("documents dead-lettered").isZero();

        for (JsonNode d : docs) {
            String message = d.path("message").asText();
            int n = Integer.parseInt(message.substring(message.lastIndexOf(' ') + 1));
            if (message.startsWith("a ")) {
                assertThat(d.path("status").path("x").asInt()).as(message).isEqualTo(n);
            } else if (message.startsWith("b ")) {
                // refused against A's object, sent again with its decoded fields flattened; what the agent wrote is as it was
                assertThat(d.has("status")).as(message).isFalse();
                assertThat(d.path("logferry").path("flattened").path("status").asInt()).as(message).isEqualTo(n);
                assertThat(d.path("log").path("flags").toString()).as(message).contains("mapping_conflict");
                assertThat(d.path("log").path("offset").isNumber()).as(message).isTrue();
                assertThat(d.path("container").path("name").asText()).isEqualTo(run + "-b");
                assertThat(d.path("data_stream").path("namespace").asText()).isEqualTo(run);
            }
        }
        // both shapes are searchable
        es.request("POST", "/" + index + "/_refresh", null);
        assertThat(es.request("POST", "/" + index + "/_count", "{\"query\":{\"term\":{\"status.x\":7}}}").path("count").asLong())
                .isEqualTo(1);
        assertThat(es.request("POST", "/" + index + "/_count", "{\"query\":{\"term\":{\"logferry.flattened.status\":\"7\"}}}")
                .path("count").asLong()).isEqualTo(1);

        assertThat(agent.metric("logferry_events_retyped_total")).isEqualTo(JSON_LINES);
        assertThat(agent.metric("logferry_events_dead_lettered_total")).isZero();
        assertThat(agent.alive()).as("the agent never exited").isTrue();
        System.out.printf("[type-isolation] a %d/%d, b %d/%d (all retyped), victim %d/%d, dead letters 0%n",
                JSON_LINES, JSON_LINES, JSON_LINES, JSON_LINES, VICTIM_LINES, VICTIM_LINES);
    }
}
