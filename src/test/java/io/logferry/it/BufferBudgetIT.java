package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 23, case 5: no agent-wide out-of-memory from long lines. Containers with {@code logferry.max_bytes}
 * raised to 10 MiB by label (the ceiling {@code limits.max_bytes} allows) each print one unterminated
 * non-ASCII line of 12 MiB, beside a victim printing 500 numbered lines, under the image's JVM options
 * ({@code -Xss512k -Xmx192m}, {@code -XX:+ExitOnOutOfMemoryError}). Together the long lines are far beyond
 * {@code limits.buffers_max_bytes} (16 MiB): the largest are cut (sent as they are, flagged truncated),
 * the agent never exits, and the victim's 500 lines land exactly once. (With the budget raised to 1 GiB,
 * the same test ends in "Terminating due to java.lang.OutOfMemoryError: Java heap space": 12 such lines
 * held at once need more than the heap; 8 did not.)
 */
class BufferBudgetIT {
    private static final int HOGS = 12;
    /** 12 MiB of "ж" (2 UTF-8 bytes each), without a newline. */
    private static final int CHUNKS = 12 * 1024 * 1024 / 20;
    private static final int VICTIM_LINES = 500;

    @TempDir
    Path dir;
    private final List<GenericContainer<?>> containers = new ArrayList<>();
    private AgentProcess agent;

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        containers.forEach(GenericContainer::stop);
    }

    @Test
    void longUnterminatedLinesOfSeveralContainersAreCutNotAnOutOfMemoryExit() throws Exception {
        String run = TestEnv.uniqueName("budget");
        String index = "logs-docker-" + run;
        Es es = new Es(TestEnv.esUrl());
        agent = new AgentProcess(dir, run, "logferry.test=" + run);
        agent.start();
        for (int i = 0; i < HOGS; i++) {
            GenericContainer<?> hog = Containers.shell(run + "-hog" + i, Map.of("logferry.test", run, "logferry.max_bytes", "10485760"),
                    "awk 'BEGIN{for(i=0;i<" + CHUNKS + ";i++) printf \"жжжжжжжжжж\"}'; sleep 20");
            containers.add(hog);
            hog.start();
        }
        String victimName = run + "-victim";
        GenericContainer<?> victim = Containers.shell(victimName, Map.of("logferry.test", run),
                Containers.numbered("v", VICTIM_LINES, false) + "; sleep 3600");
        containers.add(victim);
        victim.start();

        // hang guard (~10x what it takes): the victim's lines, and every long line once its container has stopped
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> es.count(index) >= VICTIM_LINES + HOGS);

        List<JsonNode> docs = es.all(index, "message", "stream");
        List<JsonNode> victims = docs.stream().filter(d -> d.path("message").asText().startsWith("v out ")).toList();
        Containers.assertExactlyOnce(victims, Map.of("v", VICTIM_LINES), false);

        List<JsonNode> longOnes = es.all(index, "log.flags", "container.name").stream()
                .filter(d -> !d.path("container").path("name").asText().endsWith("-victim")).toList();
        assertThat(longOnes).as("each long line arrives, cut").hasSizeGreaterThanOrEqualTo(HOGS);
        for (JsonNode d : longOnes) {
            List<String> flags = new ArrayList<>();
            d.path("log").path("flags").forEach(f -> flags.add(f.asText()));
            assertThat(flags).as("flags of a long line of %s", d.path("container").path("name").asText()).contains("truncated");
        }
        assertThat(agent.metric("logferry_buffers_cut_total")).as("the budget was reached and holders cut").isPositive();
        assertThat(agent.metric("logferry_buffers_bytes")).isLessThanOrEqualTo(16L * 1024 * 1024);
        assertThat(agent.alive()).as("the agent never exited\n" + agent.output()).isTrue();
        assertThat(agent.output()).doesNotContain("OutOfMemoryError").doesNotContain("fatal error");
        assertThat(agent.terminate()).isZero();
    }
}
