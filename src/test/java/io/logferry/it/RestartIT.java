package io.logferry.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Stopping the agent — politely or not — while a container writes: every line still reaches
 * Elasticsearch exactly once (the registry resumes, the deterministic _id absorbs the replay).
 */
class RestartIT {
    @TempDir
    Path dir;
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
    }

    /** Prints {@code total} numbered lines in chunks of 1,000 with a pause between chunks. */
    static String paced(String tag, int total, String pause) {
        return "i=0; while [ $i -lt " + (total / 1000) + " ]; do awk -v b=$i 'BEGIN{for(j=1;j<=1000;j++) print \"" + tag
                + " out \" (b*1000+j)}'; i=$((i+1)); sleep " + pause + "; done; sleep 3600";
    }

    @Test
    void sigtermHalfwayThenRestartShipsEveryLineOnce() throws Exception {
        String run = TestEnv.uniqueName("term");
        String index = "logs-docker-" + run;
        Es es = new Es(TestEnv.esUrl());
        container = Containers.shell(run, Map.of("logferry.test", run), paced("r", 30_000, "0.2"));
        agent = new AgentProcess(dir, run, "logferry.test=" + run);
        agent.start();
        container.start();

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count(index) >= 10_000);
        assertThat(agent.terminate()).as("exit code after SIGTERM").isZero();
        assertThat(agent.output()).contains("registry written");
        assertThat(Files.getPosixFilePermissions(agent.registryFile())).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        long atStop = es.count(index);
        assertThat(atStop).isLessThan(30_000);

        agent.start();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count(index) >= 30_000);
        Containers.assertExactlyOnce(es.all(index, "message", "stream"), Map.of("r", 30_000), false);
        assertThat(agent.output()).contains("resuming");
    }

    @Test
    void sigkillThreeTimesWhileShipping100kLinesLosesAndDuplicatesNothing() throws Exception {
        String run = TestEnv.uniqueName("kill");
        String index = "logs-docker-" + run;
        Es es = new Es(TestEnv.esUrl());
        container = Containers.shell(run, Map.of("logferry.test", run), paced("k", 100_000, "0.05"));
        agent = new AgentProcess(dir, run, "logferry.test=" + run);
        container.start();
        agent.start();
        for (long threshold : new long[] {15_000, 40_000, 65_000}) {
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100))
                    .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                    .until(() -> es.count(index) >= threshold);
            agent.kill();
            agent.start();
        }
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                .until(() -> es.count(index) >= 100_000);
        Containers.assertExactlyOnce(es.all(index, "message", "stream"), Map.of("k", 100_000), false);
    }
}
