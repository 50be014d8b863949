package io.logferry.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Event;
import com.github.dockerjava.api.model.EventType;
import io.logferry.model.ContainerInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.util.ArrayList;
import java.util.List;
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
        return Inspect.container(docker, id);
    }
}
