package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.logferry.decode.TestFaults;
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
 * No crash loop on one line (issue 23): the agent dies while it processes a chosen line (the test
 * hook {@code logferry.test.fatal_on_line}: an Error no line boundary contains, as an out-of-memory
 * error would be, under the image's JVM options). Restarted, it knows which line that was: the line
 * goes to the dead-letter stream as read ("in flight when the agent exited") instead of being
 * processed again, so the agent does not die again; every other line of that container, and every
 * line of a victim container beside it, lands exactly once.
 */
class PoisonPillIT {
    private static final int LINES = 200;
    private static final int POISON_AFTER = 100;
    private static final int VICTIM_LINES = 500;

    @TempDir
    Path dir;
    private GenericContainer<?> poisoned;
    private GenericContainer<?> victim;
    private AgentProcess agent;

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        for (GenericContainer<?> c : new GenericContainer<?>[] {poisoned, victim}) {
            if (c != null) {
                c.stop();
            }
        }
    }

    /** A fatal Error through the uncaught-Error handler: the line is known as the culprit at once, one exit. */
    @Test
    void theLineAFatalErrorEndedTheAgentOnIsDeadLetteredAfterTheRestartAndEverythingElseLandsOnce() throws Exception {
        poisonPill(TestFaults.FATAL_PROPERTY, 1, "was being processed when the agent exited on a fatal error");
    }

    /**
     * A halt that runs no code at all, as {@code -XX:+ExitOnOutOfMemoryError} does (or a kill): one such exit may
     * be a kill that hit an innocent line, so the line is processed again once; in flight at the second exit too,
     * it is the culprit. Two exits, never a loop.
     */
    @Test
    void theLineTheAgentHaltedOnTwiceIsDeadLetteredAfterTheSecondRestart() throws Exception {
        poisonPill(TestFaults.HALT_PROPERTY, 2, "was being processed when the agent exited the last two times it did");
    }

    private void poisonPill(String property, int exits, String logged) throws Exception {
        String run = TestEnv.uniqueName("poison");
        String index = "logs-docker-" + run;
        String deadLetter = "logs-logferry.deadletter-" + run;
        String marker = "POISON-" + run;
        Es es = new Es(TestEnv.esUrl());
        agent = new AgentProcess(dir, run, "logferry.test=" + run, "", Map.of("LOGFERRY_ELASTICSEARCH_DEAD_LETTER", deadLetter))
                .javaOptions("-D" + property + "=" + marker);
        agent.start();
        poisoned = Containers.shell(run + "-p", Map.of("logferry.test", run),
                "awk 'BEGIN{for(i=1;i<=" + LINES + ";i++){print \"p out \" i; if(i==" + POISON_AFTER + ") print \"" + marker
                        + " kills the agent\"}}'; sleep 3600");
        victim = Containers.shell(run + "-v", Map.of("logferry.test", run), Containers.numbered("v", VICTIM_LINES, false) + "; sleep 3600");
        poisoned.start();
        victim.start();

        for (int i = 1; i <= exits; i++) {
            // hang guard only: the line comes within a second or two of the start
            int exit = agent.awaitExit(Duration.ofSeconds(60));
            assertThat(exit).as("exit %d: the agent dies on the marked line with the fatal-error exit code%n%s", i, agent.output())
                    .isEqualTo(3);
            agent.start();
        }
        // hang guard (~10x what it takes): everything but the marked line in the index, the marked line in the dead letters
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited again", () -> !agent.alive())
                .until(() -> es.count(index) >= LINES + VICTIM_LINES && es.count(deadLetter) >= 1);

        List<JsonNode> docs = es.all(index, "message", "stream");
        Containers.assertExactlyOnce(docs, Map.of("p", LINES, "v", VICTIM_LINES), false);

        List<JsonNode> letters = es.all(deadLetter, "message", "error", "event", "container", "log", "document");
        assertThat(letters).hasSize(1);
        JsonNode letter = letters.get(0);
        assertThat(letter.path("error").path("code").asText()).isEqualTo("in_flight");
        assertThat(letter.path("error").path("message").asText()).isEqualTo("in flight when the agent exited");
        assertThat(letter.path("event").path("original").asText()).as("the json-file line as read").contains(marker + " kills the agent");
        assertThat(letter.path("container").path("id").asText()).isEqualTo(poisoned.getContainerId());
        assertThat(letter.path("document").path("index").asText()).isEqualTo(index);
        assertThat(letter.path("log").path("offset").asLong()).isPositive();
        assertThat(agent.metric("logferry_lines_contained_total{reason=\"in_flight\"}")).isEqualTo(1);

        assertThat(agent.alive()).as("the agent did not die again").isTrue();
        assertThat(agent.output()).contains(logged);
        assertThat(agent.terminate()).isZero();
    }
}
