package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.model.LogConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 12's scenario: containers whose labels and output try to stall, crash or starve the agent
 * (a catastrophic regex with long lines, an overflowing duration, a 40 KB nested regex, a label
 * that lifts max_bytes with 200 MB written without a newline, a {@code local}-driver container
 * printing 100 MB without a newline, a label aiming at the dead-letter stream) run together, then
 * two ordinary containers print numbered lines. The ordinary lines must arrive exactly once
 * (the aim is within 60 s: the times are printed; the deadlines are hang guards at twice that), the agent must still run and answer /health, and nothing may reach the
 * dead-letter stream from the spoofing container. The agent runs with the image's JVM options
 * (its 192 MiB heap), as {@link AgentProcess} starts it.
 */
class HostileInputIT {
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
    void hostileContainersDoNotStopTheOthers() throws Exception {
        String run = TestEnv.uniqueName("hostile");
        String deadLetter = "logs-logferry.deadletter-" + run;
        agent = new AgentProcess(dir, run, "logferry.test=" + run, "", Map.of("LOGFERRY_ELASTICSEARCH_DEAD_LETTER", deadLetter));
        agent.start();
        Instant t0 = Instant.now();

        String longLines = "awk 'BEGIN{s=sprintf(\"%3000s\",\"\"); gsub(/ /,\"a\",s); for(i=1;i<=2000;i++) print \"regex\" i \" \" s}'";
        for (int i = 1; i <= 3; i++) {
            docker.run(run + "-regex" + i, labels(run, "logferry.exclude_lines", ".*.*.*.*.*.*="), longLines);
        }
        docker.run(run + "-duration", labels(run, "logferry.multiline", "java",
                "logferry.multiline.timeout", "3000000000000000h"), "echo 'duration 1'; echo 'duration 2'");
        docker.run(run + "-nested", labels(run, "logferry.include_lines", "(".repeat(20_000) + "a" + ")".repeat(20_000)),
                "echo 'nested 1'");
        docker.run(run + "-maxbytes", labels(run, "logferry.max_bytes", "2147483647"),
                "head -c 200000000 /dev/zero | tr '\\0' a");
        docker.runWithDriver(run + "-local", labels(run), "head -c 100000000 /dev/zero | tr '\\0' b", LogConfig.LoggingType.LOCAL);
        docker.run(run + "-spoof", labels(run, "logferry.dataset", "logferry.deadletter", "logferry.namespace", run),
                Containers.numbered("spoof", 10, false));

        // the ordinary containers: the second prints 20 s after the first (its own sleep, part of the scenario)
        docker.run(run + "-first", labels(run), Containers.numbered("first", 2000, false));
        docker.run(run + "-second", labels(run), "sleep 20; " + Containers.numbered("second", 1000, false));

        Es es = new Es(TestEnv.esUrl());
        String ordinary = "logs-docker-" + run;
        // issue 12 aims at 60 s; the deadlines below are hang guards at twice that (the times are printed, not asserted)
        await("hang guard: the first ordinary container's 2,000 lines within 120 s").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> numbered(es, ordinary, "first") >= 2000);
        Duration first = Duration.between(t0, Instant.now());
        await("hang guard: the second ordinary container's 1,000 lines within 120 s of printing them")
                .atMost(Duration.ofSeconds(140).minus(first).plusSeconds(2))
                .pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> numbered(es, ordinary, "second") >= 1000);
        Duration second = Duration.between(t0, Instant.now());

        List<JsonNode> docs = es.all(ordinary + "*", "message", "stream", "container.name");
        List<JsonNode> numberedDocs = docs.stream().filter(d -> d.path("container").path("name").asText().matches(".*-(first|second|spoof)$")).toList();
        Containers.assertExactlyOnce(numberedDocs, Map.of("first", 2000, "second", 1000, "spoof", 10), false);

        assertThat(agent.alive()).as("the agent still runs").isTrue();
        assertThat(agent.output()).doesNotContain("OutOfMemoryError").doesNotContain("StackOverflowError")
                .doesNotContain("lost the Docker engine");
        HttpResponse<String> health = agent.getResponse("/health");
        assertThat(health).as("/health answers").isNotNull();
        assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
        assertThat(es.count(deadLetter)).as("documents in the dead-letter stream " + deadLetter).isZero();
        assertThat(es.count("logs-logferry.deadletter-" + run + "*")).isZero();
        // each hostile label was refused with a warning naming it; the backtracking regex is valid RE2 and runs in linear time:
        // the three containers' long lines all arrived (none has '=', so none is excluded)
        assertThat(agent.output()).contains("logferry.multiline.timeout", "logferry.include_lines", "logferry.max_bytes", "logferry.dataset");
        for (int i = 1; i <= 3; i++) {
            String tag = "regex" + i;
            await(tag + "'s 2,000 long lines").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                    .until(() -> numbered(es, ordinary, tag) >= 2000);
            assertThat(numbered(es, ordinary, tag)).as(tag).isEqualTo(2000);
        }
        System.out.printf("HostileInputIT: first 2000/2000 after %.1f s, second 1000/1000 after %.1f s (printing from 20 s),"
                        + " spoof 10/10 in %s, dead letters %d, label warnings %d, truncated events %d, API bytes dropped %d%n",
                first.toMillis() / 1000.0, second.toMillis() / 1000.0, ordinary, es.count(deadLetter),
                agent.metric("logferry_label_warnings_total"), agent.metric("logferry_events_truncated_total"),
                agent.metric("logferry_api_bytes_dropped_total"));
    }

    /** Documents of the container named {@code <run>-<tag>} in {@code index}. */
    private static long numbered(Es es, String index, String tag) {
        es.request("POST", "/" + index + "/_refresh", null);
        String run = index.substring("logs-docker-".length());
        JsonNode r = es.request("POST", "/" + index + "/_count",
                "{\"query\":{\"term\":{\"container.name\":\"" + run + "-" + tag + "\"}}}");
        return r.path("count").asLong(0);
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
