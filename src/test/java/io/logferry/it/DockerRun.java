package io.logferry.it;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.CreateContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.LogConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Containers run straight through the Docker API, for what Testcontainers does not do:
 * {@code --rm}, log options, many at once, and watching them exit. Every container is network
 * mode none and carries the test's labels; {@link #close()} removes what is left.
 */
public final class DockerRun implements AutoCloseable {
    /** Its own client, not Testcontainers' shared one: a test may restart the daemon under it. */
    private final DockerClient docker = newClient();

    static DockerClient newClient() {
        var config = com.github.dockerjava.core.DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(TestEnv.dockerHost()).build();
        var http = new com.github.dockerjava.httpclient5.ApacheDockerHttpClient.Builder()
                .dockerHost(config.getDockerHost()).maxConnections(32).build();
        return com.github.dockerjava.core.DockerClientImpl.getInstance(config, http);
    }
    private final List<String> created = new ArrayList<>();

    public DockerClient client() {
        return docker;
    }

    /** Creates and starts a container running {@code script} with sh; returns its id. */
    public String run(String name, Map<String, String> labels, String script, boolean autoRemove, Map<String, String> logOpts) {
        HostConfig host = HostConfig.newHostConfig().withNetworkMode("none").withAutoRemove(autoRemove);
        if (!logOpts.isEmpty()) {
            host.withLogConfig(new LogConfig(LogConfig.LoggingType.JSON_FILE, logOpts));
        }
        return start(name, labels, script, host);
    }

    /** Like {@link #run(String, Map, String)} with another log driver ({@code local}, ...) and no log options. */
    public String runWithDriver(String name, Map<String, String> labels, String script, LogConfig.LoggingType driver) {
        return start(name, labels, script, HostConfig.newHostConfig().withNetworkMode("none").withLogConfig(new LogConfig(driver, Map.of())));
    }

    private String start(String name, Map<String, String> labels, String script, HostConfig host) {
        CreateContainerResponse c = docker.createContainerCmd(TestEnv.image()).withName(name).withLabels(labels)
                .withCmd("sh", "-c", script).withHostConfig(host).exec();
        synchronized (created) {
            created.add(c.getId());
        }
        docker.startContainerCmd(c.getId()).exec();
        return c.getId();
    }

    public String run(String name, Map<String, String> labels, String script) {
        return run(name, labels, script, false, Map.of());
    }

    /** True when the container has exited or no longer exists. */
    public boolean exited(String id) {
        try {
            return !Boolean.TRUE.equals(docker.inspectContainerCmd(id).exec().getState().getRunning());
        } catch (NotFoundException e) {
            return true;
        }
    }

    public boolean exists(String id) {
        try {
            docker.inspectContainerCmd(id).exec();
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    public void remove(String id) {
        try {
            docker.removeContainerCmd(id).withForce(true).exec();
        } catch (NotFoundException ignored) {
            // already gone (--rm)
        }
    }

    @Override
    public void close() {
        List<String> ids;
        synchronized (created) {
            ids = new ArrayList<>(created);
        }
        ids.forEach(this::remove);
        try {
            docker.close();
        } catch (java.io.IOException ignored) {
            // the daemon may be gone
        }
    }
}
