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
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Watches the Docker engine: subscribes to container events first, then lists every container,
 * so that nothing that starts in between is missed; reconnects with backoff when the daemon
 * goes away and lists again. Runs on one thread and reports to a {@link Listener}, which owns
 * the container map. Duplicate reports are expected and harmless.
 */
public final class Discovery implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Discovery.class);
    private static final Object FAILED = new Object();

    /** What discovery reports; all calls come from the discovery thread. */
    public interface Listener {
        /** A container exists (running or not), from the initial list or a create/start event. */
        void present(ContainerInfo c, boolean fromList);

        void died(String id);

        void destroyed(String id);

        /** The list is complete: containers not in {@code ids} no longer exist. */
        void listed(Set<String> ids);

        void connected(String hostName);

        void disconnected(String reason);
    }

    private final DockerClient docker;
    private final Listener listener;
    private volatile boolean running = true;
    private volatile Closeable subscription;
    private Thread thread;

    public Discovery(DockerClient docker, Listener listener) {
        this.docker = docker;
        this.listener = listener;
    }

    public void start() {
        thread = new Thread(this, "logferry-discovery");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void run() {
        long backoff = 1000;
        long since = System.currentTimeMillis() / 1000 - 1;
        while (running) {
            BlockingQueue<Object> events = new LinkedBlockingQueue<>();
            try {
                String hostName = docker.infoCmd().exec().getName();
                listener.connected(hostName);
                subscription = docker.eventsCmd().withEventTypeFilter(EventType.CONTAINER).withSince(Long.toString(since))
                        .exec(new ResultCallback.Adapter<Event>() {
                            @Override
                            public void onNext(Event e) {
                                events.add(e);
                            }

                            @Override
                            public void onError(Throwable t) {
                                events.add(FAILED);
                            }

                            @Override
                            public void onComplete() {
                                events.add(FAILED);
                            }
                        });
                Set<String> ids = new HashSet<>();
                for (Container c : docker.listContainersCmd().withShowAll(true).exec()) {
                    ids.add(c.getId());
                    ContainerInfo info = inspect(c.getId());
                    if (info != null) {
                        listener.present(info, true);
                    }
                }
                listener.listed(ids);
                backoff = 1000;
                while (running) {
                    Object o = events.poll(1, TimeUnit.SECONDS);
                    if (o == null) {
                        continue;
                    }
                    if (o == FAILED) {
                        throw new IllegalStateException("the Docker event stream ended");
                    }
                    Event e = (Event) o;
                    if (e.getTime() != null) {
                        since = Math.max(since, e.getTime() - 1);
                    }
                    handle(e);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                if (!running) {
                    return;
                }
                listener.disconnected(String.valueOf(e.getMessage()));
                log.warn("lost the Docker engine ({}); reconnecting in {} ms", e.getMessage(), backoff);
                closeSubscription();
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
                backoff = Math.min(backoff * 2, 30_000);
            }
        }
    }

    private void handle(Event e) {
        String id = e.getId();
        String action = e.getAction() != null ? e.getAction() : e.getStatus();
        if (id == null || action == null) {
            return;
        }
        switch (action) {
            case "create" -> {
                // a container that prints and exits within milliseconds (--rm) may be gone
                // before an inspect answers: then the event itself describes it
                ContainerInfo info = inspect(id);
                if (info == null) {
                    info = fromEvent(e, true);
                } else if (!info.running()) {
                    info = new ContainerInfo(info.id(), info.name(), info.imageName(), info.labels(), info.logPath(), info.logDriver(), true);
                }
                if (info != null) {
                    listener.present(info, false);
                }
            }
            case "start", "restart", "unpause", "rename" -> {
                ContainerInfo info = inspect(id);
                if (info == null) {
                    info = fromEvent(e, true);
                }
                if (info != null) {
                    listener.present(info, false);
                }
            }
            case "die" -> listener.died(id);
            case "destroy" -> listener.destroyed(id);
            default -> { }
        }
    }

    /** Keys Docker adds to a container event's attributes besides the container's labels. */
    private static final Set<String> EVENT_KEYS = Set.of("name", "image", "exitCode", "signal", "execDuration", "oldName");

    static ContainerInfo fromEvent(Event e, boolean running) {
        if (e.getActor() == null || e.getActor().getAttributes() == null) {
            return null;
        }
        Map<String, String> attrs = e.getActor().getAttributes();
        Map<String, String> labels = new java.util.HashMap<>(attrs);
        EVENT_KEYS.forEach(labels::remove);
        return new ContainerInfo(e.getId(), attrs.getOrDefault("name", e.getId()),
                attrs.getOrDefault("image", e.getFrom() == null ? "" : e.getFrom()), labels, "", "json-file", running);
    }

    private ContainerInfo inspect(String id) {
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

    private void closeSubscription() {
        Closeable s = subscription;
        if (s != null) {
            try {
                s.close();
            } catch (Exception ignored) {
                // the stream is already broken
            }
        }
    }

    public void stop() {
        running = false;
        closeSubscription();
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The agent's own container id, when it runs in one (from /proc/self/mountinfo), else empty. */
    public static String selfContainerId() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/mountinfo"))) {
                // inside a container, Docker bind-mounts <data-root>/containers/<id>/hostname on /etc/hostname
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("/containers/([0-9a-f]{64})/hostname /etc/hostname ").matcher(line);
                if (m.find()) {
                    return m.group(1);
                }
            }
        } catch (java.io.IOException | RuntimeException ignored) {
            // not on Linux or not readable: not in a container as far as we can tell
        }
        return "";
    }
}
