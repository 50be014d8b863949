package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The image, built from the repository's Dockerfile as written, and run as the deployment docs
 * run it: non-root (uid 10001, gid 0), read-only root filesystem, /tmp a tmpfs, no capabilities,
 * no-new-privileges, the json-file logs mounted read-only, the registry on its volume. It ships a
 * container's logs to the real Elasticsearch, answers its HEALTHCHECK, and stops cleanly.
 *
 * <p>No registry is reachable here, so the base images are made locally by
 * {@code scripts/image-base.sh}: RUNTIME_IMAGE is a jlink'ed JRE of this host's JDK on scratch
 * with busybox; BUILD_IMAGE stands in for the Maven image and carries the jar this very build
 * made (its {@code mvn} only checks that the jar is there). The classic builder that this engine
 * has builds every stage, so the build stage cannot be skipped; everything else in the Dockerfile
 * runs as written.
 *
 * <p>Network: test containers use network mode none, and this engine has no bridge at all. The
 * agent container must reach Elasticsearch on the host's 127.0.0.1:19200, so it runs with network
 * mode host: it shares the host's network namespace, its traffic stays on loopback, and no
 * private-range bridge or address is created. The Docker socket is mounted (with its group added)
 * as a stand-in for the socket proxy of the compose file.
 */
class ImageIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String IMAGE = "logferry:it";
    private final String run = TestEnv.uniqueName("img");
    private final String agentName = run + "-agent";
    private GenericContainer<?> app;

    @AfterEach
    void cleanUp() throws Exception {
        docker(Duration.ofSeconds(60), "rm", "-f", "-v", agentName);
        if (app != null) {
            app.stop();
        }
    }

    /** Runs the docker CLI against the test engine; returns its output, fails on a non-zero exit. */
    private static String docker(Duration timeout, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("docker"));
        cmd.addAll(List.of(args));
        return exec(cmd, timeout, Map.of("DOCKER_BUILDKIT", "0"), args[0].equals("rm"));
    }

    private static String exec(List<String> cmd, Duration timeout, Map<String, String> env, boolean mayFail) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("DOCKER_HOST", TestEnv.dockerHost());
        pb.environment().putAll(env);
        Path out = Files.createTempFile("image-it", ".out");
        pb.redirectOutput(out.toFile());
        Process p = pb.start();
        boolean done = p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS);
        String text = Files.readString(out, StandardCharsets.UTF_8);
        Files.deleteIfExists(out);
        if (!done) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " did not finish within " + timeout + ":\n" + text);
        }
        if (p.exitValue() != 0 && !mayFail) {
            throw new AssertionError(String.join(" ", cmd) + " exited " + p.exitValue() + ":\n" + text);
        }
        return text;
    }

    private static JsonNode inspect(String name) throws Exception {
        return JSON.readTree(docker(Duration.ofSeconds(30), "inspect", name)).path(0);
    }

    @Test
    void theImageRunsNonRootOnAReadOnlyRootAndShipsAContainersLogs() throws Exception {
        long t0 = System.nanoTime();
        exec(List.of("bash", "scripts/image-base.sh", AgentProcess.jar().toString()), Duration.ofMinutes(5), Map.of(), false);
        long tBase = System.nanoTime();
        docker(Duration.ofMinutes(5), "build", "--network", "none", "-q",
                "--build-arg", "RUNTIME_IMAGE=logferry-base:local", "--build-arg", "BUILD_IMAGE=logferry-build:local",
                "-t", IMAGE, ".");
        long tBuild = System.nanoTime();

        Path socket = Path.of(TestEnv.dockerHost().replaceFirst("^unix://", ""));
        int socketGid = (Integer) Files.getAttribute(socket, "unix:gid");
        int httpPort = TestEnv.freePort();
        String index = "logs-docker-" + run;
        Es es = new Es(TestEnv.esUrl());

        app = Containers.shell(run + "-app", Map.of("logferry.test", run), Containers.numbered("img", 150, true) + "; sleep 3600");
        app.start();

        docker(Duration.ofSeconds(60), "run", "-d", "--name", agentName,
                "--network", "host",
                "--read-only", "--tmpfs", "/tmp",
                "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                "--group-add", String.valueOf(socketGid),
                "-v", socket + ":/var/run/docker.sock",
                "-v", TestEnv.containersPath() + ":/var/lib/docker/containers:ro",
                "-e", "LOGFERRY_ELASTICSEARCH_HOSTS=" + TestEnv.esUrl(),
                "-e", "LOGFERRY_DOCKER_READ_MODE=file",
                "-e", "LOGFERRY_SELECTION_INCLUDE_LABELS=logferry.test=" + run,
                "-e", "LOGFERRY_DEFAULTS_NAMESPACE=" + run,
                "-e", "LOGFERRY_HTTP_PORT=" + httpPort,
                "-e", "LOGFERRY_ELASTICSEARCH_FLUSH_INTERVAL=200ms",
                "--health-interval", "2s", "--health-start-period", "60s",
                IMAGE);
        try {
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                    .failFast("the agent container stopped:\n" + docker(Duration.ofSeconds(30), "logs", agentName),
                            () -> !inspect(agentName).path("State").path("Running").asBoolean())
                    .until(() -> es.count(index) >= 300);
            long tShipped = System.nanoTime();
            assertThat(es.count(index)).isEqualTo(300);
            Containers.assertExactlyOnce(es.all(index, "message", "stream", "@timestamp", "container.id", "log.offset"),
                    Map.of("img", 150), true);

            JsonNode c = inspect(agentName);
            assertThat(c.path("Config").path("User").asText()).isEqualTo("10001:0");
            assertThat(c.path("HostConfig").path("ReadonlyRootfs").asBoolean()).isTrue();
            long pid = c.path("State").path("Pid").asLong();
            String status = Files.readString(Path.of("/proc/" + pid + "/status"));
            assertThat(status).containsPattern("(?m)^Uid:\\s+10001\\s+10001\\s+10001\\s+10001$");
            assertThat(status).containsPattern("(?m)^CapEff:\\s+0+$");

            HttpResponse<String> health = new AgentProbe(httpPort).get("/health");
            assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> inspect(agentName).path("State").path("Health").path("Status").asText().equals("healthy"));

            docker(Duration.ofSeconds(60), "stop", "-t", "30", agentName);
            JsonNode stopped = inspect(agentName);
            String logs = docker(Duration.ofSeconds(30), "logs", agentName);
            assertThat(stopped.path("State").path("ExitCode").asInt()).as(logs).isZero();
            assertThat(logs).contains("shipped to " + index).contains("registry written").doesNotContain(" ERROR ");
            System.out.printf("ImageIT: base images %d s, docker build %d s, shipped %d s after the build%n",
                    (tBase - t0) / 1_000_000_000, (tBuild - tBase) / 1_000_000_000, (tShipped - tBuild) / 1_000_000_000);
        } catch (AssertionError | RuntimeException e) {
            System.out.println("agent container log:\n" + docker(Duration.ofSeconds(30), "logs", agentName));
            throw e;
        }
    }

    /** GET on the agent's port: with host networking it listens on the host's loopback. */
    private record AgentProbe(int port) {
        HttpResponse<String> get(String path) throws IOException, InterruptedException {
            return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }
}
