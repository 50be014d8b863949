package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.command.ExecCreateCmdResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A live json-file truncated in place ({@code truncate -s 0} on the file under Docker's
 * containers directory) while the container runs: the agent notices, reads the file again from
 * offset 0, counts it, and every line written after the truncation arrives exactly once, with new
 * {@code _id}s (none refused as a duplicate of the lines before it).
 */
class TruncationIT {
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
    void aLiveFileTruncatedInPlaceIsReadAgainFromTheStart() throws Exception {
        String run = TestEnv.uniqueName("trunc");
        String index = "logs-docker-" + run;
        Es es = new Es(TestEnv.esUrl());
        agent = new AgentProcess(dir, run, "logferry.test=" + run);
        agent.start();
        await().atMost(Duration.ofSeconds(30)).until(() -> agent.get("/health") != null);
        // lines 1..300, then wait for the test's go (/go, which the test creates with docker exec), then 301..500
        String id = docker.run(run, Map.of("logferry.test", run),
                "i=1; while [ $i -le 300 ]; do echo \"trunc out $i\"; i=$((i+1)); done;"
                        + " while [ ! -f /go ]; do sleep 0.1; done;"
                        + " while [ $i -le 500 ]; do echo \"trunc out $i\"; i=$((i+1)); done; sleep 600");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count(index) >= 300);

        Path log = TestEnv.containersPath().resolve(id).resolve(id + "-json.log");
        long before = Files.size(log);
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.WRITE)) {
            ch.truncate(0);                  // truncate -s 0: the same file (inode), emptied
        }
        ExecCreateCmdResponse exec = docker.client().execCreateCmd(id).withCmd("touch", "/go").exec();
        docker.client().execStartCmd(exec.getId()).start().awaitCompletion();
        // the exec's exit code can lag its output stream's end: wait for it rather than read it once
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> docker.client().inspectExecCmd(exec.getId()).exec().getExitCodeLong() != null);
        assertThat(docker.client().inspectExecCmd(exec.getId()).exec().getExitCodeLong()).as("touch /go in the container").isZero();

        Set<Integer> expected = new HashSet<>(IntStream.rangeClosed(1, 500).boxed().toList());
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> new HashSet<>(numbers(es, index)).containsAll(expected));
        await().atMost(Duration.ofSeconds(30)).until(() -> agent.metric("logferry_queue_events") == 0);
        List<Integer> numbers = numbers(es, index);
        long truncations = agent.metric("logferry_truncations_total{container=\"" + run + "\"}");
        long duplicates = agent.metric("logferry_events_duplicate_total");
        System.out.printf("truncation: file at %d bytes truncated to 0; %d documents, %d distinct; truncations counted %d;"
                + " 409 duplicates %d%n", before, numbers.size(), new HashSet<>(numbers).size(), truncations, duplicates);
        assertThat(numbers).hasSize(500).doesNotHaveDuplicates();
        assertThat(truncations).isEqualTo(1);
        assertThat(duplicates).as("no line after the truncation was refused as a duplicate").isLessThanOrEqualTo(0);
        // the size it saw: 0, or what the container wrote again before the tailer looked
        assertThat(agent.output()).containsPattern("was truncated in place to \\d+ bytes while the agent had read it to offset " + before);
        List<JsonNode> after = es.all(index, "message", "log.offset");
        assertThat(after).filteredOn(d -> d.path("message").asText().equals("trunc out 301"))
                .singleElement().satisfies(d -> assertThat(d.path("log").path("offset").asLong()).isZero());
    }

    private static List<Integer> numbers(Es es, String index) {
        List<Integer> out = new ArrayList<>();
        for (JsonNode d : es.all(index, "message")) {
            out.add(Integer.parseInt(d.path("message").asText().substring("trunc out ".length())));
        }
        return out;
    }
}
