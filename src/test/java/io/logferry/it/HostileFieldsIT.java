package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 23, cases 1 and 2, against the real engine and Elasticsearch, with the agent under the
 * image's JVM options (-Xss512k -Xmx192m, as {@link AgentProcess} starts it), each hostile
 * container beside a victim printing 500 numbered lines that must arrive exactly once while the
 * agent never exits:
 *
 * <ol>
 *   <li>a JSON line whose key has 20,001 dots, in a container with {@code logferry.json=true} and
 *       a processor; and a dissect indirect key ({@code %{?k} %{&k}}) fed a 300 KB dotted name.
 *       Before: {@code StackOverflowError}, exit 3, the same line again at every restart. Now the
 *       field tree keeps the name flat below {@code limits.field_max_depth} (cut at
 *       {@code limits.field_max_key_bytes}); Elasticsearch refuses a document whose flat name still
 *       holds more levels than its {@code index.mapping.depth.limit}, so the line is dead-lettered
 *       with that reason (its original kept), and the lines after it in the same container ship.</li>
 *   <li>{@code {"ecs.version":"1","container":"x","container.name":"payments"}} and other forms of
 *       the agent's own names, with a processor: the document keeps the agent's
 *       {@code container}, {@code host}, {@code log.file.path}, {@code data_stream}; the forged
 *       values are under {@code json}; a search for {@code container.name:payments} finds
 *       nothing.</li>
 * </ol>
 */
class HostileFieldsIT {
    @TempDir
    Path dir;
    private final DockerRun docker = new DockerRun();
    private AgentProcess agent;

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        docker.close();
    }

    @Test
    void deepAndHugeKeysCostOnlyTheirLine() throws Exception {
        String run = TestEnv.uniqueName("deepkeys");
        String deadLetter = "logs-logferry.deadletter-" + run;
        agent = new AgentProcess(dir, run, "logferry.test=" + run, "", Map.of("LOGFERRY_ELASTICSEARCH_DEAD_LETTER", deadLetter));
        agent.start();

        // a key of 20,001 dots (40,003 characters: under the JSON parser's 50,000 for a name), then 5 ordinary lines
        String deepJson = "awk 'BEGIN{s=\"b\"; while(length(s)<40001) s=s \".\" s; s=substr(s,1,40001);"
                + " printf \"{\\\"msg\\\":\\\"deep json\\\",\\\"a.%s\\\":1}\\n\", s; for(i=1;i<=5;i++) print \"deepjson out \" i}'";
        String deepJsonId = docker.run(run + "-deepjson", labels(run, "logferry.json", "true",
                "logferry.processors.1.add_tags.tags", "t"), deepJson);
        // a 300 KB dotted name for a dissect indirect key, then 5 ordinary lines
        String dissect = "awk 'BEGIN{s=\"k\"; while(length(s)<300001) s=s \".\" s; s=substr(s,1,300001);"
                + " print s \" v\"; for(i=1;i<=5;i++) print \"dissect out \" i}'";
        String dissectId = docker.run(run + "-dissect", labels(run, "logferry.processors.1.dissect.tokenizer", "%{?k} %{&k}"), dissect);
        docker.run(run + "-victim", labels(run), Containers.numbered("victim", 500, false));

        Es es = new Es(TestEnv.esUrl());
        String stream = "logs-docker-" + run;
        // deadlines: hang guards, about 10x what the agent needs on a quiet machine
        await("the victim's 500 lines").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> count(es, stream, "container.name", run + "-victim") >= 500);
        // the hostile line itself: Elasticsearch refuses it (mapping depth 20 exceeded by the levels kept flat as dotted
        // names), the output sends it again once with its content under logferry.flattened (issue 23, case 3), and it lands
        await("the lines after the hostile ones, and the hostile ones retyped").atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> count(es, stream, "container.name", run + "-deepjson") >= 6
                        && count(es, stream, "container.name", run + "-dissect") >= 6);

        List<JsonNode> victim = es.all(stream, "message", "stream", "container.name").stream()
                .filter(d -> d.path("container").path("name").asText().equals(run + "-victim")).toList();
        Containers.assertExactlyOnce(victim, Map.of("victim", 500), false);
        for (String tag : List.of("deepjson", "dissect")) {
            List<JsonNode> all = es.all(stream, "message", "stream", "container.name", "log.flags").stream()
                    .filter(d -> d.path("container").path("name").asText().equals(run + "-" + tag)).toList();
            List<JsonNode> after = all.stream().filter(d -> d.path("message").asText().startsWith(tag + " out ")).toList();
            Containers.assertExactlyOnce(after, Map.of(tag, 5), false);
            List<JsonNode> hostile = all.stream().filter(d -> !d.path("message").asText().startsWith(tag + " out ")).toList();
            assertThat(hostile).as("the hostile line of %s, shipped once, retyped", tag).hasSize(1);
            assertThat(hostile.get(0).path("log").path("flags").toString()).contains("mapping_conflict");
        }
        for (String id : List.of(deepJsonId, dissectId)) {
            assertThat(count(es, deadLetter, "container.id", id)).as("dead letters of %s", id).isZero();
        }
        assertThat(agent.alive()).as("the agent never exited").isTrue();
        assertThat(agent.output()).doesNotContain("StackOverflowError").doesNotContain("OutOfMemoryError");
        assertThat(agent.metric("logferry_fields_cut_total{reason=\"depth\"}")).as("names kept flat below the depth").isPositive();
        System.out.printf("HostileFieldsIT case 1: victim 500/500, 5/5 after each hostile line, the 2 hostile lines retyped (%d in all),"
                + " fields cut %d%n", agent.metric("logferry_events_retyped_total"), agent.metric("logferry_fields_cut_total{reason=\"depth\"}"));
    }

    @Test
    void contentNeverSetsTheAgentsOwnFields() throws Exception {
        String run = TestEnv.uniqueName("forged");
        String deadLetter = "logs-logferry.deadletter-" + run;
        agent = new AgentProcess(dir, run, "logferry.test=" + run, "", Map.of("LOGFERRY_ELASTICSEARCH_DEAD_LETTER", deadLetter));
        agent.start();

        String lines = String.join("\n",
                "{\"ecs.version\":\"1\",\"container\":\"x\",\"container.name\":\"payments\"}",
                "{\"container\":{\"name\":\"payments\"},\"msg\":\"nested\"}",
                "{\"container.name\":\"payments\",\"container.id\":\"x\",\"msg\":\"dotted first\"}",
                "{\"ecs\":{\"version\":\"1\"},\"host.name\":\"payments\",\"agent\":{\"id\":\"payments\"},\"log.file.path\":\"payments\","
                        + "\"log\":{\"offset\":7},\"data_stream.dataset\":\"payments\",\"event.dataset\":\"payments\",\"message\":\"m\"}",
                "{\"@timestamp\":\"2001-01-01T00:00:00Z\",\"log.level\":\"info\",\"message\":\"ecs\",\"container\":{\"id\":\"payments\"}}");
        String script = "cat <<'EOF'\n" + lines + "\nEOF";
        String forgedId = docker.run(run + "-forged", labels(run, "logferry.json", "true",
                "logferry.processors.1.add_tags.tags", "t"), script);
        String plainId = docker.run(run + "-plain", labels(run, "logferry.json", "true"), script);
        docker.run(run + "-victim", labels(run), Containers.numbered("victim", 500, false));

        Es es = new Es(TestEnv.esUrl());
        String stream = "logs-docker-" + run;
        await("the victim's 500 lines and the 10 forged ones").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> count(es, stream, "container.name", run + "-victim") >= 500
                        && count(es, stream, "container.id", forgedId) >= 5 && count(es, stream, "container.id", plainId) >= 5);

        List<JsonNode> victim = es.all(stream, "message", "stream", "container.name", "host.name").stream()
                .filter(d -> d.path("container").path("name").asText().equals(run + "-victim")).toList();
        Containers.assertExactlyOnce(victim, Map.of("victim", 500), false);
        String host = victim.get(0).path("host").path("name").asText();

        es.request("POST", "/" + stream + "/_refresh", null);
        for (String field : List.of("container.name", "container.id", "host.name", "agent.id", "log.file.path", "data_stream.dataset",
                "event.dataset")) {
            assertThat(count(es, stream, field, "payments")).as("documents with %s:payments", field).isZero();
        }
        assertThat(es.request("POST", "/" + stream + "/_count", "{\"query\":{\"query_string\":{\"query\":\"container.name:payments\"}}}")
                .path("count").asLong()).as("a search for container.name:payments").isZero();
        for (String id : List.of(forgedId, plainId)) {
            List<JsonNode> docs = search(es, stream, "container.id", id);
            assertThat(docs).as("the forged lines of %s, shipped once each", id).hasSize(5);
            for (JsonNode hit : docs) {
                JsonNode d = hit.path("_source");
                assertThat(d.at("/container/id").asText()).as(d.toString()).isEqualTo(id);
                assertThat(d.at("/container/name").asText()).as(d.toString()).startsWith(run);
                assertThat(d.has("container.name")).as(d.toString()).isFalse();
                assertThat(d.at("/host/name").asText()).as(d.toString()).isEqualTo(host);
                assertThat(d.at("/data_stream/dataset").asText()).as(d.toString()).isEqualTo("docker");
                assertThat(d.at("/log/file/path").asText()).as(d.toString()).endsWith("-json.log");
            }
        }
        assertThat(count(es, stream, "json.container.name", "payments")).as("the forged names kept under json (3 lines x 2 containers)")
                .isEqualTo(6);
        assertThat(es.count(deadLetter)).as("nothing dead-lettered").isZero();
        assertThat(agent.alive()).as("the agent never exited").isTrue();
        System.out.printf("HostileFieldsIT case 2: victim 500/500, 10 forged lines shipped with the agent's own fields, "
                + "container.name:payments 0 hits, json.container.name:payments %d%n", count(es, stream, "json.container.name", "payments"));
    }

    private static long count(Es es, String index, String field, String value) {
        es.request("POST", "/" + index + "/_refresh?ignore_unavailable=true", null);
        JsonNode r = es.request("POST", "/" + index + "/_count?ignore_unavailable=true",
                "{\"query\":{\"term\":{\"" + field + "\":\"" + value + "\"}}}");
        return r.path("count").asLong(0);
    }

    private static List<JsonNode> search(Es es, String index, String field, String value) {
        JsonNode r = es.request("POST", "/" + index + "/_search?ignore_unavailable=true",
                "{\"size\":100,\"query\":{\"term\":{\"" + field + "\":\"" + value + "\"}}}");
        return java.util.stream.StreamSupport.stream(r.path("hits").path("hits").spliterator(), false).toList();
    }

    private static Map<String, String> labels(String run, String... kv) {
        Map<String, String> m = new HashMap<>();
        m.put("logferry.test", run);
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }
}
