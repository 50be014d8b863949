package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Elasticsearch coming back, on an extra node of its own (never the shared server): the agent
 * notices it through its health probe and sends the backlog at once, instead of waiting out the
 * rest of its breaker's backoff (the production one here: 1 s doubling to 60 s); and an agent
 * started while Elasticsearch is down tails and queues, and installs the index template when the
 * cluster comes, before its first document.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FastResumeIT {
    /**
     * A hang guard, not a target (the target is 2 s of the agent's own delay, which the benchmark and this
     * test's printed line measure): 10 times it. The breaker's backoff here is 1 s doubling to 60 s, so an
     * agent that waited out its backoff instead of resuming on the probe's answer is caught by the
     * {@code logferry_output_circuit_resumed_total} count and the "half-open at once" log line, not by a clock.
     */
    private static final Duration HANG_GUARD = Duration.ofSeconds(20);
    private static EsNode node;

    @TempDir
    Path dir;
    private GenericContainer<?> container;
    private AgentProcess agent;

    @BeforeAll
    static void makeNode() throws Exception {
        node = new EsNode("resume", TestEnv.freePort(), TestEnv.freePort(),
                List.of("discovery.type=single-node", "xpack.security.enabled=false", "xpack.ml.enabled=false"));
    }

    @AfterAll
    static void removeNode() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (container != null) {
            container.stop();
        }
    }

    /** The agent with the default backoff (1 s doubling to 60 s), so that waiting it out would show. */
    private AgentProcess agent(String run) throws Exception {
        return new AgentProcess(dir, run, "logferry.test=" + run, "", Map.of(
                "LOGFERRY_ELASTICSEARCH_HOSTS", node.url(),
                "LOGFERRY_ELASTICSEARCH_BACKOFF_INITIAL", "1s",
                "LOGFERRY_ELASTICSEARCH_BACKOFF_MAX", "60s"));
    }

    @Test
    @Order(1)
    void anAgentStartedWhileElasticsearchIsDownTailsAndQueuesAndSetsUpWhenItComes() throws Exception {
        Instant started = Instant.now();
        String run = TestEnv.uniqueName("cold");
        String index = "logs-docker-" + run;
        int total = 5_000;
        agent = agent(run);
        agent.start();
        container = Containers.shell(run, Map.of("logferry.test", run), Containers.numbered("c", total, false) + "; sleep 3600");
        container.start();

        // no Elasticsearch yet: the agent runs, says so, and reads everything into its queue
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> agent.metric("logferry_events_read_total") >= total);
        // live (it reads and queues: a restart would not help), not ready, and both say why
        HttpResponse<String> ready = agent.getResponse("/ready");
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.body()).contains("index template not installed yet");
        HttpResponse<String> health = agent.getResponse("/health");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"status\":\"degraded\"").contains("index template not installed yet");
        assertThat(agent.metric("logferry_output_ready")).isZero();
        assertThat(agent.metric("logferry_events_acked_total")).isZero();

        node.start();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> new Es(node.url()).count(index) >= total);
        Es es = new Es(node.url());
        List<JsonNode> docs = es.all(index, "message", "stream");
        Tally.report("agent started while Elasticsearch is down", started, Map.of("c", total), Tally.messages(docs));
        Containers.assertExactlyOnce(docs, Map.of("c", total), false);

        // the template was there before the first document: a data stream with logferry's mappings
        JsonNode template = es.request("GET", "/_index_template/logferry", null);
        assertThat(template.path("_status").asInt()).isEqualTo(200);
        assertThat(template.path("index_templates").get(0).path("index_template").path("_meta").path("managed_by").asText())
                .isEqualTo("logferry");
        JsonNode mapping = es.request("GET", "/" + index + "/_mapping", null);
        Iterator<String> backing = mapping.fieldNames();
        String first = backing.next();
        assertThat(first).as("a backing index of a data stream").startsWith(".ds-" + index + "-");
        assertThat(mapping.path(first).path("mappings").path("properties").path("@timestamp").path("type").asText())
                .isEqualTo("date_nanos");
        assertThat(agent.metric("logferry_output_ready")).isEqualTo(1);
        assertThat(agent.output()).contains("cannot install the index template yet");
    }

    @Test
    @Order(2)
    void afterSixtySecondsDownTheBacklogFlowsAsSoonAsElasticsearchAnswers() throws Exception {
        Instant started = Instant.now();
        String run = TestEnv.uniqueName("fast");
        String index = "logs-docker-" + run;
        if (!node.answers()) {
            node.start();
        }
        Es es = new Es(node.url());
        agent = agent(run);
        agent.start();
        // 20,000 lines over 20 s: most of them written while Elasticsearch is down, all of them before it is back
        int total = 20_000;
        container = Containers.shell(run, Map.of("logferry.test", run), Tally.paced("r", 20, 1000, "1"));
        container.start();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> es.count(index) >= 2_000);
        node.stop();
        Instant down = Instant.now();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> agent.metric("logferry_output_circuit_state") > 0);
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .until(() -> Duration.between(down, Instant.now()).toSeconds() >= 60);
        assertThat(agent.alive()).isTrue();
        long before = agent.metric("logferry_events_acked_total");

        node.startAsync();
        // the first answer, as the test sees it: _cluster/health 200 (what the agent's probe counts as an answer) ...
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50)).until(() -> health(false));
        long answered = System.nanoTime();
        Instant answeredAt = Instant.now();
        long downFor = Duration.between(down, answeredAt).toSeconds();
        // ... and the cluster able to take writes: its shards allocated again (yellow or green), which the agent cannot hurry
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50)).until(() -> health(true));
        long up = System.nanoTime();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> agent.metric("logferry_events_acked_total") > before);
        double firstDoc = (System.nanoTime() - up) / 1e9;
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> es.count(index) >= total);
        double lastDoc = (System.nanoTime() - up) / 1e9;

        List<JsonNode> docs = es.all(index, "message", "stream");
        Tally.report("Elasticsearch stopped 60 s, fast resume", started, Map.of("r", total), Tally.messages(docs));
        System.out.printf("[fault-scenario] fast resume: down %d s; Elasticsearch answered at %s, its shards were allocated %.2f s "
                + "later; from then: first acknowledged bulk in %.2f s, last of %d documents searchable in %.2f s (%.2f s from "
                + "its first answer; backoff 1 s doubling to 60 s)%n",
                downFor, answeredAt, (up - answered) / 1e9, firstDoc, total - before, lastDoc, lastDoc + (up - answered) / 1e9);
        // the agent's own part, from its log: when it made the breaker half-open and when the breaker closed
        Instant halfOpen = logTime(agent.output(), "circuit breaker half-open at once");
        Instant closed = logTime(agent.output(), "circuit breaker closed");
        System.out.printf("[fault-scenario] fast resume, the agent's own delay: breaker half-open %+.2f s after Elasticsearch's first "
                + "answer (its probe asks every 0.5 s while down), closed by the first bulk response %+.2f s after it%n",
                Duration.between(answeredAt, halfOpen).toMillis() / 1e3, Duration.between(answeredAt, closed).toMillis() / 1e3);
        Containers.assertExactlyOnce(docs, Map.of("r", total), false);
        assertThat(Duration.between(answeredAt, halfOpen)).as("hang guard (10x the 2 s aim, not a target): from the first answer to the"
                + " breaker half-open").isLessThan(HANG_GUARD);
        assertThat(agent.metric("logferry_output_circuit_resumed_total")).isPositive();
        assertThat(agent.output()).contains("elasticsearch answers again: circuit breaker half-open at once");
    }

    /** The time of the last line of the agent's log that contains {@code text} (lines begin with an ISO instant). */
    private static Instant logTime(String log, String text) {
        String found = null;
        for (String line : log.split("\n")) {
            if (line.contains(text)) {
                found = line;
            }
        }
        assertThat(found).as("a log line with '%s'", text).isNotNull();
        return Instant.parse(found.substring(0, found.indexOf(' ')));
    }

    /** {@code GET /_cluster/health} answers 200; with {@code writable}, with status yellow or green. */
    private static boolean health(boolean writable) {
        try {
            HttpClient c = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create(node.url() + "/_cluster/health"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && (!writable || !r.body().contains("\"status\":\"red\""));
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
