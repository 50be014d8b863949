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

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Elasticsearch unavailable in the middle of a run, on an extra node of its own (never the shared
 * server): writes blocked (an index block, then a cluster block), and the node stopped for 60 s.
 * The agent holds the events, probes the cluster through its circuit breaker instead of hammering
 * it, and when writes are possible again every line lands exactly once.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EsOutageIT {
    private static EsNode node;

    @TempDir
    Path dir;
    private GenericContainer<?> container;
    private AgentProcess agent;

    @BeforeAll
    static void startNode() throws Exception {
        node = new EsNode("outage", TestEnv.freePort(), TestEnv.freePort(),
                List.of("discovery.type=single-node", "xpack.security.enabled=false", "xpack.ml.enabled=false"));
        node.start();
    }

    @AfterAll
    static void stopNode() throws Exception {
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

    /**
     * The index's count once two reads a second apart agree: a bulk request the other worker sent before the
     * block was set may still land after the agent logged the block (a loaded machine makes that window longer).
     */
    private static long settled(Es es, String index) {
        long[] previous = {-1};
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            long now = es.count(index);
            boolean same = now == previous[0];
            previous[0] = now;
            return same;
        });
        return previous[0];
    }

    private AgentProcess agent(String run) throws Exception {
        return new AgentProcess(dir, run, "logferry.test=" + run, "", Map.of("LOGFERRY_ELASTICSEARCH_HOSTS", node.url()));
    }

    @Test
    @Order(1)
    void indexAndClusterBlocksPauseDeliveryAndDropNothing() throws Exception {
        Instant started = Instant.now();
        String run = TestEnv.uniqueName("blk");
        String index = "logs-docker-" + run;
        Es es = new Es(node.url());
        agent = agent(run);
        agent.start();
        container = Containers.shell(run, Map.of("logferry.test", run), Tally.paced("b", 20, 1000, "1"));
        container.start();
        int total = 20_000;

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> es.count(index) >= 3_000);

        // an index block (403 cluster_block_exception for each item): held, retried, logged
        assertThat(es.request("PUT", "/" + index + "/_settings", "{\"index.blocks.write\":true}").path("_status").asInt()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(60)).until(() -> agent.output().contains("blocks writes to " + index));
        long frozen = settled(es, index);
        Thread.sleep(3000);
        assertThat(es.count(index)).as("documents written while the index is blocked").isEqualTo(frozen);
        assertThat(es.request("PUT", "/" + index + "/_settings", "{\"index.blocks.write\":null}").path("_status").asInt()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> agent.output().contains("the block on " + index + " is lifted"));
        await().atMost(Duration.ofSeconds(30)).until(() -> es.count(index) >= frozen + 2_000);

        // a cluster block: the whole bulk request is refused (403)
        assertThat(es.request("PUT", "/_cluster/settings", "{\"persistent\":{\"cluster.blocks.read_only\":true}}").path("_status").asInt()).isEqualTo(200);
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> agent.output().contains("blocks writes to the cluster"));
            long frozenToo = settled(es, index);
            Thread.sleep(3000);
            assertThat(es.count(index)).as("documents written while the cluster is read-only").isEqualTo(frozenToo);
        } finally {
            es.request("PUT", "/_cluster/settings", "{\"persistent\":{\"cluster.blocks.read_only\":null}}");
        }

        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> es.count(index) >= total);
        List<JsonNode> docs = es.all(index, "message", "stream");
        Tally.report("index block, then cluster block", started, Map.of("b", total), Tally.messages(docs));
        Containers.assertExactlyOnce(docs, Map.of("b", total), false);
        assertThat(agent.metric("logferry_events_blocked_total")).isPositive();
        assertThat(agent.metric("logferry_events_dead_lettered_total")).isZero();
        assertThat(agent.metric("logferry_events_dropped_total{reason=\"dead_letter_refused\"}")).isZero();
    }

    @Test
    @Order(2)
    void elasticsearchStoppedForSixtySecondsThenStartedLosesAndDuplicatesNothing() throws Exception {
        Instant started = Instant.now();
        String run = TestEnv.uniqueName("stop");
        String index = "logs-docker-" + run;
        Es es = new Es(node.url());
        agent = agent(run);
        agent.start();
        // 40,000 lines over 40 s: most of them are written while Elasticsearch is down
        container = Containers.shell(run, Map.of("logferry.test", run), Tally.paced("s", 40, 1000, "1"));
        container.start();
        int total = 40_000;

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> es.count(index) >= 8_000);
        node.stop();
        Instant down = Instant.now();
        long failedBefore = agent.metric("logferry_bulk_requests_failed_total");

        // while it is down: the agent says so (not ready), and its breaker opens
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            HttpResponse<String> r = agent.getResponse("/ready");
            return r != null && r.statusCode() == 503;
        });
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> agent.metric("logferry_output_circuit_state") > 0);
        // ... and stays live: the image's HEALTHCHECK, run as the image runs it every 2 s through the rest of the
        // 60 s outage, never fails (under swarm an unhealthy task is replaced: an outage must not restart the agent)
        ImageHealthCheck check = new ImageHealthCheck(agent.httpPort());
        List<String> unhealthy = new ArrayList<>();
        int[] checks = {0};
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(2)).until(() -> {
            ImageHealthCheck.Result r = check.run();
            checks[0]++;
            if (!r.healthy()) {
                unhealthy.add(r.status() + ": " + r.output());
            }
            return Duration.between(down, Instant.now()).toMillis() >= 60_000;
        });
        HttpResponse<String> health = agent.getResponse("/health");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"status\":\"degraded\"").contains("elasticsearch: ");
        assertThat(unhealthy).as("the image's health check (%s) during the outage, %d runs", check.script(), checks[0]).isEmpty();
        long failedDuringOutage = agent.metric("logferry_bulk_requests_failed_total") - failedBefore;
        assertThat(agent.alive()).isTrue();

        node.start();
        Instant up = Instant.now();
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> es.count(index) >= total);
        long catchUp = Duration.between(up, Instant.now()).toSeconds();
        List<JsonNode> docs = es.all(index, "message", "stream");
        Tally.report("Elasticsearch stopped 60 s", started, Map.of("s", total), Tally.messages(docs));
        System.out.printf("[fault-scenario] outage: down %d s, %d failed bulk requests while down (probes), all lines in %d s after the restart%n",
                Duration.between(down, up).toSeconds(), failedDuringOutage, catchUp);
        Containers.assertExactlyOnce(docs, Map.of("s", total), false);

        // probed, not hammered: with backoff 200 ms → 5 s, about 20 probes in 60 s
        assertThat(failedDuringOutage).as("failed bulk requests during the 60 s outage").isBetween(1L, 40L);
        assertThat(agent.output()).contains("circuit breaker open").contains("circuit breaker closed");
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            HttpResponse<String> h = agent.getResponse("/health");
            return h != null && h.statusCode() == 200;
        });
    }
}
