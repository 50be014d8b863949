package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A document that conflicts with the mapping: {@code f} is a number in every line but two, where
 * it is an object. Elasticsearch refuses those two; each is sent again once with its decoded
 * fields under {@code logferry.flattened} (issue 23) and lands in the index with its message and
 * identity, flagged {@code mapping_conflict}; nothing goes to the dead-letter stream. Every other
 * line lands normally, the lines after them too, and the container's offset in the registry
 * reaches the end of its log (nothing holds the acknowledgements back).
 */
class MappingConflictIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNKS = 6;
    private static final int PER_CHUNK = 500;
    private static final List<Integer> CONFLICTS = List.of(1001, 2002);

    @TempDir
    Path dir;
    private GenericContainer<?> container;
    private AgentProcess agent;

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (container != null) {
            container.stop();
        }
    }

    /** JSON lines {"message":"j out N","f":N}; for N in CONFLICTS, "f" is {"a":N}. One awk per chunk, a pause between. */
    private static String script() {
        String conflict = "n==" + CONFLICTS.get(0) + "||n==" + CONFLICTS.get(1);
        return "i=0; while [ $i -lt " + CHUNKS + " ]; do awk -v b=$i 'BEGIN{for(j=1;j<=" + PER_CHUNK + ";j++){n=b*" + PER_CHUNK + "+j; "
                + "if(" + conflict + ") printf \"{\\\"message\\\":\\\"j out %d\\\",\\\"f\\\":{\\\"a\\\":%d}}\\n\", n, n; "
                + "else printf \"{\\\"message\\\":\\\"j out %d\\\",\\\"f\\\":%d}\\n\", n, n}}'; i=$((i+1)); sleep 0.5; done; sleep 3600";
    }

    @Test
    void theConflictingDocumentsAreSentAgainFlattenedAndEveryLineLands() throws Exception {
        Instant started = Instant.now();
        String run = TestEnv.uniqueName("map");
        String index = "logs-docker-" + run;
        // a dead-letter stream of this test's own, so that the shared server's other tests do not mix in
        String deadLetter = "logs-logferry.deadletter-" + run;
        Es es = new Es(TestEnv.esUrl());
        agent = new AgentProcess(dir, run, "logferry.test=" + run, "", Map.of("LOGFERRY_ELASTICSEARCH_DEAD_LETTER", deadLetter));
        agent.start();
        container = Containers.shell(run, Map.of("logferry.test", run, "logferry.json", "true"), script());
        container.start();

        int total = CHUNKS * PER_CHUNK;
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> es.count(index) + es.count(deadLetter) >= total);

        List<JsonNode> docs = es.all(index, "message", "stream", "f", "logferry", "log", "container");
        Tally.report("mapping conflict (retyped)", started, Map.of("j", total), Tally.messages(docs));

        // every line is in the index, once; the lines after the conflicts too
        List<Integer> expectedNumbers = new ArrayList<>();
        for (int n = 1; n <= total; n++) {
            expectedNumbers.add(n);
        }
        assertThat(docs.stream().map(d -> Integer.parseInt(d.path("message").asText().substring("j out ".length()))).sorted().toList())
                .isEqualTo(expectedNumbers);
        for (JsonNode d : docs) {
            int n = Integer.parseInt(d.path("message").asText().substring("j out ".length()));
            if (CONFLICTS.contains(n)) {
                // refused for its object, sent again with the decoded fields flattened; what the agent wrote stays
                assertThat(d.has("f")).isFalse();
                assertThat(d.path("logferry").path("flattened").path("f").path("a").asInt()).isEqualTo(n);
                assertThat(d.path("log").path("flags").toString()).contains("mapping_conflict");
                assertThat(d.path("container").path("id").asText()).isEqualTo(container.getContainerId());
            } else {
                assertThat(d.path("f").isNumber()).isTrue();
            }
        }
        assertThat(es.count(deadLetter)).as("nothing dead-lettered").isZero();
        assertThat(agent.metric("logferry_events_retyped_total")).isEqualTo(CONFLICTS.size());
        assertThat(agent.metric("logferry_events_dead_lettered_total")).isZero();
        assertThat(agent.metric("logferry_events_dropped_total{reason=\"dead_letter_refused\"}")).isZero();

        // the pipeline did not stall: the container's committed offset reaches the end of its log
        Path log = TestEnv.containersPath().resolve(container.getContainerId()).resolve(container.getContainerId() + "-json.log");
        long size = Files.size(log);
        await().atMost(Duration.ofSeconds(30)).until(() -> registryOffset(container.getContainerId()) == size);
        assertThat(agent.terminate()).isZero();
        assertThat(registryOffset(container.getContainerId())).isEqualTo(size);
    }

    private long registryOffset(String containerId) {
        try {
            return JSON.readTree(Files.readAllBytes(agent.registryFile())).path("containers").path(containerId).path("offset").asLong(-1);
        } catch (Exception e) {
            return -1;
        }
    }
}
