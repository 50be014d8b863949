package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One container's data stream refuses the agent's writes with 403 (no privilege there, not a
 * block): a {@link FaultProxy} in front of the real Elasticsearch takes that stream's items out of
 * every bulk request and answers them 403. Those documents land in the dead-letter stream once
 * each, with the status, the error and the index they were meant for; the other container's lines
 * all arrive, also those printed after the refusals began; the agent keeps running and says so
 * once, not once per document. Before, the refused items were retried forever and two such
 * batches held both bulk workers: nothing else was shipped.
 */
class ForbiddenIndexIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int FORBIDDEN_LINES = 600;
    private static final int CHUNKS = 4;
    private static final int PER_CHUNK = 400;

    @TempDir
    Path dir;
    private final List<GenericContainer<?>> containers = new ArrayList<>();
    private AgentProcess agent;
    private FaultProxy proxy;

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        for (GenericContainer<?> c : containers) {
            c.stop();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void itemsRefusedWith403AreDeadLetteredOnceAndEverythingElseIsShipped() throws Exception {
        String run = TestEnv.uniqueName("fbd");
        String index = "logs-docker-" + run;
        String forbidden = "logs-docker-" + run + "x";
        String deadLetter = "logs-logferry.deadletter-" + run;
        Es es = new Es(TestEnv.esUrl());
        proxy = new FaultProxy(TestEnv.esUrl(), Integer.MAX_VALUE, Integer.MAX_VALUE).forbid(forbidden);
        agent = new AgentProcess(dir, run, "logferry.test=" + run, "",
                Map.of("LOGFERRY_ELASTICSEARCH_HOSTS", proxy.url(), "LOGFERRY_ELASTICSEARCH_DEAD_LETTER", deadLetter));
        agent.start();
        GenericContainer<?> refused = Containers.shell(run + "-f", Map.of("logferry.test", run, "logferry.namespace", run + "x"),
                Containers.numbered("f", FORBIDDEN_LINES, false) + "; sleep 3600");
        containers.add(refused);
        refused.start();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> proxy.forbidden.get() > 0);
        // started once the refusals have begun: with two bulk workers held by them, none of it would ship
        GenericContainer<?> ordinary = Containers.shell(run + "-o", Map.of("logferry.test", run),
                Tally.paced("o", CHUNKS, PER_CHUNK, "0.5"));
        containers.add(ordinary);
        ordinary.start();

        int total = CHUNKS * PER_CHUNK;
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> es.count(index) >= total && es.count(deadLetter) >= FORBIDDEN_LINES);
        await().atMost(Duration.ofSeconds(30)).until(() -> agent.metric("logferry_events_acked_total") >= total);

        List<JsonNode> docs = es.all(index, "message", "stream");
        Containers.assertExactlyOnce(docs, Map.of("o", total), false);

        List<JsonNode> letters = es.all(deadLetter, "message", "error", "event", "http", "document", "container");
        assertThat(letters).hasSize(FORBIDDEN_LINES);
        Set<String> lines = new HashSet<>();
        for (JsonNode l : letters) {
            assertThat(l.path("error").path("code").asText()).isEqualTo("403");
            assertThat(l.path("error").path("type").asText()).isEqualTo("security_exception");
            assertThat(l.path("error").path("message").asText()).contains("is unauthorized");
            assertThat(l.path("document").path("index").asText()).isEqualTo(forbidden);
            lines.add(JSON.readTree(l.path("event").path("original").asText()).path("message").asText());
        }
        assertThat(lines).as("each refused line once").hasSize(FORBIDDEN_LINES).contains("f out 1", "f out " + FORBIDDEN_LINES);
        assertThat(es.count(forbidden)).isZero();

        assertThat(agent.metric("logferry_events_forbidden_total")).isEqualTo(FORBIDDEN_LINES);
        assertThat(agent.metric("logferry_events_dead_lettered_total")).isEqualTo(FORBIDDEN_LINES);
        assertThat(agent.metric("logferry_events_dropped_total{reason=\"dead_letter_forbidden\"}")).isZero();
        assertThat(agent.alive()).isTrue();
        assertThat(agent.getResponse("/health").statusCode()).isEqualTo(200);
        long said = agent.output().lines().filter(l -> l.contains("does not allow writing to " + forbidden)).count();
        assertThat(said).as("logged once for the stream, not once per document").isEqualTo(1);
        System.out.printf("[forbidden] %d items answered 403 by the proxy; %d dead-lettered, %d of the other container delivered%n",
                proxy.forbidden.get(), letters.size(), docs.size());
    }
}
