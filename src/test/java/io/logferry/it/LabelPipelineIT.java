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
 * Issue 23, case 4: an ingest pipeline chosen by a label that keeps failing must not pin the
 * output's workers. Container F's label ({@code labels.allowed_pipelines: ["*"]}) names a pipeline
 * whose processor fails every document with a 500 (the test distribution has no {@code fail}
 * processor; {@code set_security_user} on a cluster without security fails the same way, status
 * 500 {@code illegal_state_exception}). A victim container started while F fails prints 500
 * numbered lines: all arrive exactly once while F's lane is parked
 * ({@code logferry_events_parked_total}, {@code logferry_lanes_parked}). Then the pipeline is
 * replaced by one that passes, and F's parked lines arrive, exactly once. The agent never exits.
 */
class LabelPipelineIT {
    private static final int F_LINES = 300;
    private static final int VICTIM_LINES = 500;

    @TempDir
    Path dir;
    private final List<GenericContainer<?>> containers = new ArrayList<>();
    private AgentProcess agent;
    private Es es;
    private String pipeline;

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        containers.forEach(GenericContainer::stop);
        if (pipeline != null) {
            es.request("DELETE", "/_ingest/pipeline/" + pipeline, null);
        }
    }

    private void start(String name, Map<String, String> labels, String script) {
        GenericContainer<?> c = Containers.shell(name, labels, script);
        containers.add(c);
        c.start();
    }

    private long count(String index, String container) {
        es.request("POST", "/" + index + "/_refresh", null);
        return es.request("POST", "/" + index + "/_count", "{\"query\":{\"term\":{\"container.name\":\"" + container + "\"}}}")
                .path("count").asLong(0);
    }

    @Test
    void aFailingPipelineALabelChoseParksItsContainerWhileTheOthersFlowAndNothingIsLost() throws Exception {
        String run = TestEnv.uniqueName("lpipe");
        String index = "logs-docker-" + run;
        String deadLetter = "logs-logferry.deadletter-" + run;
        es = new Es(TestEnv.esUrl());
        pipeline = run + "-broken";
        assertThat(es.request("PUT", "/_ingest/pipeline/" + pipeline,
                "{\"description\":\"logferry LabelPipelineIT: fails every document\",\"processors\":[{\"set_security_user\":{\"field\":\"u\"}}]}")
                .path("_status").asInt()).isEqualTo(200);
        agent = new AgentProcess(dir, run, "logferry.test=" + run, """
                labels:
                  allowed_pipelines: ["*"]
                """, Map.of("LOGFERRY_ELASTICSEARCH_DEAD_LETTER", deadLetter));
        agent.start();

        // F prints in six chunks, 0.4 s apart: several batches (flush_interval 200 ms in the tests' config), enough to
        // hold both output workers if each retried its failing items in place without limit (as before issue 23)
        start(run + "-f", Map.of("logferry.test", run, "logferry.pipeline", pipeline), Tally.paced("f", 6, F_LINES / 6, "0.4"));
        // hang guard (about 10x what it takes): F's items have been refused by the pipeline and F printed its last chunk
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> agent.metric("logferry_events_retried_total") > 0 && agent.metric("logferry_events_read_total") >= F_LINES);

        start(run + "-victim", Map.of("logferry.test", run), Containers.numbered("victim", VICTIM_LINES, false) + "; sleep 3600");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> count(index, run + "-victim") >= VICTIM_LINES);
        // the victim flowed while F's lane stays parked: none of F's lines is in the index, none dead-lettered
        assertThat(count(index, run + "-f")).isZero();
        assertThat(agent.metric("logferry_events_parked_total")).isPositive();
        assertThat(es.count(deadLetter)).isZero();
        // a gauge: the lane is unparked for a moment at each of its retry turns (then parked again), so it is awaited
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> agent.metric("logferry_lanes_parked") == 1);
        long parked = agent.metric("logferry_events_parked_total");

        // the pipeline is fixed: its processor no longer fails; the parked lines arrive at the lane's next turn
        assertThat(es.request("PUT", "/_ingest/pipeline/" + pipeline,
                "{\"description\":\"logferry LabelPipelineIT: fixed\",\"processors\":[{\"set_security_user\":{\"field\":\"u\",\"ignore_failure\":true}}]}")
                .path("_status").asInt()).isEqualTo(200);
        // hang guard: the lane's backoff is at most backoff.max (5 s in the tests' config)
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> count(index, run + "-f") >= F_LINES);

        List<JsonNode> docs = es.all(index, "message", "stream", "container");
        Containers.assertExactlyOnce(docs, Map.of("f", F_LINES, "victim", VICTIM_LINES), false);
        assertThat(es.count(deadLetter)).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> agent.metric("logferry_lanes_parked") == 0);
        assertThat(agent.alive()).as("the agent never exited").isTrue();
        System.out.printf("[label-pipeline] victim %d/%d while f was parked (%d events parked), then f %d/%d once the pipeline was fixed%n",
                VICTIM_LINES, VICTIM_LINES, parked, F_LINES, F_LINES);
    }
}
