package io.logferry.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import io.logferry.model.ContainerInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * {@code GET /containers/<id>/json} read into a {@link ContainerInfo}: what discovery and
 * {@code check} both need. Stateless.
 */
public final class Inspect {
    private static final Logger log = LoggerFactory.getLogger(Inspect.class);

    private Inspect() {
    }

    /** The container as Docker describes it now, or null when it is gone. */
    public static ContainerInfo container(DockerClient docker, String id) {
        try {
            return info(docker.inspectContainerCmd(id).exec());
        } catch (NotFoundException e) {
            log.debug("container {} is gone before it could be inspected", id);
            return null;
        }
    }

    /** The parts of an inspect answer logferry uses; a missing part gets its default (no labels, json-file, not running). */
    static ContainerInfo info(InspectContainerResponse r) {
        Map<String, String> labels = r.getConfig() == null || r.getConfig().getLabels() == null ? Map.of() : r.getConfig().getLabels();
        String image = r.getConfig() == null || r.getConfig().getImage() == null ? r.getImageId() : r.getConfig().getImage();
        String driver = r.getHostConfig() == null || r.getHostConfig().getLogConfig() == null
                || r.getHostConfig().getLogConfig().getType() == null ? "json-file" : r.getHostConfig().getLogConfig().getType().getType();
        boolean running = r.getState() != null && Boolean.TRUE.equals(r.getState().getRunning());
        return new ContainerInfo(r.getId(), r.getName() == null ? r.getId() : r.getName(), image == null ? "" : image,
                labels, r.getLogPath() == null ? "" : r.getLogPath(), driver, running);
    }
}
