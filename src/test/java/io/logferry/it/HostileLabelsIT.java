package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Labels are untrusted input (issue 12): containers with the hostile labels of the issue (a
 * catastrophic regex on long lines, an overflowing duration, a 40 KB nested regex, a dataset
 * aiming at the dead-letter stream, a value that forges log lines and clears the terminal, more
 * data streams than labels.max_data_streams, 300 labels) next to an ordinary container, on the
 * real engine and Elasticsearch: everything is shipped exactly once where the limits say, the
 * agent's log and {@code check} show each refusal on one escaped line, and the metrics count them.
 */
class HostileLabelsIT {
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
    void hostileLabelsAreRefusedAndEveryContainerIsStillShipped() throws Exception {
        String run = TestEnv.uniqueName("hostile");
        String forged = "all\n2026-12-01T00:00:00.000Z INFO  [main] Agent: forged " + run + "\u001b[2J";
        Map<String, Map<String, String>> labels = new LinkedHashMap<>();
        Map<String, String> scripts = new LinkedHashMap<>();
        labels.put("regex", Map.of("logferry.exclude_lines", ".*.*.*.*.*.*="));
        scripts.put("regex", "x=$(printf '%3000s' '' | tr ' ' x); i=1; while [ $i -le 200 ]; do echo \"regex $i $x\"; i=$((i+1)); done; echo 'with = excluded'");
        labels.put("timeout", Map.of("logferry.multiline", "java", "logferry.multiline.timeout", "3000000000000000h"));
        scripts.put("timeout", "echo 't 1'; echo 't 2'; echo 't 3'");
        labels.put("nested", Map.of("logferry.multiline.pattern", "(".repeat(20_480) + "a" + ")".repeat(20_480)));
        scripts.put("nested", "echo 'n 1'; echo 'n 2'");
        labels.put("spoof", Map.of("logferry.dataset", "logferry.deadletter"));
        scripts.put("spoof", "echo 's 1'; echo 's 2'");
        labels.put("evil", Map.of("logferry.streams", forged));
        scripts.put("evil", "echo 'e 1'");
        for (String ns : List.of("a", "b", "c")) {
            labels.put("ns" + ns, Map.of("logferry.namespace", run + ns));
            scripts.put("ns" + ns, "echo 'ns " + ns + "'");
        }
        Map<String, String> many = new HashMap<>();
        for (int i = 0; i < 300; i++) {
            many.put(String.format("com.example.label%03d", i), "value " + i);
        }
        labels.put("many", many);
        scripts.put("many", "echo 'm 1'");
        labels.put("plain", Map.of());
        scripts.put("plain", Containers.numbered(run, 1000, false));

        Map<String, String> ids = new HashMap<>();
        for (String name : labels.keySet()) {
            Map<String, String> l = new HashMap<>(labels.get(name));
            l.put("logferry.test", run);
            ids.put(name, docker.run(run + "-" + name, l, scripts.get(name)));
        }
        agent = new AgentProcess(dir, run, "logferry.test=" + run, "", Map.of("LOGFERRY_LABELS_MAX_DATA_STREAMS", "2"));
        agent.start();

        Es es = new Es(TestEnv.esUrl());
        String all = "logs-*-" + run + "*";
        int expected = 200 + 3 + 2 + 2 + 1 + 3 + 1 + 1000;
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count(all) >= expected);
        List<JsonNode> docs = es.all(all, "message", "stream", "container.name", "container.labels", "data_stream");
        assertThat(docs).hasSize(expected);
        Map<String, List<JsonNode>> by = docs.stream()
                .collect(Collectors.groupingBy(d -> d.path("container").path("name").asText().substring(run.length() + 1)));

        // the catastrophic regex runs in linear time: 200 lines of 3,000 characters, the one with '=' excluded
        assertThat(by.get("regex")).hasSize(200).noneSatisfy(d -> assertThat(d.path("message").asText()).contains("="));
        assertThat(by.get("timeout")).hasSize(3);
        assertThat(by.get("nested")).hasSize(2);
        Containers.assertExactlyOnce(by.get("plain"), Map.of(run, 1000), false);

        // the spoofing container lands in the default stream; the dead-letter stream holds nothing of it
        assertThat(by.get("spoof")).allSatisfy(d -> assertThat(d.path("data_stream").path("dataset").asText()).isEqualTo("docker"));
        JsonNode dl = es.request("GET", "/logs-logferry.deadletter-*/_count?q=container.name:" + run + "-spoof", null);
        assertThat(dl.path("count").asLong()).isZero();

        // two of the three namespaces got their stream, the third went to the default stream
        Map<String, String> streamOf = new HashMap<>();
        for (String ns : List.of("a", "b", "c")) {
            streamOf.put("ns" + ns, by.get("ns" + ns).get(0).path("data_stream").path("namespace").asText());
        }
        assertThat(streamOf.values().stream().filter(n -> n.equals(run)).count()).as(streamOf.toString()).isEqualTo(1);
        String capped = streamOf.entrySet().stream().filter(e -> e.getValue().equals(run)).findFirst().orElseThrow().getKey();

        // container.labels capped at 100 (sorted by key: logferry_test comes after com_example_*)
        JsonNode manyLabels = by.get("many").get(0).path("container").path("labels");
        assertThat(manyLabels.size()).isEqualTo(100);
        assertThat(manyLabels.has("com_example_label000")).isTrue();
        assertThat(manyLabels.has("com_example_label100")).isFalse();

        // the image may add labels of its own
        int manyTotal = docker.client().inspectContainerCmd(ids.get("many")).exec().getConfig().getLabels().size();
        assertThat(manyTotal).isGreaterThanOrEqualTo(301);

        // metrics: one warning per refusal, counted by reason; the labels of "many" beyond 100 left out, 1 value cut of "nested"
        await().atMost(Duration.ofSeconds(30)).until(() -> agent.metric("logferry_label_refusals_total{reason=\"data_stream_cap\"}") == 1);
        assertThat(agent.metric("logferry_label_refusals_total{reason=\"regex\"}")).isEqualTo(1);
        assertThat(agent.metric("logferry_label_refusals_total{reason=\"duration\"}")).isEqualTo(1);
        assertThat(agent.metric("logferry_label_refusals_total{reason=\"dataset\"}")).isEqualTo(1);
        assertThat(agent.metric("logferry_label_refusals_total{reason=\"invalid\"}")).isEqualTo(1);
        assertThat(agent.metric("logferry_label_refusals_total{reason=\"container_labels\"}")).isEqualTo(2);
        // not counting unknown-label warnings: a test image built by an older env-up.sh carries the label logferry.test-image.hash
        // (an image built by today's has none, and then the series does not exist: metric() says -1)
        assertThat(agent.metric("logferry_label_warnings_total")
                - Math.max(0, agent.metric("logferry_label_refusals_total{reason=\"unknown_label\"}")))
                .isEqualTo(7);
        assertThat(agent.metric("logferry_container_labels_cut_total")).isEqualTo(manyTotal - 100 + 1);
        assertThat(agent.metric("logferry_label_data_streams")).isEqualTo(2);

        // the agent's log: each refusal on one line, escaped; nothing forged, no terminal escape, no 40 KB line
        String log = agent.output();
        assertThat(log).doesNotContain("\u001b").doesNotContain("\nforged").doesNotContain("\n2026-12-01T00:00:00.000Z INFO  [main] Agent: forged");
        assertThat(log).contains("label logferry.streams='all\\n2026-12-01T00:00:00.000Z INFO  [main] Agent: forged " + run + "\\e[2J'");
        assertThat(log.lines().mapToInt(String::length).max().orElse(0)).isLessThan(2_000);
        assertThat(log).contains(run + "-" + capped).contains("beyond labels.max_data_streams (2");
        assertThat(log).doesNotContain("lost the Docker engine");

        // check: the same refusals, the same container over the cap, escaped
        Cli check = Cli.run(dir, Map.of("LOGFERRY_LABELS_MAX_DATA_STREAMS", "2"), "check", "--config", agent.configFile().toString());
        assertThat(check.out()).doesNotContain("\u001b").contains("refused (regex): label logferry.multiline.pattern=")
                .contains("refused (duration): label logferry.multiline.timeout='3000000000000000h'")
                .contains("refused (dataset): label logferry.dataset='logferry.deadletter' is reserved")
                .contains("refused (container_labels): container.labels in the documents: " + (manyTotal - 100) + " of " + manyTotal
                        + " labels left out");
        List<String> capLines = check.out().lines().filter(l -> l.contains("refused (data_stream_cap)")).toList();
        assertThat(capLines).singleElement().asString().contains("logs-docker-" + run + capped.substring(2));
        assertThat(check.out().lines().filter(l -> l.contains("  ship  " + run + "-" + capped)).findFirst().orElseThrow())
                .contains("-> logs-docker-" + run + ":");
        assertThat(check.out().lines().mapToInt(String::length).max().orElse(0)).isLessThan(2_000);
        assertThat(ids).hasSize(10);
    }
}
