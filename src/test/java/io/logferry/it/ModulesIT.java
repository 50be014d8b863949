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
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Filebeat's module hints on real containers: nginx with a fileset per stream lands in
 * {@code logs-nginx.access-<ns>} and {@code logs-nginx.error-<ns>} with {@code event.dataset} and
 * {@code event.module}, through the ingest pipeline of a stand-in for Elastic's integration
 * (template {@code logs-nginx.access}, priority 200, its {@code index.default_pipeline}), which
 * logferry does not put its own template over; a module outside {@code labels.allowed_datasets}
 * creates no stream of its own (its lines go to the default stream, with a warning);
 * {@code ${data.container.name}} is expanded in a hint; {@code logferry.enabled=false} is a
 * warning naming {@code logferry.enable}; and a victim container beside them gets each of its
 * lines exactly once. {@code check} shows per module container what the cluster has.
 */
class ModulesIT {
    private static final int VICTIM_LINES = 300;
    @TempDir
    Path dir;
    private final DockerRun docker = new DockerRun();
    private AgentProcess agent;
    private Es es;
    private String run;
    /** The stand-in for Elastic's nginx integration: its pipeline, and its template's pattern (every run's namespace). */
    private static final String PIPELINE = "logs-nginx.access-logferry-it";

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        docker.close();
        // the stand-in integration's template and pipeline stay: a data stream uses them, and this distribution cannot delete
        // data streams; both are put again, the same, by every run
    }

    private static Map<String, String> labels(String run, String... kv) {
        Map<String, String> m = new HashMap<>();
        m.put("logferry.test", run);
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void moduleHintsRouteToTheIntegrationsDataStreams() throws Exception {
        run = TestEnv.uniqueName("mod");
        es = new Es(TestEnv.esUrl());
        String pipeline = PIPELINE;
        // a stand-in for what Fleet installs for Elastic's nginx integration (its pattern narrowed to these tests' namespaces)
        assertThat(es.request("PUT", "/_ingest/pipeline/" + pipeline, "{\"description\":\"logferry ModulesIT\",\"processors\":"
                + "[{\"set_security_user\":{\"field\":\"u\",\"ignore_failure\":true}}]}").path("acknowledged").asBoolean()).isTrue();
        assertThat(es.request("PUT", "/_index_template/logs-nginx.access", "{\"index_patterns\":[\"logs-nginx.access-mod*\"],"
                + "\"priority\":200,\"data_stream\":{},\"template\":{\"settings\":{\"index\":{\"default_pipeline\":\"" + pipeline + "\"}},"
                + "\"mappings\":{\"properties\":{\"container\":{\"properties\":{\"id\":{\"type\":\"keyword\"}}},"
                + "\"log\":{\"properties\":{\"offset\":{\"type\":\"long\"}}}}}},"
                + "\"_meta\":{\"managed_by\":\"fleet\"}}").path("acknowledged").asBoolean()).isTrue();

        long pipedBefore = piped(pipeline);
        agent = new AgentProcess(dir, run, "logferry.test=" + run, """
                labels:
                  allowed_datasets: ["nginx.*"]
                """, Map.of());
        agent.start();
        String nginx = run + "-nginx";
        docker.run(nginx, labels(run, "co.elastic.logs/module", "nginx", "co.elastic.logs/fileset.stdout", "access",
                        "co.elastic.logs/fileset.stderr", "error", "co.elastic.logs/processors.add_tags.tags", "web,${data.container.name}"),
                "echo 'GET /a 200'; echo 'GET /b 404'; echo 'GET /c 200'; echo 'err 1' >&2; echo 'err 2' >&2");
        docker.run(run + "-redis", labels(run, "co.elastic.logs/module", "redis"), "echo 'redis 1'; echo 'redis 2'");
        docker.run(run + "-typo", labels(run, "logferry.enabled", "false"), "echo 'typo 1'");
        docker.run(run + "-victim", labels(run), "i=1; while [ $i -le " + VICTIM_LINES + " ]; do echo \"victim $i\"; i=$((i+1)); done");

        String access = "logs-nginx.access-" + run;
        String error = "logs-nginx.error-" + run;
        String plain = "logs-docker-" + run;
        int plainExpected = 2 + 1 + VICTIM_LINES;
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count(access) >= 3 && es.count(error) >= 2 && es.count(plain) >= plainExpected);

        List<JsonNode> accessDocs = es.all(access, "message", "event", "data_stream", "tags", "stream", "container.name", "u");
        assertThat(accessDocs).hasSize(3);
        assertThat(accessDocs.stream().map(d -> d.path("message").asText())).containsExactlyInAnyOrder("GET /a 200", "GET /b 404", "GET /c 200");
        assertThat(accessDocs).allSatisfy(d -> {
            assertThat(d.path("event").path("dataset").asText()).isEqualTo("nginx.access");
            assertThat(d.path("event").path("module").asText()).isEqualTo("nginx");
            assertThat(d.path("data_stream").path("dataset").asText()).isEqualTo("nginx.access");
            assertThat(d.path("stream").asText()).isEqualTo("stdout");
            // ${data.container.name} expanded in the hint's value
            assertThat(d.path("tags").toString()).isEqualTo("[\"web\",\"" + nginx + "\"]");
        });
        List<JsonNode> errorDocs = es.all(error, "message", "event", "stream");
        assertThat(errorDocs.stream().map(d -> d.path("message").asText())).containsExactlyInAnyOrder("err 1", "err 2");
        assertThat(errorDocs).allSatisfy(d -> {
            assertThat(d.path("event").path("dataset").asText()).isEqualTo("nginx.error");
            assertThat(d.path("event").path("module").asText()).isEqualTo("nginx");
            assertThat(d.path("stream").asText()).isEqualTo("stderr");
        });
        // the integration's template stays, logferry's own is not put over it; its pipeline ran on each access document
        JsonNode templates = es.request("GET", "/_index_template/logferry-nginx.access", null);
        assertThat(templates.path("_status").asInt()).as(templates.toString()).isEqualTo(404);
        long piped = piped(pipeline) - pipedBefore;
        assertThat(piped).as("documents through the integration's pipeline").isEqualTo(3);

        // the module outside labels.allowed_datasets made no stream; its lines are in the default one, without event.module
        JsonNode redisStream = es.request("GET", "/logs-redis.log-" + run + "/_count", null);
        assertThat(redisStream.path("_status").asInt()).as(redisStream.toString()).isEqualTo(404);
        List<JsonNode> docs = es.all(plain, "message", "event", "container.name");
        assertThat(docs).hasSize(plainExpected);
        Map<String, List<String>> by = docs.stream().collect(Collectors.groupingBy(
                d -> d.path("container").path("name").asText().substring(run.length() + 1),
                Collectors.mapping(d -> d.path("message").asText(), Collectors.toList())));
        assertThat(by.get("redis")).containsExactlyInAnyOrder("redis 1", "redis 2");
        assertThat(docs).allSatisfy(d -> assertThat(d.path("event").has("module")).isFalse());
        assertThat(by.get("typo")).containsExactly("typo 1");
        List<String> victim = by.get("victim");
        assertThat(victim).hasSize(VICTIM_LINES).doesNotHaveDuplicates();
        for (int i = 1; i <= VICTIM_LINES; i++) {
            assertThat(victim).contains("victim " + i);
        }

        String log = agent.output();
        assertThat(log).contains("label 'logferry.enabled' is not a logferry label and is ignored; did you mean logferry.enable?");
        assertThat(log).contains("label co.elastic.logs/module/fileset='redis.log' is not in labels.allowed_datasets [nginx.*]; using docker");
        // once, for the one container
        assertThat(log.split("label 'logferry.enabled'", -1)).hasSize(2);
        assertThat(log).doesNotContain("label 'logferry.test' ");
        assertThat(agent.metric("logferry_label_refusals_total{reason=\"dataset\"}")).isEqualTo(1);

        Cli check = Cli.run(dir, Map.of(), "check", "--config", agent.configFile().toString());
        List<String> out = check.out().lines().toList();
        int at = -1;
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i).startsWith("  ship  " + nginx + " ")) {
                at = i;
            }
        }
        assertThat(at).as(check.out()).isGreaterThanOrEqualTo(0);
        assertThat(out.get(at)).contains("-> " + access + " (stdout), " + error + " (stderr)");
        List<String> module = out.subList(at + 1, out.size()).stream().filter(l -> l.startsWith("        module nginx")).toList();
        assertThat(module).containsExactly(
                "        module nginx, " + access + ": index template 'logs-nginx.access' (priority 200), ingest pipeline '" + pipeline
                        + "': documents are parsed by the integration",
                "        module nginx, " + error + ": no index template 'logs-nginx.error' (Elastic's integration for nginx.error is "
                        + "not installed): documents are stored as shipped, not parsed");
        assertThat(check.out()).contains("refused (unknown_label): label 'logferry.enabled' is not a logferry label and is ignored; "
                + "did you mean logferry.enable?");
        System.out.printf("[modules] %d access + %d error documents with event.module nginx (%d through the integration's pipeline), "
                + "redis outside allowed_datasets: no stream, %d victim lines each once%n", accessDocs.size(), errorDocs.size(), piped,
                victim.size());
    }

    /** The documents {@code pipeline} has run on, from the nodes' ingest stats. */
    private long piped(String pipeline) {
        JsonNode stats = es.request("GET", "/_nodes/stats/ingest?filter_path=nodes.*.ingest.pipelines", null);     // a dot in the name would split a filter_path
        long n = 0;
        for (JsonNode node : stats.path("nodes")) {
            n += node.path("ingest").path("pipelines").path(pipeline).path("count").asLong();
        }
        return n;
    }
}
