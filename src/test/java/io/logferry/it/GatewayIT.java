package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Elasticsearch behind a gateway at a path ({@code http://gw/elastic}): a prefix-stripping proxy on
 * loopback forwards only what comes under {@code /elastic} to the real Elasticsearch. {@code setup},
 * {@code check} and the agent (its bulk requests, template, probe) all keep the prefix: every line
 * arrives exactly once and nothing is asked outside it.
 */
class GatewayIT {
    @TempDir
    Path dir;
    private FaultProxy proxy;
    private AgentProcess agent;
    private GenericContainer<?> container;

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
    void everyRequestKeepsTheHostsPathPrefix() throws Exception {
        String run = TestEnv.uniqueName("gw");
        String index = "logs-docker-" + run;
        proxy = new FaultProxy(TestEnv.esUrl(), Integer.MAX_VALUE, Integer.MAX_VALUE).under("/elastic");
        Map<String, String> env = Map.of("LOGFERRY_ELASTICSEARCH_HOSTS", proxy.url() + "/elastic/");
        agent = new AgentProcess(dir, run, "logferry.test=" + run, "", env);
        Cli check = Cli.run(dir, env, "check", "--config", agent.configFile().toString());
        assertThat(check.out()).contains("elasticsearch: ok");
        agent.start();
        container = Containers.shell(run, Map.of("logferry.test", run), Containers.numbered("g", 500, false) + "; sleep 3600");
        container.start();
        Es es = new Es(TestEnv.esUrl());
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> es.count(index) >= 500);
        List<JsonNode> docs = es.all(index, "message", "stream");
        Containers.assertExactlyOnce(docs, Map.of("g", 500), false);
        assertThat(proxy.bulkRequests.get()).as("bulk requests through the gateway").isPositive();
        assertThat(proxy.outsidePrefix.get()).as("requests outside /elastic").isZero();
        assertThat(agent.getResponse("/ready").statusCode()).as("the probe goes through the gateway too").isEqualTo(200);
    }
}
