package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A two-node cluster on loopback, both nodes in {@code elasticsearch.hosts}; one node is killed
 * (SIGKILL) in the middle of the run. The client marks it dead and sends every request, including
 * the one that was in flight, to the other node; nothing is lost or duplicated.
 *
 * <p>Which node to kill: with two master-eligible nodes, Elasticsearch keeps the voting
 * configuration odd, so only one of them votes — the elected master (the test checks this before
 * the kill). Killing the master would leave the survivor without a quorum: no master, every write
 * refused until the master comes back. That is an outage (EsOutageIT covers it), not a failover.
 * Killing the other node keeps the master and the quorum, and is the failure a two-node cluster
 * survives. A third, voting-only tiebreaker node would let either node die, but costs a third JVM
 * on a small machine that other tests share, and adds nothing to what the agent has to do: move
 * its requests to the node that answers.
 *
 * <p>So that the data on the killed node survives, the index has a replica (one copy per node);
 * and so that the killed node certainly holds a primary, the data stream has two shards (the
 * test installs the agent's own template with {@code number_of_shards: 2} and runs the agent with
 * {@code setup.enabled: false}). After the kill, the survivor promotes its replicas.
 */
class TwoNodeClusterIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNKS = 40;
    private static final int PER_CHUNK = 1000;

    @TempDir
    Path dir;
    private final List<EsNode> nodes = new ArrayList<>();
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
        for (int i = 0; i < nodes.size(); i++) {
            java.nio.file.Files.createDirectories(Path.of("target", "it-logs"));
            java.nio.file.Files.writeString(Path.of("target", "it-logs", "two-node-cluster-es" + i + ".log"), nodes.get(i).console());
            nodes.get(i).close();
        }
    }

    @Test
    void oneNodeKilledMidRunRequestsMoveToTheOtherAndNothingIsLostOrDuplicated() throws Exception {
        Instant started = Instant.now();
        String run = TestEnv.uniqueName("two");
        String index = "logs-docker-" + run;
        int httpA = TestEnv.freePort();
        int httpB = TestEnv.freePort();
        int transportA = TestEnv.freePort();
        int transportB = TestEnv.freePort();
        String nameA = "a-" + run;
        String nameB = "b-" + run;
        List<String> settings = List.of("cluster.name=lf2-" + run,
                "discovery.seed_hosts=127.0.0.1:" + transportA + ",127.0.0.1:" + transportB,
                "cluster.initial_master_nodes=" + nameA + "," + nameB,
                "xpack.security.enabled=false", "xpack.ml.enabled=false");
        EsNode a = new EsNode(nameA, httpA, transportA, settings);
        nodes.add(a);
        EsNode b = new EsNode(nameB, httpB, transportB, settings);
        nodes.add(b);
        a.startAsync();
        b.startAsync();
        a.awaitUp();
        b.awaitUp();
        Es esA = new Es(a.url());
        assertThat(esA.request("GET", "/_cluster/health?wait_for_nodes=2&timeout=60s", null).path("number_of_nodes").asInt()).isEqualTo(2);
        // the index template as `logferry setup` makes it for this cluster (types it lacks fall back), then with two shards and a replica
        Cli setup = Cli.run(dir, Map.of("LOGFERRY_ELASTICSEARCH_HOSTS", a.url()), "setup");
        assertThat(setup.exit()).as(setup.toString()).isZero();
        esA.request("PUT", "/_index_template/logferry", twoShardTemplate(esA));

        // find the master, and check that it alone votes (the voting configuration shrinks to it once elected)
        JsonNode master = esA.request("GET", "/_cat/master?format=json", null).get(0);
        String masterName = master.path("node").asText();
        String masterId = master.path("id").asText();
        await().atMost(Duration.ofSeconds(30)).until(() -> votingConfig(esA).equals(List.of(masterId)));
        EsNode victim = masterName.equals(nameA) ? b : a;
        EsNode survivor = victim == a ? b : a;
        String victimName = victim == a ? nameA : nameB;
        Es es = new Es(survivor.url());

        agent = new AgentProcess(dir, run, "logferry.test=" + run, "",
                Map.of("LOGFERRY_ELASTICSEARCH_HOSTS", a.url() + "," + b.url(), "LOGFERRY_SETUP_ENABLED", "false"));
        agent.start();
        container = Containers.shell(run, Map.of("logferry.test", run), Tally.paced("n", CHUNKS, PER_CHUNK, "1"));
        container.start();
        int total = CHUNKS * PER_CHUNK;

        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> esA.count(index) >= 10_000);

        // every shard has a copy on both nodes
        assertThat(esA.request("GET", "/_cluster/health/" + index + "?wait_for_status=green&timeout=60s", null).path("status").asText()).isEqualTo("green");
        System.out.printf("[fault-scenario] two nodes: master %s (the only voter); killing %s, which holds %s%n", masterName, victimName,
                shards(es, index, victimName));

        victim.kill();
        long atKill = es.count(index);
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> es.count(index) >= total);
        List<JsonNode> docs = es.all(index, "message", "stream");
        Tally.report("two-node cluster, one node killed", started, Map.of("n", total), Tally.messages(docs));
        System.out.printf("[fault-scenario] two nodes: %d lines in the index at the kill; after it the survivor holds %s; "
                + "%d bulk requests failed, %d event deliveries retried%n", atKill, shards(es, index, masterName),
                agent.metric("logferry_bulk_requests_failed_total"), agent.metric("logferry_events_retried_total"));
        Containers.assertExactlyOnce(docs, Map.of("n", total), false);

        // the client marked the killed node dead and moved on
        assertThat(agent.output()).contains("host " + victim.url() + " failed and is marked dead");
        assertThat(es.request("GET", "/_cluster/health", null).path("number_of_nodes").asInt()).isEqualTo(1);
    }

    /** The agent's index template with two shards and one replica per shard. */
    private static String twoShardTemplate(Es es) throws IOException {
        JsonNode t = es.request("GET", "/_index_template/logferry", null).path("index_templates").get(0).path("index_template");
        ObjectNode template = (ObjectNode) t.get("template");
        ObjectNode settings = template.get("settings") instanceof ObjectNode o ? o : template.putObject("settings");
        ObjectNode index = settings.get("index") instanceof ObjectNode o ? o : settings.putObject("index");
        index.put("number_of_shards", 2);
        index.put("number_of_replicas", 1);
        return JSON.writeValueAsString(t);
    }

    private static List<String> votingConfig(Es es) {
        List<String> ids = new ArrayList<>();
        es.request("GET", "/_cluster/state/metadata?filter_path=metadata.cluster_coordination.last_committed_config", null)
                .path("metadata").path("cluster_coordination").path("last_committed_config").forEach(n -> ids.add(n.asText()));
        return ids;
    }

    /** The shard copies of the index's backing indices on one node, as "0p 1r". */
    private static String shards(Es es, String index, String node) {
        JsonNode rows = es.request("GET", "/_cat/shards/" + index + "?format=json&h=shard,prirep,state,node", null);
        StringBuilder out = new StringBuilder();
        for (JsonNode r : rows) {
            if (node.equals(r.path("node").asText())) {
                out.append(out.isEmpty() ? "" : " ").append(r.path("shard").asText()).append(r.path("prirep").asText());
            }
        }
        return out.isEmpty() ? "no shard" : "shards " + out;
    }
}
