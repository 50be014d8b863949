package io.logferry.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Event;
import com.github.dockerjava.api.model.EventType;
import io.logferry.model.ContainerInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** The real engine, through docker-java. Thread-safe as the client is. */
final class DockerEngine implements Engine {
    private static final Logger log = LoggerFactory.getLogger(DockerEngine.class);
    private final DockerClient docker;

    DockerEngine(DockerClient docker) {
        this.docker = docker;
    }

    @Override
    public String hostName() {
        return docker.infoCmd().exec().getName();
    }

    @Override
    public Closeable events(long sinceSeconds, Consumer<Event> onEvent, Runnable onEnd) {
        return docker.eventsCmd().withEventTypeFilter(EventType.CONTAINER).withSince(Long.toString(sinceSeconds))
                .exec(new ResultCallback.Adapter<Event>() {
                    @Override
                    public void onNext(Event e) {
                        onEvent.accept(e);
                    }

                    @Override
                    public void onError(Throwable t) {
                        onEnd.run();
                    }

                    @Override
                    public void onComplete() {
                        onEnd.run();
                    }
                });
    }

    @Override
    public List<String> containerIds() {
        List<String> ids = new ArrayList<>();
        for (Container c : docker.listContainersCmd().withShowAll(true).exec()) {
            ids.add(c.getId());
        }
        return ids;
    }

    @Override
    public ContainerInfo inspect(String id) {
        try {
            InspectContainerResponse r = docker.inspectContainerCmd(id).exec();
            Map<String, String> labels = r.getConfig() == null || r.getConfig().getLabels() == null ? Map.of() : r.getConfig().getLabels();
            String image = r.getConfig() == null || r.getConfig().getImage() == null ? r.getImageId() : r.getConfig().getImage();
            String driver = r.getHostConfig() == null || r.getHostConfig().getLogConfig() == null
                    || r.getHostConfig().getLogConfig().getType() == null ? "json-file" : r.getHostConfig().getLogConfig().getType().getType();
            boolean running = r.getState() != null && Boolean.TRUE.equals(r.getState().getRunning());
            return new ContainerInfo(r.getId(), r.getName() == null ? r.getId() : r.getName(), image == null ? "" : image,
                    labels, r.getLogPath() == null ? "" : r.getLogPath(), driver, running);
        } catch (NotFoundException e) {
            log.debug("container {} is gone before it could be inspected", id);
            return null;
        }
    }
}
