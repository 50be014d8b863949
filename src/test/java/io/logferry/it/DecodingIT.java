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
 * What real containers print, decoded as users expect it in Elasticsearch: a 100 KiB line that
 * Docker split into partial entries, a 60-frame Java stack trace, a Python traceback, nested JSON,
 * invalid UTF-8 and control characters, and a 50 MiB line that must be cut at max_bytes without
 * the agent holding 50 MiB (the agent runs with a 256 MiB heap).
 */
class DecodingIT {
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
    void realContainerOutputIsDecodedRight() throws Exception {
        String run = TestEnv.uniqueName("dec");
        Map<String, Map<String, String>> labels = new LinkedHashMap<>();
        Map<String, String> scripts = new LinkedHashMap<>();
        labels.put("long", Map.of());
        scripts.put("long", "awk 'BEGIN{s=\"\"; for(i=0;i<102400;i++) s=s \"x\"; print \"long \" s; print \"after long\"}'");
        labels.put("java", Map.of("logferry.multiline", "java"));
        scripts.put("java", "awk 'BEGIN{print \"Exception in thread \\\"main\\\" java.lang.RuntimeException: top\"; "
                + "for(i=1;i<=60;i++) printf \"\\tat com.example.Frame%d.call(Frame%d.java:%d)\\n\", i, i, i; "
                + "print \"Caused by: java.lang.IllegalStateException: root\"; print \"\\t... 60 more\"; print \"after java\"}'");
        labels.put("python", Map.of("logferry.multiline", "python"));
        scripts.put("python", "printf 'Traceback (most recent call last):\\n  File \"app.py\", line 3, in <module>\\n    main()\\n"
                + "  File \"app.py\", line 2, in main\\n    raise ValueError(\"bad\")\\nValueError: bad\\nafter python\\n'");
        labels.put("json", Map.of("logferry.json", "true"));
        scripts.put("json", "echo '{\"level\":\"error\",\"msg\":\"nested\",\"http\":{\"request\":{\"method\":\"GET\",\"headers\":{\"a\":[1,2]}}},\"tags\":[\"x\"]}'");
        labels.put("bytes", Map.of());
        scripts.put("bytes", "printf 'bad \\377\\376 utf8\\n'; printf 'ctl \\001\\007\\033[31m end\\n'; printf 'tab\\there \\342\\202\\254 euro\\n'");
        labels.put("huge", Map.of());
        // 50 MiB without a newline, then one: Docker writes 3,200 partial entries of 16 KiB
        scripts.put("huge", "awk 'BEGIN{s=\"\"; for(i=0;i<1024;i++) s=s \"y\"; for(j=0;j<51200;j++) printf \"%s\", s; print \"\"; print \"after huge\"}'");

        agent = new AgentProcess(dir, run, "logferry.test=" + run);
        agent.start();
        for (String name : labels.keySet()) {
            Map<String, String> l = new HashMap<>(labels.get(name));
            l.put("logferry.test", run);
            docker.run(run + "-" + name, l, scripts.get(name));
        }
        Es es = new Es(TestEnv.esUrl());
        String index = "logs-docker-" + run;
        // long: 2, java: 2, python: 2, json: 1, bytes: 3, huge: 2
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count(index) >= 12);
        List<JsonNode> docs = es.all(index, "message", "log", "container.name", "json", "error");
        assertThat(docs).hasSize(12);
        Map<String, List<JsonNode>> by = docs.stream().collect(Collectors.groupingBy(d -> d.path("container").path("name").asText().substring(run.length() + 1)));

        List<String> longMessages = messages(by.get("long"));
        assertThat(longMessages.get(0)).hasSize(5 + 102_400).startsWith("long xxx").endsWith("xxx");
        assertThat(longMessages.get(1)).isEqualTo("after long");
        assertThat(flags(by.get("long"), 0)).contains("partial").doesNotContain("truncated");

        List<String> java = messages(by.get("java"));
        assertThat(java).hasSize(2);
        assertThat(java.get(0)).startsWith("Exception in thread \"main\"").contains("\tat com.example.Frame60.call(Frame60.java:60)")
                .contains("Caused by: java.lang.IllegalStateException: root").endsWith("\t... 60 more").hasLineCount(63);
        assertThat(java.get(1)).isEqualTo("after java");

        List<String> python = messages(by.get("python"));
        assertThat(python).hasSize(2);
        assertThat(python.get(0)).startsWith("Traceback (most recent call last):").endsWith("ValueError: bad").hasLineCount(6);
        assertThat(python.get(1)).isEqualTo("after python");

        JsonNode json = by.get("json").get(0);
        assertThat(json.path("message").asText()).isEqualTo("nested");
        assertThat(json.path("log").path("level").asText()).isEqualTo("error");
        // not ECS JSON: its ECS names (http, tags) are kept under json, not on ECS's own objects
        assertThat(json.path("json").path("http").path("request").path("headers").path("a").toString()).isEqualTo("[1,2]");
        assertThat(json.path("json").path("tags").toString()).isEqualTo("[\"x\"]");

        List<String> bytes = messages(by.get("bytes"));
        assertThat(bytes.get(0)).isEqualTo("bad \uFFFD\uFFFD utf8");
        assertThat(bytes.get(1)).isEqualTo("ctl \u0001\u0007\u001b[31m end");
        assertThat(bytes.get(2)).isEqualTo("tab\there \u20ac euro");

        List<String> huge = messages(by.get("huge"));
        assertThat(huge.get(0)).hasSize(1_048_576).matches("y+");
        assertThat(flags(by.get("huge"), 0)).contains("truncated", "partial");
        assertThat(huge.get(1)).isEqualTo("after huge");
        assertThat(agent.alive()).as("no OutOfMemoryError at the image's heap").isTrue();
    }

    private static List<String> messages(List<JsonNode> docs) {
        assertThat(docs).isNotNull();
        return docs.stream().sorted((a, b) -> Long.compare(a.path("log").path("offset").asLong(), b.path("log").path("offset").asLong()))
                .map(d -> d.path("message").asText()).toList();
    }

    private static String flags(List<JsonNode> docs, int i) {
        return docs.stream().sorted((a, b) -> Long.compare(a.path("log").path("offset").asLong(), b.path("log").path("offset").asLong()))
                .toList().get(i).path("log").path("flags").toString();
    }

    @Test
    void aQuietContainersLastMultilineEventIsSentAfterItsTimeoutInBothReadModes() throws Exception {
        String run = TestEnv.uniqueName("quiet");
        Es es = new Es(TestEnv.esUrl());
        for (String mode : List.of("file", "api")) {
            Path d = java.nio.file.Files.createDirectories(dir.resolve(mode));
            AgentProcess a = new AgentProcess(d, run + mode, "logferry.test=" + run + mode, "",
                    Map.of("LOGFERRY_DOCKER_READ_MODE", mode));
            try (a) {
                a.start();
                docker.run(run + "-" + mode, Map.of("logferry.test", run + mode, "logferry.multiline", "java",
                        "logferry.multiline.timeout", "1s"),
                        "printf 'boom\\n\\tat a.B.c(B.java:1)\\n\\tat a.B.d(B.java:2)\\n'; sleep 3600");
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                        .until(() -> es.count("logs-docker-" + run + mode) >= 1);
                assertThat(es.all("logs-docker-" + run + mode, "message").get(0).path("message").asText())
                        .as(mode).isEqualTo("boom\n\tat a.B.c(B.java:1)\n\tat a.B.d(B.java:2)");
            }
        }
    }
}
