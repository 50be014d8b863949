package io.logferry.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The Docker daemon crashes and comes back while the agent runs: the agent reconnects with
 * backoff, lists again, and ships what containers write after the restart; nothing twice.
 */
class DockerRestartIT {
    @TempDir
    Path dir;
    private AgentProcess agent;

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    @Test
    void dockerdKilledAndRestartedWhileTheAgentRuns() throws Exception {
        String run = TestEnv.uniqueName("dockerd");
        String index = "logs-docker-" + run;
        Es es = new Es(TestEnv.esUrl());
        agent = new AgentProcess(dir, run, "logferry.test=" + run);
        agent.start();
        try (DockerRun docker = new DockerRun()) {
            docker.run(run + "-before", Map.of("logferry.test", run), Containers.numbered("before", 1000, true) + "; sleep 3600");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300)).until(() -> es.count(index) >= 2000);
        }

        Path ctl = Path.of(TestEnv.esCtl()).resolveSibling("dockerd-ctl.sh");
        Process p = new ProcessBuilder("bash", ctl.toString(), "restart").inheritIO().start();
        assertThat(p.waitFor(180, TimeUnit.SECONDS)).as("dockerd restarted within 3 minutes").isTrue();
        assertThat(p.exitValue()).isZero();

        try (DockerRun docker = new DockerRun()) {
            // the agent reconnects on its own; a container started now is shipped
            docker.run(run + "-after", Map.of("logferry.test", run), Containers.numbered("after", 1000, true));
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                    .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                    .until(() -> es.count(index) >= 4000);
        }
        Containers.assertExactlyOnce(es.all(index, "message", "stream"), Map.of("before", 1000, "after", 1000), true);
        assertThat(agent.output()).contains("lost the Docker engine");
    }
}
