package io.logferry.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Elasticsearch overloaded: a loopback {@link FaultProxy} in front of the shared server answers
 * every 4th bulk request 503 and reports every 7th accepted item as 429. The agent retries the
 * whole request or the failed items only, with backoff, and every line lands exactly once (the
 * items that were written but reported 429 come back as 409 on the retry: absorbed by the _id).
 */
class OverloadIT {
    private static final int CHUNKS = 20;
    private static final int PER_CHUNK = 1000;

    @TempDir
    Path dir;
    private GenericContainer<?> container;
    private AgentProcess agent;
    private FaultProxy proxy;

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (container != null) {
            container.stop();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void fiveHundredThreesAndFourTwentyNinesAreRetriedUntilEveryLineIsThereOnce() throws Exception {
        Instant started = Instant.now();
        String run = TestEnv.uniqueName("ovl");
        String index = "logs-docker-" + run;
        Es es = new Es(TestEnv.esUrl());
        proxy = new FaultProxy(TestEnv.esUrl(), 4, 7);
        agent = new AgentProcess(dir, run, "logferry.test=" + run, "", Map.of("LOGFERRY_ELASTICSEARCH_HOSTS", proxy.url()));
        agent.start();
        container = Containers.shell(run, Map.of("logferry.test", run), Tally.paced("o", CHUNKS, PER_CHUNK, "0.2"));
        container.start();

        int total = CHUNKS * PER_CHUNK;
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> es.count(index) >= total);
        // whatever is still being retried lands too; nothing more may arrive after that
        await().atMost(Duration.ofSeconds(30)).until(() -> agent.metric("logferry_events_acked_total") >= total);
        var docs = es.all(index, "message", "stream");
        Tally.report("429/503 proxy", started, Map.of("o", total), Tally.messages(docs));
        System.out.printf("[fault-scenario] proxy: %d bulk requests, %d answered 503, %d items rewritten to 429; agent retried %d, duplicates absorbed %d%n",
                proxy.bulkRequests.get(), proxy.answered503.get(), proxy.rewritten429.get(),
                agent.metric("logferry_events_retried_total"), agent.metric("logferry_events_duplicate_total"));
        Containers.assertExactlyOnce(docs, Map.of("o", total), false);

        assertThat(proxy.answered503.get()).as("requests answered 503").isPositive();
        assertThat(proxy.rewritten429.get()).as("items reported 429").isPositive();
        assertThat(agent.metric("logferry_events_retried_total")).as("logferry_events_retried_total").isPositive();
        // every item reported 429 was in fact written: its retry meets a 409, counted as delivered
        assertThat(agent.metric("logferry_events_duplicate_total")).isPositive();
        assertThat(agent.metric("logferry_events_dead_lettered_total")).isZero();
    }
}
