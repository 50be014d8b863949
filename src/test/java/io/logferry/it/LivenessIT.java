package io.logferry.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A stuck agent fails its liveness: with the test hook {@code -Dlogferry.test.stall=control} the
 * control loop stops turning once it is connected to Docker (as a deadlock would), a container
 * started then gives it work it never does, and after {@code http.stuck_after} (10 s here) the image's
 * HEALTHCHECK, run as the image runs it, fails and {@code /health} says which stage is stuck.
 * (That an Elasticsearch outage does not fail it is EsOutageIT's.) And SIGHUP, which ends a JVM by
 * default, is logged and ignored.
 */
class LivenessIT {
    @TempDir
    Path dir;
    private AgentProcess agent;
    private GenericContainer<?> container;

    @AfterEach
    void cleanUp() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (container != null) {
            container.stop();
        }
    }

    @Test
    void sighupIsLoggedAndIgnoredNotAnExit() throws Exception {
        String run = TestEnv.uniqueName("hup");
        agent = new AgentProcess(dir, run, "logferry.test=" + run);
        agent.start();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> agent.getResponse("/health") != null);
        Process hup = new ProcessBuilder("kill", "-HUP", Long.toString(agent.pid())).start();
        assertThat(hup.waitFor()).isZero();
        await().atMost(Duration.ofSeconds(30)).failFast("the agent exited on SIGHUP", () -> !agent.alive())
                .until(() -> agent.output().contains("SIGHUP received and ignored"));
        await().atMost(Duration.ofSeconds(60)).failFast("the agent exited after SIGHUP", () -> !agent.alive())
                .until(() -> agent.getResponse("/health").statusCode() == 200);
    }

    @Test
    void aStuckControlLoopTurnsTheImagesHealthCheckUnhealthy() throws Exception {
        String run = TestEnv.uniqueName("live");
        agent = new AgentProcess(dir, run, "logferry.test=" + run, "",
                Map.of("JAVA_TOOL_OPTIONS", "-Dlogferry.test.stall=control", "LOGFERRY_HTTP_STUCK_AFTER", "10s"));
        agent.start();
        ImageHealthCheck check = new ImageHealthCheck(agent.httpPort());
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> agent.output().contains("test hook logferry.test.stall=control: the control loop stops turning now"));
        container = Containers.shell(run, Map.of("logferry.test", run), Containers.numbered("l", 10, false) + "; sleep 3600");
        container.start();

        ImageHealthCheck.Result[] last = new ImageHealthCheck.Result[1];
        // stuck_after 10 s: longer than the 5 s the registry flusher waits for the stuck loop's answer, so that it is
        // the loop, not the flusher waiting on it, that is found stuck
        await("hang guard: the health check fails within 90 s of a stuck_after of 10 s").atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofSeconds(1))
                .failFast("the agent exited", () -> !agent.alive())
                .until(() -> !(last[0] = check.run()).healthy());
        assertThat(last[0].output()).contains("503");
        HttpResponse<String> health = agent.getResponse("/health");
        assertThat(health.statusCode()).as(health.body()).isEqualTo(503);
        assertThat(health.body()).contains("\"status\":\"down\"").contains("stuck: the control loop has held work for");
        assertThat(agent.alive()).as("a stuck agent is for the runtime to restart, not to exit by itself").isTrue();
        System.out.printf("[liveness] stuck control loop: the image's health check said '%s'; /health: %s%n", last[0].output(),
                health.body().trim());
    }
}
