package io.logferry.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The recommended deployment: the agent talks to Docker over tcp:// through a socket proxy that
 * allows only GET on containers, events, info and version, with the log directory mounted (file
 * mode). It ships as through the raw socket and never asks for anything the proxy refuses.
 * (API read mode through a real socket proxy was checked by hand with HAProxy and the proxy's
 * rules; this stand-in relay does not carry the followed log streams of that mode.)
 */
class DockerProxyIT {
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
    void theAgentNeedsOnlyReadAccessToFourApiSections() throws Exception {
        Path sock = Path.of(TestEnv.dockerHost().substring("unix://".length()));
        Es es = new Es(TestEnv.esUrl());
        for (String mode : new String[] {"file"}) {
            String run = TestEnv.uniqueName("proxy" + mode);
            try (SocketProxy proxy = new SocketProxy(sock); DockerRun docker = new DockerRun()) {
                agent = new AgentProcess(java.nio.file.Files.createDirectories(dir.resolve(mode)), run, "logferry.test=" + run, "",
                        Map.of("LOGFERRY_DOCKER_HOST", proxy.url(), "LOGFERRY_DOCKER_READ_MODE", mode));
                agent.start();
                docker.run(run + "-before", Map.of("logferry.test", run), Containers.numbered("before", 500, true));
                await().atMost(Duration.ofSeconds(30)).until(() -> agent.get("/health") != null);
                docker.run(run + "-after", Map.of("logferry.test", run), Containers.numbered("after", 500, true));
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                        .failFast("the agent exited:\n" + agent.output(), () -> !agent.alive())
                        .until(() -> es.count("logs-docker-" + run) >= 2000);
                Containers.assertExactlyOnce(es.all("logs-docker-" + run, "message", "stream"), Map.of("before", 500, "after", 500), true);
                assertThat(agent.terminate()).isZero();
                System.out.printf("socket proxy (%s mode): %d requests, refused %s%n", mode, proxy.requests().size(), proxy.refused());
                assertThat(proxy.requests()).as("the agent went through the proxy").isNotEmpty();
                assertThat(proxy.refused()).as("requests the socket proxy would refuse").isEmpty();
            }
        }
    }
}
