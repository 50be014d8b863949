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
 * Parsing chosen by labels on real containers: one container per processor kind with its hint,
 * checked in Elasticsearch field by field; one with an ingest pipeline the test creates (its
 * count in the node's ingest stats), and one naming a pipeline that does not exist (its documents in the
 * dead-letter stream, one warning in the agent's log). This distribution's only ingest processor is
 * {@code set_security_user}, which fails with security off: with {@code ignore_failure} it makes the
 * pipeline count each document (an empty pipeline counts none).
 */
class ProcessorsIT {
    private static final String HINT = "co.elastic.logs/processors.";
    @TempDir
    Path dir;
    private final DockerRun docker = new DockerRun();
    private AgentProcess agent;
    private String pipeline;
    private Es es;

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        docker.close();
        if (pipeline != null) {
            es.request("DELETE", "/_ingest/pipeline/" + pipeline, null);
        }
    }

    private static int indexOf(List<String> lines, String prefix) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(prefix)) {
                return i;
            }
        }
        throw new AssertionError("no line starting with '" + prefix + "' in:\n" + String.join("\n", lines));
    }

    private record Case(Map<String, String> labels, String script) { }

    @Test
    void eachProcessorHintAndPipelineLabelHasItsEffect() throws Exception {
        String run = TestEnv.uniqueName("proc");
        es = new Es(TestEnv.esUrl());
        pipeline = run + "-piped";
        String missing = run + "-missing";
        assertThat(es.request("PUT", "/_ingest/pipeline/" + pipeline, "{\"description\":\"logferry ProcessorsIT\",\"processors\":[{\"set_security_user\":{\"field\":\"u\",\"ignore_failure\":true}}]}")
                .path("acknowledged").asBoolean()).isTrue();
        String deadLetter = "logs-logferry.deadletter-" + run;

        Map<String, Case> cases = new LinkedHashMap<>();
        cases.put("dissect", new Case(Map.of(HINT + "1.dissect.tokenizer", "%{client} %{method} %{path} %{code|integer}"),
                "echo '10.0.0.1 GET /a 200'; echo 'garbage'"));
        cases.put("addfields", new Case(Map.of(HINT + "add_fields.target", "", HINT + "add_fields.fields.service.name", "api"),
                "echo 'af 1'"));
        cases.put("addtags", new Case(Map.of("logferry.processors.add_tags.tags", "[web, prod]"), "echo 'at 1'"));
        cases.put("dropfields", new Case(Map.of("logferry.json", "true", HINT + "1.drop_fields.fields", "secret,nope",
                HINT + "1.drop_fields.ignore_missing", "true"), "echo '{\"message\":\"df 1\",\"secret\":\"s3\",\"keep\":1}'"));
        cases.put("rename", new Case(Map.of(HINT + "1.dissect.tokenizer", "%{lvl} %{rest}",
                HINT + "2.rename.fields.0.from", "dissect.lvl", HINT + "2.rename.fields.0.to", "log.level"), "echo 'WARN disk low'"));
        cases.put("dropevent", new Case(Map.of(HINT + "drop_event.when.or.0.regexp.message", "^DEBUG",
                HINT + "drop_event.when.or.1.contains.message", "healthz"),
                "echo 'INFO a'; echo 'DEBUG b'; echo 'GET /healthz'; echo 'INFO c'"));
        cases.put("pipeline", new Case(Map.of("logferry.pipeline", pipeline), "echo 'p 1'; echo 'p 2'"));
        cases.put("missing", new Case(Map.of("co.elastic.logs/pipeline", missing), "echo 'm 1'; echo 'm 2'; echo 'm 3'"));

        agent = new AgentProcess(dir, run, "logferry.test=" + run, "",
                Map.of("LOGFERRY_ELASTICSEARCH_DEAD_LETTER", deadLetter));
        agent.start();
        for (Map.Entry<String, Case> c : cases.entrySet()) {
            Map<String, String> labels = new HashMap<>(c.getValue().labels());
            labels.put("logferry.test", run);
            docker.run(run + "-" + c.getKey(), labels, c.getValue().script());
        }
        String index = "logs-docker-" + run;
        // 2 dissect + 1 + 1 + 1 + 1 + 2 kept of 4 + 2 piped; the 3 of the missing pipeline go to the dead letters
        int expected = 2 + 1 + 1 + 1 + 1 + 2 + 2;
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count(index) >= expected && es.count(deadLetter) >= 3
                        && agent.metric("logferry_events_dropped_total{reason=\"drop_event\"}") >= 2);

        List<JsonNode> docs = es.all(index, "message", "container.name", "dissect", "service", "tags", "secret", "keep", "log",
                "fields");
        assertThat(docs).hasSize(expected);
        Map<String, List<JsonNode>> by = docs.stream()
                .collect(Collectors.groupingBy(d -> d.path("container").path("name").asText().substring(run.length() + 1)));

        JsonNode parsed = by.get("dissect").get(0);
        assertThat(parsed.path("message").asText()).isEqualTo("10.0.0.1 GET /a 200");
        assertThat(parsed.path("dissect").path("client").asText()).isEqualTo("10.0.0.1");
        assertThat(parsed.path("dissect").path("method").asText()).isEqualTo("GET");
        assertThat(parsed.path("dissect").path("path").asText()).isEqualTo("/a");
        assertThat(parsed.path("dissect").path("code").isIntegralNumber()).as(parsed.toString()).isTrue();
        assertThat(parsed.path("dissect").path("code").asInt()).isEqualTo(200);
        assertThat(parsed.path("log").has("flags")).isFalse();
        JsonNode garbage = by.get("dissect").get(1);
        assertThat(garbage.path("message").asText()).isEqualTo("garbage");
        assertThat(garbage.path("log").path("flags").toString()).isEqualTo("[\"dissect_parsing_error\"]");
        assertThat(garbage.has("dissect")).isFalse();
        assertThat(agent.metric("logferry_dissect_failures_total")).isEqualTo(1);

        assertThat(by.get("addfields").get(0).path("service").path("name").asText()).isEqualTo("api");
        assertThat(by.get("addtags").get(0).path("tags").toString()).isEqualTo("[\"web\",\"prod\"]");
        JsonNode df = by.get("dropfields").get(0);
        assertThat(df.path("message").asText()).isEqualTo("df 1");
        assertThat(df.has("secret")).isFalse();
        assertThat(df.path("keep").asInt()).isEqualTo(1);
        JsonNode renamed = by.get("rename").get(0);
        assertThat(renamed.path("log").path("level").asText()).as("an ECS field where the processor names it").isEqualTo("WARN");
        assertThat(renamed.path("dissect").path("rest").asText()).isEqualTo("disk low");
        assertThat(renamed.path("dissect").has("lvl")).isFalse();

        assertThat(by.get("dropevent").stream().map(d -> d.path("message").asText())).containsExactly("INFO a", "INFO c");
        assertThat(agent.metric("logferry_events_dropped_total{reason=\"drop_event\"}")).isEqualTo(2);

        assertThat(by.get("pipeline")).hasSize(2);
        JsonNode stats = es.request("GET", "/_nodes/stats/ingest?filter_path=nodes.*.ingest.pipelines." + pipeline, null);
        long piped = 0;
        for (JsonNode node : stats.path("nodes")) {
            piped += node.path("ingest").path("pipelines").path(pipeline).path("count").asLong();
        }
        assertThat(piped).as("documents through the pipeline, from the node's ingest stats: " + stats).isEqualTo(2);

        assertThat(by).doesNotContainKey("missing");
        List<JsonNode> letters = es.all(deadLetter, "message", "error", "container", "document");
        assertThat(letters).hasSize(3);
        assertThat(letters).allSatisfy(l -> {
            assertThat(l.path("error").path("message").asText()).contains(missing);
            assertThat(l.path("document").path("index").asText()).isEqualTo(index);
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> agent.output().contains("sent through ingest pipeline " + missing));
        String log = agent.output();
        int warnings = log.split("sent through ingest pipeline " + java.util.regex.Pattern.quote(missing), -1).length - 1;
        assertThat(warnings).as("one warning for the container, not one per document:\n" + log).isEqualTo(1);
        // check shows each container's pipeline and its processors in the order they run
        Cli check = Cli.run(dir, Map.of("LOGFERRY_ELASTICSEARCH_DEAD_LETTER", deadLetter), "check", "--config", agent.configFile().toString());
        List<String> out = check.out().lines().toList();
        int dissectAt = indexOf(out, "  ship  " + run + "-dissect ");
        assertThat(out.get(dissectAt + 1)).isEqualTo(
                "        processor 1 dissect tokenizer='%{client} %{method} %{path} %{code|integer}' target_prefix='dissect'");
        int renameAt = indexOf(out, "  ship  " + run + "-rename ");
        assertThat(out.subList(renameAt + 1, renameAt + 3)).containsExactly(
                "        processor 1 dissect tokenizer='%{lvl} %{rest}' target_prefix='dissect'",
                "        processor 2 rename fields=[dissect.lvl->log.level]");
        assertThat(out.get(indexOf(out, "  ship  " + run + "-dropevent ") + 1)).isEqualTo(
                "        processor 1 drop_event when or(regexp.message='^DEBUG', contains.message='healthz')");
        assertThat(out.get(indexOf(out, "  ship  " + run + "-pipeline "))).endsWith(", pipeline " + pipeline);
        System.out.printf("[processors] %d documents checked field by field, %d dropped by drop_event, %d through pipeline %s, "
                + "%d dead letters for the missing pipeline, %d warning%n", docs.size(), 2, piped, pipeline, letters.size(), warnings);
    }

    /**
     * Filebeat's hints people write (issue 26) on the real engine: {@code decode_json_fields} then
     * {@code timestamp} (the document's time from the line) beside a refused processor that leaves
     * the others running; {@code json.keys_under_root}+{@code overwrite_keys} on an ECS logger's
     * lines (its {@code @timestamp} the document's, its forged {@code container.id} and
     * {@code data_stream} not); {@code json.*} with Filebeat's default (keys under {@code json}); and a
     * victim container beside them whose every line arrives exactly once.
     */
    @Test
    void filebeatsJsonAndTimestampHintsAsFilebeatWithAVictimBeside() throws Exception {
        String run = TestEnv.uniqueName("fbhints");
        es = new Es(TestEnv.esUrl());
        String hint = "co.elastic.logs/";
        Map<String, Case> cases = new LinkedHashMap<>();
        cases.put("djf", new Case(Map.of(
                HINT + "1.decode_json_fields.fields", "message",
                HINT + "1.decode_json_fields.target", "app",
                HINT + "2.timestamp.field", "app.ts",
                HINT + "2.timestamp.layouts", "2006-01-02T15:04:05.999Z07:00",
                HINT + "2.timestamp.test", "2021-05-06T07:08:09.123Z",
                HINT + "3.script.source", "function process(event) { }",
                HINT + "4.add_tags.tags", "still-applied"),
                "echo '{\"user\":{\"id\":7},\"ts\":\"2021-05-06T07:08:09.123Z\",\"msg\":\"hi\"}'"));
        cases.put("ecs", new Case(Map.of(hint + "json.keys_under_root", "true", hint + "json.overwrite_keys", "true",
                hint + "json.add_error_key", "true", hint + "json.message_key", "message"),
                "echo '{\"@timestamp\":\"2020-01-02T03:04:05.678Z\",\"log.level\":\"info\",\"message\":\"ecs hi\","
                        + "\"ecs.version\":\"1.6.0\",\"container\":{\"id\":\"forged\"},\"data_stream\":{\"dataset\":\"evil\"},"
                        + "\"host\":{\"name\":\"forged\"},\"app\":{\"k\":1}}'; echo 'not json'"));
        cases.put("under", new Case(Map.of(hint + "json.message_key", "msg"),
                "echo '{\"msg\":\"under hi\",\"a\":1,\"service\":\"s\"}'; echo 'plain'"));
        int victimLines = 300;
        cases.put("victim", new Case(Map.of(), "i=0; while [ $i -lt " + victimLines + " ]; do echo \"victim $i\"; i=$((i+1)); done"));

        agent = new AgentProcess(dir, run, "logferry.test=" + run, "", Map.of());
        agent.start();
        Map<String, String> ids = new HashMap<>();
        for (Map.Entry<String, Case> c : cases.entrySet()) {
            Map<String, String> labels = new HashMap<>(c.getValue().labels());
            labels.put("logferry.test", run);
            ids.put(c.getKey(), docker.run(run + "-" + c.getKey(), labels, c.getValue().script()));
        }
        String index = "logs-docker-" + run;
        int expected = 1 + 2 + 2 + victimLines;
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count(index) >= expected);
        List<JsonNode> docs = es.all(index, "@timestamp", "message", "container", "app", "tags", "json", "log", "error", "host",
                "data_stream", "a", "service");
        assertThat(docs).hasSize(expected);
        Map<String, List<JsonNode>> by = docs.stream()
                .collect(Collectors.groupingBy(d -> d.path("container").path("name").asText().substring(run.length() + 1)));

        // decode_json_fields into app, timestamp from app.ts: the document's time; the refused script left out, add_tags applied
        JsonNode djf = by.get("djf").get(0);
        assertThat(djf.path("app").path("user").path("id").asInt()).as(djf.toString()).isEqualTo(7);
        assertThat(djf.path("app").path("msg").asText()).isEqualTo("hi");
        assertThat(djf.path("@timestamp").asText()).isEqualTo("2021-05-06T07:08:09.123Z");
        assertThat(djf.path("tags").toString()).isEqualTo("[\"still-applied\"]");
        await().atMost(Duration.ofSeconds(30)).until(() -> agent.output().contains("processors.3.script.*"));
        assertThat(agent.output()).contains("left out, the container's other processors apply");

        // an ECS logger with keys_under_root + overwrite_keys: its @timestamp is the document's; identity stays the agent's
        JsonNode ecs = by.get("ecs").stream().filter(d -> d.path("message").asText().equals("ecs hi")).findFirst().orElseThrow();
        assertThat(ecs.path("@timestamp").asText()).isEqualTo("2020-01-02T03:04:05.678Z");
        assertThat(ecs.path("log").path("level").asText()).isEqualTo("info");
        assertThat(ecs.path("app").path("k").asInt()).isEqualTo(1);
        assertThat(ecs.path("container").path("id").asText()).isEqualTo(ids.get("ecs"));
        assertThat(ecs.path("json").path("container").path("id").asText()).isEqualTo("forged");
        assertThat(ecs.path("data_stream").path("dataset").asText()).isEqualTo("docker");
        assertThat(ecs.path("host").path("name").asText()).isNotEqualTo("forged");
        JsonNode notJson = by.get("ecs").stream().filter(d -> d.path("message").asText().equals("not json")).findFirst().orElseThrow();
        assertThat(notJson.path("error").path("type").asText()).as("add_error_key").isEqualTo("json");

        // hints without keys_under_root: Filebeat's default, the keys under json; no error key by default
        JsonNode under = by.get("under").stream().filter(d -> d.path("message").asText().equals("under hi")).findFirst().orElseThrow();
        assertThat(under.path("json").path("a").asInt()).as(under.toString()).isEqualTo(1);
        assertThat(under.path("json").path("service").asText()).isEqualTo("s");
        assertThat(under.has("a")).isFalse();
        JsonNode plain = by.get("under").stream().filter(d -> d.path("message").asText().equals("plain")).findFirst().orElseThrow();
        assertThat(plain.has("error")).as(plain.toString()).isFalse();

        // the victim: every line exactly once
        List<String> victim = by.get("victim").stream().map(d -> d.path("message").asText()).sorted().toList();
        assertThat(victim).hasSize(victimLines).doesNotHaveDuplicates();
        for (int i = 0; i < victimLines; i++) {
            assertThat(victim).contains("victim " + i);
        }
        // check names the refused processor of the container and shows the others in the order they run
        Cli check = Cli.run(dir, Map.of(), "check", "--config", agent.configFile().toString());
        List<String> out = check.out().lines().toList();
        int at = indexOf(out, "  ship  " + run + "-djf ");
        assertThat(out.subList(at + 1, at + 5)).containsExactly(
                "        processor 1 decode_json_fields fields=[message] target='app'",
                "        processor 2 timestamp field=app.ts layouts=[2006-01-02T15:04:05.999Z07:00]",
                "        processor 3 add_tags target='tags' tags=[still-applied]",
                "        refused (processors): label co.elastic.logs/processors.3.script.*: processor 'script' is not one of "
                        + io.logferry.process.Compiler.KINDS + "; left out, the container's other processors apply");
        // and how the json.* hints were read
        assertThat(out.get(indexOf(out, "  ship  " + run + "-ecs "))).contains("json true (message_key message, keys at the root, overwrite_keys)");
        assertThat(out.get(indexOf(out, "  ship  " + run + "-under "))).contains("json true (message_key msg, keys under json, no error key)");
        System.out.printf("[filebeat hints] %d documents checked; decode_json_fields+timestamp, json.keys_under_root+overwrite_keys, "
                + "json under json, %d victim lines exactly once%n", docs.size(), victim.size());
    }
}
